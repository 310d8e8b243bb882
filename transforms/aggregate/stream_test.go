package aggregate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

type step = beamtest.Step

func add(events ...schemas.Event) step {
	return beamtest.AddAt(events[0].EventTime, events...)
}
func watermark(at time.Duration) step    { return beamtest.Watermark(beamtest.T0.Add(at)) }
func processing(d time.Duration) step    { return beamtest.Processing(d) }
func late(e schemas.Event) schemas.Event { e.Late = true; return e }

func stream(t *testing.T, steps []step) teststream.Config { return beamtest.Stream(t, steps) }

// runCollect runs p, whose sinks collect under t.Name(), and returns the collected rows of type T
// sorted by sortKey, and the tributary counters.
func runCollect[T any](t *testing.T, p *beam.Pipeline, sortKey func(T) string) ([]T, map[string]int64) {
	t.Helper()
	// Panes do not arrive in order.
	rows, counters, err := beamtest.Run(t, p, t.Name(), func(a, b T) int { return strings.Compare(sortKey(a), sortKey(b)) })
	if err != nil {
		t.Fatal(err)
	}
	return rows, counters
}

func paneKey(p schemas.Pane) string {
	return fmt.Sprintf("%s/%03d", p.WindowStart.Format(time.RFC3339), p.PaneIndex)
}

func pane(start time.Time, size time.Duration, index int64, timing string, final bool) schemas.Pane {
	return schemas.Pane{WindowStart: start, WindowEnd: start.Add(size), PaneIndex: index, PaneTiming: timing, IsFinal: final}
}

func checkCounters(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for name, w := range want {
		if got[name] != w {
			t.Errorf("counter %s = %d, want %d", name, got[name], w)
		}
	}
}
