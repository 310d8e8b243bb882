package dedup

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function2x1[beam.EventTime, schemas.Event, string](render)
}

// render shows an event with its element timestamp, so the test checks both.
func render(ts beam.EventTime, e schemas.Event) string {
	return fmt.Sprintf("%s@%s", e.EventID, ts.ToTime().UTC().Format("15:04:05"))
}

type batch struct {
	watermark time.Duration // advance the watermark to T0 + this before adding (0: don't)
	at        time.Duration // element timestamps and event times: T0 + at
	published time.Duration // publish times: T0 + this (0: unset, as for input not from Pub/Sub)
	ids       []string
}

func TestDedup(t *testing.T) {
	tests := []struct {
		name    string
		horizon time.Duration
		batches []batch
		want    []string // sorted
		dups    int64
	}{
		{
			name:    "redeliveries within the horizon are dropped",
			horizon: 10 * time.Minute,
			batches: []batch{{at: 0, ids: []string{"a", "b", "a", "c", "b", "a"}}},
			want:    []string{"a@12:00:00", "b@12:00:00", "c@12:00:00"},
			dups:    3,
		},
		{
			name:    "an id is forgotten once the watermark passes event time + horizon",
			horizon: 10 * time.Minute,
			batches: []batch{
				{at: 0, ids: []string{"a", "a"}},
				{watermark: 5 * time.Minute, at: 0, ids: []string{"a"}},
				{watermark: 11 * time.Minute, at: 0, ids: []string{"a"}},
			},
			want: []string{"a@12:00:00", "a@12:00:00"},
			dups: 2,
		},
		{
			// Behind watermark - horizon, event time + horizon is already past: the expiry must
			// not fire before the second copy, one second later, arrives.
			name:    "copies of a late event one second apart: the second is dropped",
			horizon: 10 * time.Minute,
			batches: []batch{
				{watermark: time.Hour, at: 0, published: time.Hour, ids: []string{"late"}},
				{watermark: time.Hour + time.Second, at: 0, published: time.Hour + time.Second, ids: []string{"late"}},
			},
			want: []string{"late@12:00:00"},
			dups: 1,
		},
		{
			name:    "copies of a late event: forgotten once the watermark passes publish time + horizon",
			horizon: 10 * time.Minute,
			batches: []batch{
				{watermark: time.Hour, at: 0, published: time.Hour, ids: []string{"late", "late"}},
				{watermark: time.Hour + 9*time.Minute, at: 0, published: time.Hour + 9*time.Minute, ids: []string{"late"}},
				{watermark: time.Hour + 11*time.Minute, at: 0, published: time.Hour + 11*time.Minute, ids: []string{"late"}},
			},
			want: []string{"late@12:00:00", "late@12:00:00"},
			dups: 2,
		},
		{
			name:    "an on-time event published after its time is remembered from its publish time",
			horizon: 10 * time.Minute,
			batches: []batch{
				{at: 0, published: 5 * time.Minute, ids: []string{"a"}},
				{watermark: 12 * time.Minute, at: 0, published: 12 * time.Minute, ids: []string{"a"}},
				{watermark: 16 * time.Minute, at: 0, published: 16 * time.Minute, ids: []string{"a"}},
			},
			want: []string{"a@12:00:00", "a@12:00:00"},
			dups: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var steps []beamtest.Step
			for _, b := range tc.batches {
				if b.watermark > 0 {
					steps = append(steps, beamtest.Watermark(beamtest.T0.Add(b.watermark)))
				}
				var evs []schemas.Event
				for _, id := range b.ids {
					e := schemas.Event{EventID: id, EventType: schemas.PageView, EventTime: beamtest.T0.Add(b.at), UserID: "u"}
					if b.published > 0 {
						e.PublishTime = beamtest.T0.Add(b.published)
					}
					evs = append(evs, e)
				}
				steps = append(steps, beamtest.AddAt(beamtest.T0.Add(b.at), evs...))
			}
			p, s := beam.NewPipelineWithRoot()
			out := Dedup(s, teststream.Create(s, beamtest.Stream(t, steps)), Config{Horizon: tc.horizon})
			beamtest.Collect(s, t.Name(), beam.ParDo(s, render, out))
			got, counters, err := beamtest.Run(t, p, t.Name(), strings.Compare)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
			if got := counters["dedup.duplicates"]; got != tc.dups {
				t.Errorf("dedup.duplicates = %d, want %d", got, tc.dups)
			}
		})
	}
}
