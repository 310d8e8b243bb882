// Package dedup drops redelivered events: Pub/Sub delivers at least once, and producers retry.
package dedup

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn2x2[beam.EventTime, schemas.Event, int64, schemas.Event](&keyFn{})
	register.DoFn7x1[context.Context, beam.EventTime, state.Provider, timers.Provider, int64, schemas.Event,
		func(beam.EventTime, schemas.Event), error](&dedupFn{})
	register.Emitter2[beam.EventTime, schemas.Event]()
}

// DefaultHorizon is how long an event id is remembered by default.
const DefaultHorizon = 10 * time.Minute

// DefaultBuckets is the number of hash buckets of event ids per event-time minute.
const DefaultBuckets = 256

// Config configures Dedup.
type Config struct {
	// Horizon is how long an event id is remembered: until the watermark passes its event time
	// or its first copy's publish time, whichever is later, plus Horizon, rounded up to the
	// whole minute (Expiry).
	Horizon time.Duration
	// Buckets is how many state keys share one event-time minute (0: DefaultBuckets). Part of
	// the state layout: changing it is a relaunch, not an update in place.
	Buckets int
}

// Dedup keeps the first event of each event_id seen within the horizon and counts the rest in
// dedup.duplicates, late events included: an id is remembered until the watermark passes
// max(event time, publish time of its first copy) + Horizon, rounded up to the whole minute.
// The publish time (Pub/Sub's clock, kept in the archive, so a replay decides the same) is the
// floor a late event needs: its event time + Horizon may already be behind the watermark, and
// an expiry set there would forget the id before the next copy. The source's watermark follows
// message times near their publish times, so the floor keeps a late id about Horizon beyond the
// watermark at its arrival. A zero publish time (an input not from Pub/Sub) leaves the event
// time alone.
//
// State is keyed by (hash bucket of the event id, event-time minute): every copy of an event
// has the same payload and so the same event time and key. One key holds the ids of many
// events and one expiry timer per distinct expiry minute (one for all on-time events of the
// minute), instead of one key and one pending timer per event.
//
// Dedup: PCollection<schemas.Event> -> PCollection<schemas.Event>
func Dedup(s beam.Scope, events beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("dedup.Dedup")
	if cfg.Horizon <= 0 {
		cfg.Horizon = DefaultHorizon
	}
	if cfg.Buckets <= 0 {
		cfg.Buckets = DefaultBuckets
	}
	keyed := beam.ParDo(s, &keyFn{Buckets: int64(cfg.Buckets)}, events)
	return beam.ParDo(s, &dedupFn{
		Horizon: cfg.Horizon,
		Seen:    state.MakeBagState[string]("seen"),
		Expiry:  timers.InEventTime("expiry"),
	}, keyed)
}

// keyFn keys an event by StateKey.
type keyFn struct {
	Buckets int64
}

func (fn *keyFn) ProcessElement(ts beam.EventTime, e schemas.Event) (int64, schemas.Event) {
	return StateKey(e.EventID, e.EventTime, fn.Buckets), e
}

// StateKey is the state key of an event: event-time minutes since the epoch (rounded up) ×
// buckets + the FNV-1a hash of the id modulo buckets. It depends on the id and the event time
// only, so every copy lands on the same key, on any runner and in any process (FNV is fixed,
// unlike Go's seeded map hash), and it is an int64 (a deterministic varint key coder).
func StateKey(id string, eventTime time.Time, buckets int64) int64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return ceilMinute(eventTime)*buckets + int64(h.Sum64()%uint64(buckets))
}

// ceilMinute is t in minutes since the epoch, rounded up.
func ceilMinute(t time.Time) int64 {
	ms := t.UnixMilli()
	m := ms / 60_000
	if ms%60_000 > 0 {
		m++
	}
	return m
}

