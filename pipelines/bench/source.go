// Package bench measures the streaming core on Prism against a plain-Go loop doing the same
// work: an in-memory source (the generator's messages, no Pub/Sub) feeds streaming.Core, steady
// (paced by the wall clock, event times following it) or in a burst (as fast as possible, hours
// of event time at once). cmd/bench runs each size in a child process and prints the table.
package bench

import (
	"context"
	"iter"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.DoFn5x2[context.Context, *watermark, *sdf.LockRTracker, []byte,
		func(beam.EventTime, schemas.Message), sdf.ProcessContinuation, error](&sourceFn{})
	register.Emitter2[beam.EventTime, schemas.Message]()
	beam.RegisterType(reflect.TypeOf((*watermark)(nil)))
}

// burstRound is how many messages a burst round emits before checkpointing, so Prism sees
// bundles of a bounded size rather than the whole input at once.
const burstRound = 10_000

// Source emits generate.Messages(gen) as schemas.Message with the timestamp attribute as the
// element timestamp (the publish time, which is the event clock here, when it is missing or
// invalid, marked as the Pub/Sub reader marks it). With gen.Rate > 0 message n is due at
// gen.Start + n/Rate of wall time, and every round (one call) emits what is due, one round
// every round (0: as often as the pipeline takes them); else as fast as possible, in rounds
// of burstRound.
//
// Source: impulse -> PCollection<schemas.Message>
func Source(s beam.Scope, gen generate.Config, round time.Duration) beam.PCollection {
	s = s.Scope("bench.Source")
	return beam.ParDo(s, &sourceFn{Gen: gen, Round: round}, beam.Impulse(s))
}

type sourceFn struct {
	Gen generate.Config
	// Round is how long a steady round waits for messages to fall due, as the Pub/Sub reader's
	// round pulls for MaxRoundTime before it emits.
	Round time.Duration
}

func (fn *sourceFn) CreateInitialRestriction(_ []byte) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: fn.Gen.Count}
}

func (fn *sourceFn) SplitRestriction(_ []byte, r offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{r}
}

func (fn *sourceFn) RestrictionSize(_ []byte, r offsetrange.Restriction) float64 { return r.Size() }

func (fn *sourceFn) CreateTracker(r offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(offsetrange.NewTracker(r))
}

func (fn *sourceFn) InitialWatermarkEstimatorState(_ beam.EventTime, _ offsetrange.Restriction, _ []byte) int64 {
	return int64(mtime.MinTimestamp)
}

func (fn *sourceFn) CreateWatermarkEstimator(millis int64) *watermark { return &watermark{millis} }

func (fn *sourceFn) WatermarkEstimatorState(w *watermark) int64 { return w.millis }

// watermark is the oldest timestamp of the last round: the generator's clocks are monotone but
// for duplicates, which repeat one of the last few valid messages.
type watermark struct{ millis int64 }

func (w *watermark) CurrentWatermark() time.Time { return time.UnixMilli(w.millis) }

func (fn *sourceFn) ProcessElement(ctx context.Context, we *watermark, rt *sdf.LockRTracker, _ []byte,
	emit func(beam.EventTime, schemas.Message)) (sdf.ProcessContinuation, error) {
	r := rt.GetRestriction().(offsetrange.Restriction)
	from, to := r.Start, min(r.End, r.Start+burstRound)
	if fn.Gen.Rate > 0 {
		due := int64(time.Since(fn.Gen.Start).Seconds()*fn.Gen.Rate) + 1
		to = min(r.End, max(from, due), from+4*burstRound)
	}
	oldest := int64(1<<63 - 1)
	next := messages.at(fn.Gen, from)
	defer messages.done()
	for n := from; n < to; n++ {
		if !rt.TryClaim(n) {
			return sdf.StopProcessing(), rt.GetError()
		}
		m := toMessage(fn.Gen, n, next())
		ts := attributeTime(fn.Gen, &m)
		oldest = min(oldest, ts.UnixMilli())
		emit(beam.EventTime(ts.UnixMilli()), m)
	}
	emitted.Add(to - from)
	if oldest > we.millis && oldest != 1<<63-1 {
		we.millis = oldest
	}
	if to >= r.End {
		rt.TryClaim(r.End) // done: the watermark goes to the end of time
		return sdf.StopProcessing(), nil
	}
	if fn.Gen.Rate > 0 {
		wait := time.Until(fn.Gen.Start.Add(time.Duration(float64(to)/fn.Gen.Rate*float64(time.Second)) + fn.Round))
		return sdf.ResumeProcessingIn(max(wait, 10*time.Millisecond)), nil
	}
	return sdf.ResumeProcessingIn(0), nil
}

func toMessage(gen generate.Config, n int64, m generate.Message) schemas.Message {
	return schemas.Message{Data: m.Data, Attributes: m.Attributes, MessageID: strconv.FormatInt(n, 10),
		PublishTime: Clock(gen, n)}
}

// Clock is the event clock (and so the publish time here) of message n.
func Clock(gen generate.Config, n int64) time.Time {
	return gen.Start.Add(time.Duration(n) * generate.IntervalOrDefault(gen.Interval)).UTC().Truncate(time.Millisecond)
}

// attributeTime is the element timestamp of m: its timestamp attribute, or its publish time
// (with TimestampError set when the attribute is there but invalid).
func attributeTime(gen generate.Config, m *schemas.Message) time.Time {
	attr := gen.TimestampAttribute
	if attr == "" {
		attr = generate.DefaultTimestampAttribute
	}
	v, ok := m.Attributes[attr]
	if !ok {
		return m.PublishTime
	}
	ts, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		m.TimestampError = "timestamp attribute " + attr + " invalid"
		return m.PublishTime
	}
	return ts.Truncate(time.Millisecond)
}

// emitted counts the messages the process's source has emitted, for progress samples.
var emitted atomic.Int64

// Emitted is how many messages the source has emitted in this process.
func Emitted() int64 { return emitted.Load() }

// messages is the process's generator, resumed where the previous round stopped (each run is
// one source in its own process); a restriction starting elsewhere regenerates from the start.
var messages generators

type generators struct {
	mu   sync.Mutex
	key  generate.Config
	next func() (generate.Message, bool)
	stop func()
	pos  int64
}

// at locks g and returns a function yielding message from, from+1, ...; done unlocks g. A
// round cut short by a split leaves g elsewhere, and the next round regenerates.
func (g *generators) at(gen generate.Config, from int64) func() generate.Message {
	g.mu.Lock()
	if g.next == nil || g.key != gen || g.pos != from {
		if g.stop != nil {
			g.stop()
		}
		g.next, g.stop = iter.Pull(generate.Messages(gen))
		g.key, g.pos = gen, 0
		for ; g.pos < from; g.pos++ {
			g.next()
		}
	}
	return func() generate.Message {
		m, _ := g.next()
		g.pos++
		return m
	}
}

func (g *generators) done() { g.mu.Unlock() }
