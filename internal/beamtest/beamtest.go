// Package beamtest is the test kit of Tributary's transforms and pipelines: it collects a
// pipeline's output in memory, stamps events with their event time, builds test streams and
// runs the benchmarks on Prism. Import it only from _test.go files, as bqtest is.
//
// Prism runs in-process under ptest.Main, so the workers share the test's process: Collect's
// DoFn appends to a mutex-guarded map in this package, and each run collects under its own id
// (usually t.Name()).
package beamtest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/graphx"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn1x0[beam.X](&collectFn{})
	register.DoFn1x0[beam.X](&discardFn{})
	register.Function1x2[schemas.Event, beam.EventTime, schemas.Event](AtEventTime)
}

var (
	collectedMu sync.Mutex
	collected   = map[string][]any{}
)

type collectFn struct{ ID string }

func (fn *collectFn) ProcessElement(x beam.X) {
	collectedMu.Lock()
	defer collectedMu.Unlock()
	collected[fn.ID] = append(collected[fn.ID], x)
}

// Collect keeps every element of col under id, for Collected to read after the run.
func Collect(s beam.Scope, id string, col beam.PCollection) {
	beam.ParDo0(s.Scope("beamtest.Collect"), &collectFn{ID: id}, col)
}

// Reset forgets what was collected under id.
func Reset(id string) {
	collectedMu.Lock()
	defer collectedMu.Unlock()
	delete(collected, id)
}

// Collected is what Collect kept under id, in arrival order, as elements of type T.
func Collected[T any](id string) []T {
	collectedMu.Lock()
	defer collectedMu.Unlock()
	var out []T
	for _, x := range collected[id] {
		out = append(out, x.(T))
	}
	return out
}

// Run runs p on Prism after forgetting what was collected under id, and returns the elements
// collected under id as T (sorted by cmp when it is not nil) and the tributary counters.
// A failed run returns what was collected before the failure with the error.
func Run[T any](t testing.TB, p *beam.Pipeline, id string, cmp func(a, b T) int) ([]T, map[string]int64, error) {
	t.Helper()
	Reset(id)
	pr, err := ptest.RunWithMetrics(p)
	got := Collected[T](id)
	if cmp != nil {
		slices.SortFunc(got, cmp)
	}
	return got, telemetry.FromPipeline(pr).Counters, err
}

// T0 is the start of the test events' event times, 2026-11-01 12:00 UTC: the expected windows,
// rows and file names of the tests are written against it.
var T0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// AtEventTime stamps an event with its event time, as decode does.
func AtEventTime(e schemas.Event) (beam.EventTime, schemas.Event) {
	return beam.EventTime(e.EventTime.UnixMilli()), e
}

// Events is evs as a PCollection<schemas.Event>, each at its event time.
func Events(s beam.Scope, evs []schemas.Event) beam.PCollection {
	return beam.ParDo(s, AtEventTime, beam.CreateList(s, evs))
}

// Step is one event of a test stream: add events, move the watermark, or move processing time.
type Step struct {
	Events     []schemas.Event
	At         time.Time     // with Events: all of them at At; zero: each at its own event time
	Watermark  time.Time     // without Events: move the watermark here
	Processing time.Duration // without Events: move processing time on by this much
}

// Add adds events, each at its own event time.
func Add(events ...schemas.Event) Step { return Step{Events: events} }

// AddAt adds events, all at timestamp at.
func AddAt(at time.Time, events ...schemas.Event) Step { return Step{Events: events, At: at} }

// Watermark moves the watermark to at.
func Watermark(at time.Time) Step { return Step{Watermark: at} }

// Processing moves processing time on by d.
func Processing(d time.Duration) Step { return Step{Processing: d} }

// Stream is the test stream of steps, ending with the watermark at infinity.
func Stream(t testing.TB, steps []Step) teststream.Config {
	t.Helper()
	cfg := teststream.NewConfig()
	for _, st := range steps {
		var err error
		switch {
		case st.Events != nil && !st.At.IsZero():
			evs := make([]any, len(st.Events))
			for i, e := range st.Events {
				evs[i] = e
			}
			err = cfg.AddElements(st.At.UnixMilli(), evs...)
		case st.Events != nil:
			for _, e := range st.Events {
				if err = cfg.AddElements(e.EventTime.UnixMilli(), e); err != nil {
					break
				}
			}
		case st.Processing != 0:
			cfg.AdvanceProcessingTime(st.Processing.Milliseconds())
		default:
			err = cfg.AdvanceWatermark(st.Watermark.UnixMilli())
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

type discardFn struct{}

func (discardFn) ProcessElement(beam.X) {}

// Bench measures build on Prism over evs and reports events/s: build applies the transform
// under test to the events (each at its event time) and returns its output, which is dropped.
func Bench(b *testing.B, evs []schemas.Event, build func(s beam.Scope, events beam.PCollection) beam.PCollection) {
	b.Helper()
	for b.Loop() {
		p, s := beam.NewPipelineWithRoot()
		beam.ParDo0(s, &discardFn{}, build(s, Events(s, evs)))
		if err := ptest.Run(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(evs)*b.N)/b.Elapsed().Seconds(), "events/s")
}

// PipelineProto is p as the runner receives it (the pipeline proto), for tests of unique names,
// URNs and payloads.
func PipelineProto(t testing.TB, p *beam.Pipeline) *pipepb.Pipeline {
	t.Helper()
	edges, _, err := p.Build()
	if err != nil {
		t.Fatal(err)
	}
	pb, err := graphx.Marshal(edges, &graphx.Options{Environment: &pipepb.Environment{Urn: "beam:env:docker:v1"}})
	if err != nil {
		t.Fatal(err)
	}
	return pb
}
