package archive

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*pane)(nil)).Elem())
	register.DoFn3x1[beam.Window, int, int, pane](&probeFn{})
	register.Function1x2[schemas.Message, int, int](fixedKey)
}

// pane is one fired window and how many partitions the reader had listed when it arrived.
type pane struct {
	WindowStart        time.Time
	Count              int
	PartitionsAtFiring int64
}

// probeFn reads the reader's partition counter (process-local: Prism runs the workers in the
// test's process) when a window's count arrives.
type probeFn struct{ Baseline int64 }

func (fn *probeFn) ProcessElement(w beam.Window, _ int, n int) pane {
	return pane{
		WindowStart:        w.(window.IntervalWindow).Start.ToTime().UTC(),
		Count:              n,
		PartitionsAtFiring: telemetry.Snapshot()[MetricPartitions] - fn.Baseline,
	}
}

func fixedKey(schemas.Message) (int, int) { return 0, 1 }

// TestPacedWatermarkAdvances: with one message per hour over twelve hours and hourly windows,
// the paced reader's watermark closes the first hour's window while later partitions are still
// unread; a batch read fires every window only after it has listed everything (which shows the
// probe can tell the two apart).
func TestPacedWatermarkAdvances(t *testing.T) {
	const hours = 12
	tests := []struct {
		paced bool
		// wantEarly: the first window fired before the last partition was listed.
		wantEarly bool
	}{
		{paced: true, wantEarly: true},
		{paced: false, wantEarly: false},
	}
	for _, tc := range tests {
		t.Run(mode(tc.paced), func(t *testing.T) {
			dir := t.TempDir()
			var parts []string
			for h := range hours {
				start := t0.Add(time.Duration(h) * time.Hour)
				writeWAL(t, dir, msg(fmt.Sprint("m", h), start.Add(11*time.Minute), start.Add(10*time.Minute).Format(time.RFC3339)))
				parts = append(parts, partition(h))
			}
			cfg := ReadConfig{Directory: dir, Partitions: parts, TimestampAttribute: attr, Paced: tc.paced}
			if tc.paced {
				cfg.Lateness = 30 * time.Minute
				cfg.PartitionDelay = 200 * time.Millisecond // orders the test under load; without it the windows close as early here (measured)
			}
			p, s := beam.NewPipelineWithRoot()
			res := Read(s, cfg)
			windowed := beam.WindowInto(s, window.NewFixedWindows(time.Hour), res.Messages)
			counts := stats.SumPerKey(s, beam.ParDo(s, fixedKey, windowed))
			baseline := telemetry.Snapshot()[MetricPartitions]
			beamtest.Collect(s, t.Name(), beam.ParDo(s, &probeFn{Baseline: baseline}, counts))
			got, _, err := beamtest.Run(t, p, t.Name(), func(a, b pane) int { return a.WindowStart.Compare(b.WindowStart) })
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("panes: %+v", got)
			if len(got) != hours || slices.ContainsFunc(got, func(p pane) bool { return p.Count != 1 }) {
				t.Fatalf("got %d panes %+v, want %d of one message each", len(got), got, hours)
			}
			if early := got[0].PartitionsAtFiring < hours; early != tc.wantEarly {
				t.Errorf("the first hour's window fired with %d of %d partitions listed; want early = %v",
					got[0].PartitionsAtFiring, hours, tc.wantEarly)
			}
		})
	}
}

// TestPacedMarksMessagesBehindItsWatermark: a message published in hour 1 with an event time
// before start(hour 1) − Lateness comes behind the paced reader's watermark and carries the
// reader's mark (so windowed steps count it late); a batch read never marks.
func TestPacedMarksMessagesBehindItsWatermark(t *testing.T) {
	onTime := msg("on-time", t0.Add(time.Minute), t0.Format(time.RFC3339))
	late := msg("late", t0.Add(61*time.Minute), t0.Add(10*time.Minute).Format(time.RFC3339))
	for _, paced := range []bool{false, true} {
		t.Run(mode(paced), func(t *testing.T) {
			dir := t.TempDir()
			writeWAL(t, dir, onTime, late)
			cfg := ReadConfig{Directory: dir, Partitions: []string{partition(0), partition(1)}, TimestampAttribute: attr, Paced: paced}
			wantLate := late
			if paced {
				cfg.Lateness = 30 * time.Minute // the watermark is 10:30 while hour 11 is read
				wantLate.BehindWatermark = t0.Add(30 * time.Minute)
			}
			got, _, counts := runRead(t, cfg)
			want := []stamped{{t0.Add(10 * time.Minute).UnixMilli(), wantLate}, {t0.UnixMilli(), onTime}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			if wantN := int64(map[bool]int{true: 1}[paced]); counts[MetricBehindWatermark] != wantN {
				t.Errorf("%s = %d, want %d", MetricBehindWatermark, counts[MetricBehindWatermark], wantN)
			}
		})
	}
}
