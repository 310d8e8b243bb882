package telemetry

import (
	"context"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
)

// Namespace is the Beam metrics namespace of every Tributary metric.
const Namespace = "tributary"

// StateRequests counts the user-state calls (read, add, write, clear) and timer sets of the
// stateful DoFns (dedup, sessions, fraud): on the Go SDK each state call is a round trip to the
// runner, so this per event is what state costs.
const StateRequests = "state.requests"

var local sync.Map // name -> *atomic.Int64

func localTotal(name string) *atomic.Int64 {
	if v, ok := local.Load(name); ok {
		return v.(*atomic.Int64)
	}
	v, _ := local.LoadOrStore(name, new(atomic.Int64))
	return v.(*atomic.Int64)
}

// Counter is a Beam counter under the tributary namespace, mirrored locally.
type Counter struct {
	beam  beam.Counter
	total *atomic.Int64
}

// NewCounter returns the counter with the given name, e.g. "decode.in" or "deadletter.invalid_json".
func NewCounter(name string) Counter {
	return Counter{beam: beam.NewCounter(Namespace, name), total: localTotal(name)}
}

// Inc adds n.
func (c Counter) Inc(ctx context.Context, n int64) {
	c.beam.Inc(ctx, n)
	c.total.Add(n)
}

// Distribution is a Beam distribution under the tributary namespace.
type Distribution struct{ beam beam.Distribution }

// NewDistribution returns the distribution with the given name, e.g. "event_lag_ms".
func NewDistribution(name string) Distribution {
	return Distribution{beam: beam.NewDistribution(Namespace, name)}
}

// Update records one value.
func (d Distribution) Update(ctx context.Context, v int64) { d.beam.Update(ctx, v) }

// LagMillis records processing time minus event time in the event_lag_ms distribution.
func LagMillis(ctx context.Context, d Distribution, eventTime time.Time) {
	d.Update(ctx, time.Since(eventTime).Milliseconds())
}

// Snapshot returns the process-local totals of every counter incremented in this process.
func Snapshot() map[string]int64 {
	out := map[string]int64{}
	local.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

// Names returns the keys of m sorted.
func Names(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Results are the tributary metrics of a finished pipeline, summed over steps.
type Results struct {
	Counters      map[string]int64
	Distributions map[string]metrics.DistributionValue
}

// FromPipeline reads the committed (or, where the runner reports none, attempted) tributary
// metrics of a pipeline result.
func FromPipeline(pr beam.PipelineResult) Results {
	r := Results{Counters: map[string]int64{}, Distributions: map[string]metrics.DistributionValue{}}
	if pr == nil {
		return r
	}
	q := pr.Metrics().Query(func(sr metrics.SingleResult) bool { return sr.Namespace() == Namespace })
	for _, c := range q.Counters() {
		r.Counters[c.Name()] += c.Result()
	}
	for _, d := range q.Distributions() {
		v, prev := d.Result(), r.Distributions[d.Name()]
		if prev.Count > 0 {
			v = metrics.DistributionValue{Count: v.Count + prev.Count, Sum: v.Sum + prev.Sum, Min: min(v.Min, prev.Min), Max: max(v.Max, prev.Max)}
		}
		r.Distributions[d.Name()] = v
	}
	return r
}
