// Package dedup drops redelivered events: Pub/Sub delivers at least once, and producers retry.
package dedup

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.Function2x2[beam.EventTime, schemas.Event, string, schemas.Event](keyByEventID)
	register.DoFn7x1[context.Context, beam.EventTime, state.Provider, timers.Provider, string, schemas.Event,
		func(beam.EventTime, schemas.Event), error](&dedupFn{})
	register.Emitter2[beam.EventTime, schemas.Event]()
}

// DefaultHorizon is how long an event id is remembered by default.
const DefaultHorizon = 10 * time.Minute

// Config configures Dedup.
type Config struct {
	// Horizon is how long an event id is remembered: until the watermark passes its event time
	// or its first copy's publish time, whichever is later, plus Horizon.
	Horizon time.Duration
}

// Dedup keeps the first event of each event_id seen within the horizon and counts the rest in
// dedup.duplicates, late events included: an id is remembered until the watermark passes
// max(event time, publish time of its first copy) + Horizon. The publish time (Pub/Sub's clock,
// kept in the archive, so a replay decides the same) is the floor a late event needs: its event
// time + Horizon may already be behind the watermark, and an expiry timer set there would fire
// at once and forget the id before the next copy. The source's watermark follows message times
// near their publish times, so the floor keeps a late id about Horizon beyond the watermark at
// its arrival. A zero publish time (an input not from Pub/Sub) leaves the event time alone.
//
// Dedup: PCollection<schemas.Event> -> PCollection<schemas.Event>
func Dedup(s beam.Scope, events beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("dedup.Dedup")
	if cfg.Horizon <= 0 {
		cfg.Horizon = DefaultHorizon
	}
	keyed := beam.ParDo(s, keyByEventID, events)
	return beam.ParDo(s, &dedupFn{
		Horizon: cfg.Horizon,
		Seen:    state.MakeBagState[bool]("seen"),
		Expiry:  timers.InEventTime("expiry"),
	}, keyed)
}

func keyByEventID(ts beam.EventTime, e schemas.Event) (string, schemas.Event) { return e.EventID, e }

// dedupFn remembers each key in state until an event-time timer at max(event time, publish
// time) + Horizon clears it. It has no processing-time timer beside it: a second timer family
// hangs on Prism v2.77 (README, Known limitations). Every state call is a round trip to the
// runner, so it uses a bag: reading it is one call and adding to it is one (a ValueState write
// is two: clear and append).
type dedupFn struct {
	Horizon time.Duration
	Seen    state.Bag[bool]
	Expiry  timers.EventTime

	in, out, duplicates telemetry.Counter
	requests            telemetry.Counter // state and timer calls, telemetry.StateRequests
}

func (fn *dedupFn) Setup() {
	fn.in = telemetry.NewCounter("dedup.in")
	fn.out = telemetry.NewCounter("dedup.out")
	fn.duplicates = telemetry.NewCounter("dedup.duplicates")
	fn.requests = telemetry.NewCounter(telemetry.StateRequests)
}

func (fn *dedupFn) ProcessElement(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider,
	_ string, e schemas.Event, emit func(beam.EventTime, schemas.Event)) error {
	fn.in.Inc(ctx, 1)
	// A state failure fails the bundle, so the input is retried rather than lost.
	fn.requests.Inc(ctx, 1)
	if _, seen, err := fn.Seen.Read(sp); err != nil {
		return fmt.Errorf("dedup: reading state of %q: %w", e.EventID, err)
	} else if seen {
		fn.duplicates.Inc(ctx, 1)
		return nil
	}
	fn.requests.Inc(ctx, 1)
	if err := fn.Seen.Add(sp, true); err != nil {
		return fmt.Errorf("dedup: writing state of %q: %w", e.EventID, err)
	}
	// No output timestamp: the timer only clears state, so it must not hold the watermark back
	// by the horizon. Both times are bounded (decode bounds event times, Pub/Sub's clock the
	// publish time), so every key is cleared once the watermark passes them.
	fn.requests.Inc(ctx, 1)
	fn.Expiry.Set(tp, horizonStart(ts.ToTime(), e.PublishTime).Add(fn.Horizon), timers.WithNoOutputTimestamp())
	fn.out.Inc(ctx, 1)
	emit(ts, e)
	return nil
}

// horizonStart is the later of an event's time and its first copy's publish time (zero when
// unknown); for an event that arrives behind the watermark that is the publish time.
func horizonStart(eventTime, publishTime time.Time) time.Time {
	if publishTime.After(eventTime) {
		return publishTime
	}
	return eventTime
}

// OnTimer forgets the key. It emits nothing; Beam requires it to declare the same emitter.
func (fn *dedupFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, _ string, _ timers.Context,
	_ func(beam.EventTime, schemas.Event)) error {
	fn.requests.Inc(ctx, 1)
	return fn.Seen.Clear(sp)
}