// dedupFn remembers each id of a key in a bag of entries (EncodeEntry) until the event-time
// timer tagged with the entry's expiry minute clears it. It has no processing-time timer
// beside it: a second timer family hangs on Prism v2.77 (README, Known limitations). Every
// state call is a round trip to the runner: an event costs a read and an add, and a timer set
// only when its expiry minute is new to the key; a firing costs a read and a clear per key.
type dedupFn struct {
	Horizon time.Duration
	Seen    state.Bag[string]
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
	_ int64, e schemas.Event, emit func(beam.EventTime, schemas.Event)) error {
	fn.in.Inc(ctx, 1)
	// A state failure fails the bundle, so the input is retried rather than lost.
	fn.requests.Inc(ctx, 1)
	entries, _, err := fn.Seen.Read(sp)
	if err != nil {
		return fmt.Errorf("dedup: reading state of %q: %w", e.EventID, err)
	}
	// Both times are bounded (decode bounds event times, Pub/Sub's clock the publish time), so
	// every key is cleared once the watermark passes them.
	expiry := ceilMinute(Expiry(ts.ToTime(), e.PublishTime, fn.Horizon))
	timerSet := false
	for _, en := range entries {
		exp, id, err := DecodeEntry(en)
		if err != nil {
			return fmt.Errorf("dedup: state of %q: %w", e.EventID, err)
		}
		if id == e.EventID {
			fn.duplicates.Inc(ctx, 1)
			return nil
		}
		timerSet = timerSet || exp == expiry
	}
	fn.requests.Inc(ctx, 1)
	if err := fn.Seen.Add(sp, EncodeEntry(expiry, e.EventID)); err != nil {
		return fmt.Errorf("dedup: writing state of %q: %w", e.EventID, err)
	}
	if !timerSet {
		// No output timestamp: the timer only clears state, so it must not hold the watermark
		// back by the horizon. The tag is the expiry minute, so OnTimer knows which entries
		// it expires (the SDK passes it the hold, not the firing time).
		fn.requests.Inc(ctx, 1)
		fn.Expiry.Set(tp, time.UnixMilli(expiry*60_000), timers.WithTag(strconv.FormatInt(expiry, 10)),
			timers.WithNoOutputTimestamp())
	}
	fn.out.Inc(ctx, 1)
	emit(ts, e)
	return nil
}

// Expiry is when an id whose first copy has these times is forgotten: once the watermark
// passes this time (max(event time, publish time) + horizon), rounded up to the whole minute.
func Expiry(eventTime, publishTime time.Time, horizon time.Duration) time.Time {
	return time.UnixMilli(ceilMinute(horizonStart(eventTime, publishTime).Add(horizon)) * 60_000)
}

// horizonStart is the later of an event's time and its first copy's publish time (zero when
// unknown); for an event that arrives behind the watermark that is the publish time.
func horizonStart(eventTime, publishTime time.Time) time.Time {
	if publishTime.After(eventTime) {
		return publishTime
	}
	return eventTime
}

// OnTimer forgets the key's ids that expire at or before the timer's minute and keeps the rest
// (ids of late events, whose expiry follows their publish time). It emits nothing; Beam
// requires it to declare the same emitter.
func (fn *dedupFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, _ int64, tc timers.Context,
	_ func(beam.EventTime, schemas.Event)) error {
	at, err := strconv.ParseInt(tc.Tag, 10, 64)
	if err != nil {
		return fmt.Errorf("dedup: timer tag %q: %w", tc.Tag, err)
	}
	fn.requests.Inc(ctx, 1)
	entries, ok, err := fn.Seen.Read(sp)
	if err != nil || !ok {
		return err
	}
	var keep []string
	for _, en := range entries {
		exp, _, err := DecodeEntry(en)
		if err != nil {
			return fmt.Errorf("dedup: state at expiry: %w", err)
		}
		if exp > at {
			keep = append(keep, en)
		}
	}
	fn.requests.Inc(ctx, 1)
	if err := fn.Seen.Clear(sp); err != nil {
		return err
	}
	for _, en := range keep {
		fn.requests.Inc(ctx, 1)
		if err := fn.Seen.Add(sp, en); err != nil {
			return err
		}
	}
	return nil
}

// EncodeEntry is one remembered id as dedup's state holds it: its expiry in minutes since the
// epoch, a colon, the id (the bag's coder is Beam's string coder).
func EncodeEntry(expiryMinute int64, id string) string {
	return strconv.FormatInt(expiryMinute, 10) + ":" + id
}

// DecodeEntry reverses EncodeEntry.
func DecodeEntry(s string) (expiryMinute int64, id string, err error) {
	m, id, ok := strings.Cut(s, ":")
	if !ok {
		return 0, "", fmt.Errorf("entry without expiry")
	}
	expiryMinute, err = strconv.ParseInt(m, 10, 64)
	return expiryMinute, id, err
}
