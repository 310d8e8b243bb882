package backfill

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestResolveRange(t *testing.T) {
	now := time.Date(2026, 3, 10, 14, 25, 0, 0, time.UTC)
	h := func(d, hr int) time.Time { return time.Date(2026, 3, d, hr, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name, from, to, rng string
		wantFrom, wantTo    time.Time
		wantErr             bool
	}{
		{name: "previous-day", rng: "previous-day", wantFrom: h(9, 0), wantTo: h(10, 0)},
		{name: "previous-hour", rng: "previous-hour", wantFrom: h(10, 13), wantTo: h(10, 14)},
		{name: "relative from", from: "-24h", wantFrom: h(9, 14), wantTo: h(10, 14)},
		{name: "absolute", from: "2026-03-09T02:00:00Z", to: "2026-03-09T05:00:00Z", wantFrom: h(9, 2), wantTo: h(9, 5)},
		{name: "not whole hour", from: "2026-03-09T02:30:00Z", wantErr: true},
		{name: "empty", wantErr: true},
		{name: "to before from", from: "2026-03-09T05:00:00Z", to: "2026-03-09T02:00:00Z", wantErr: true},
		{name: "range and from", from: "-1h", rng: "previous-day", wantErr: true},
		{name: "unknown range", rng: "last-week", wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, to, err := ResolveRange(tc.from, tc.to, tc.rng, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if !f.Equal(tc.wantFrom) || !to.Equal(tc.wantTo) {
				t.Errorf("got [%v, %v), want [%v, %v)", f, to, tc.wantFrom, tc.wantTo)
			}
		})
	}
}

func TestPartitions(t *testing.T) {
	from := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name              string
		to                time.Time
		context, lateness time.Duration
		want              []string
	}{
		{name: "one hour", to: from.Add(time.Hour), want: []string{"dt=2026-03-10/hr=00"}},
		{name: "context crosses the day", to: from.Add(time.Hour), context: 90 * time.Minute, lateness: 10 * time.Minute,
			want: []string{"dt=2026-03-09/hr=22", "dt=2026-03-09/hr=23", "dt=2026-03-10/hr=00", "dt=2026-03-10/hr=01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Partitions(from, tc.to, tc.context, tc.lateness)); diff != "" {
				t.Errorf("partitions (-want +got):\n%s", diff)
			}
		})
	}
}
