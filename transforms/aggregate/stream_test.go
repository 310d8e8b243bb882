package aggregate

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn1x0[schemas.ProductMetric](&collectMetricFn{})
	register.DoFn1x0[schemas.TrendingProducts](&collectTrendingFn{})
}

// Rows collected by the pipelines of the running test. Prism runs in-process, so the workers
// share this process; each run collects under its own id.
var (
	collectedMu sync.Mutex
	collected   = map[string][]any{}
)

func collect(id string, row any) {
	collectedMu.Lock()
	defer collectedMu.Unlock()
	collected[id] = append(collected[id], row)
}

type collectMetricFn struct{ ID string }

func (fn *collectMetricFn) ProcessElement(r schemas.ProductMetric) { collect(fn.ID, r) }

type collectTrendingFn struct{ ID string }

func (fn *collectTrendingFn) ProcessElement(r schemas.TrendingProducts) { collect(fn.ID, r) }

// step is one event of a test stream: add events at t0 + at, move the watermark to t0 + at, or
// move processing time on by at.
type step struct {
	op     string // "add", "watermark", "processing"
	at     time.Duration
	events []schemas.Event
}

func add(events ...schemas.Event) step {
	return step{op: "add", at: events[0].EventTime.Sub(t0), events: events}
}
func watermark(at time.Duration) step    { return step{op: "watermark", at: at} }
func processing(d time.Duration) step    { return step{op: "processing", at: d} }
func late(e schemas.Event) schemas.Event { e.Late = true; return e }

// stream builds the test stream of steps, ending with the watermark at infinity.
func stream(t *testing.T, steps []step) teststream.Config {
	t.Helper()
	cfg := teststream.NewConfig()
	for _, st := range steps {
		var err error
		switch st.op {
		case "add":
			var evs []any
			for _, e := range st.events {
				evs = append(evs, e)
			}
			err = cfg.AddElements(t0.Add(st.at).UnixMilli(), evs...)
		case "watermark":
			err = cfg.AdvanceWatermark(t0.Add(st.at).UnixMilli())
		case "processing":
			cfg.AdvanceProcessingTime(st.at.Milliseconds())
		default:
			err = fmt.Errorf("unknown step %q", st.op)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := cfg.AdvanceWatermarkToInfinity(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// runCollect runs p, whose sinks collect under t.Name(), and returns the collected rows of type T
// sorted by sortKey, and the tributary counters.
func runCollect[T any](t *testing.T, p *beam.Pipeline, sortKey func(T) string) ([]T, map[string]int64) {
	t.Helper()
	collectedMu.Lock()
	delete(collected, t.Name())
	collectedMu.Unlock()
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}
	collectedMu.Lock()
	defer collectedMu.Unlock()
	var rows []T
	for _, r := range collected[t.Name()] {
		rows = append(rows, r.(T))
	}
	// Panes do not arrive in order.
	slices.SortFunc(rows, func(a, b T) int { return strings.Compare(sortKey(a), sortKey(b)) })
	return rows, telemetry.FromPipeline(pr).Counters
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
