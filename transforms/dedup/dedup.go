// Package dedup drops redelivered events: Pub/Sub delivers at least once, and producers retry.
package dedup

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn4x0[beam.EventTime, schemas.Event, func(int64, []byte), func(int64, []byte)](&keyFn{})
	register.Function3x0[int64, func(*[]byte) bool, func(int64, []byte)](collect)
	register.DoFn7x1[context.Context, beam.EventTime, state.Provider, timers.Provider, int64, []byte,
		func(beam.EventTime, schemas.Event), error](&dedupFn{})
	register.Emitter2[int64, []byte]()
	register.Emitter2[beam.EventTime, schemas.Event]()
	register.Iter1[[]byte]()
}

// Defaults of Config.
const (
	DefaultHorizon = 10 * time.Minute
	DefaultBuckets = 4
	DefaultBatch   = time.Second
)

// lateness is the batching windows' allowed lateness, so that no event reaching them is dropped
// as late: events decode marked Late skip the batching, and the rest trail the watermark by
// decode's lateness budget at most, far less than this.
const lateness = 200 * 365 * 24 * time.Hour

// Config configures Dedup.
type Config struct {
	// Horizon is how long an event id is remembered: until the watermark passes its event time
	// or its first copy's publish time, whichever is later, plus Horizon, rounded up to a whole
	// Batch.
	Horizon time.Duration
	// Buckets splits each Batch of event time into this many state keys (by a fixed hash of
	// event_id), so one key's batch is not a hot spot on a runner that spreads keys over workers.
	Buckets int
	// Batch is the event-time span whose events are decided together, in one state read and
	// one write per bucket: it must divide the windows downstream (an output element trails the
	// watermark by less than Batch).
	Batch time.Duration
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
// Events are batched before the state: a GroupByKey in fixed event-time windows of Batch,
// keyed by (window, bucket), emits each key's on-time events together once the watermark
// passes the window, and each late event as it comes (the default trigger); one stateful call
// per batch reads the key's ids once, writes the new ones once and sets one timer per expiry.
// A copy has the payload of its original, so the same event time and key. Of copies decided in
// the same batch, the one published first is kept (Pub/Sub delivers in about publish order;
// before batching, the first to arrive was). Every event is emitted at its own timestamp.
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
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	keyed, late := beam.ParDo2(s, &keyFn{Buckets: cfg.Buckets, Batch: cfg.Batch}, events)
	windowed := beam.WindowInto(s, window.NewFixedWindows(cfg.Batch), keyed, beam.AllowedLateness(lateness))
	batches := beam.ParDo(s, collect, beam.GroupByKey(s, windowed))
	// Back in the global window with the default trigger, as the input was, so nothing
	// downstream inherits the batching windows; the key carries the window.
	global := beam.Flatten(s, beam.WindowInto(s, window.NewGlobalWindows(), batches), late)
	return beam.ParDo(s, &dedupFn{
		Horizon: cfg.Horizon,
		Batch:   cfg.Batch,
		Seen:    state.MakeBagState[[]byte]("seen"),
		Expiry:  timers.InEventTime("expiry"),
	}, global)
}

// BatchFor is the longest Batch of at most DefaultBatch that divides every one of windows (whole
// milliseconds; zeros are skipped): an event leaves Dedup up to one Batch behind the watermark,
// and a window downstream that ended inside its batch would take it as late.
func BatchFor(windows ...time.Duration) time.Duration {
	b := DefaultBatch.Milliseconds()
	for _, w := range windows {
		for m := w.Milliseconds(); m > 0; {
			b, m = m, b%m
		}
	}
	return time.Duration(b) * time.Millisecond
}

// StateKey is the key of an event's batch and state: its Batch-long span of event time and the
// FNV-1a hash of its id modulo buckets. FNV is fixed (unlike Go's seeded map hash), so the key is
// the same on every runner and in every process.
func StateKey(ts time.Time, id string, buckets int, batch time.Duration) int64 {
	h := fnv.New32a()
	h.Write([]byte(id))
	span := ts.UnixMilli() / batch.Milliseconds()
	if ts.UnixMilli()%batch.Milliseconds() < 0 {
		span-- // floor, for times before 1970
	}
	return span*int64(buckets) + int64(h.Sum32()%uint32(buckets))
}

// keyFn keys an event by StateKey and carries its timestamp in the value (a GroupByKey
// output's timestamp is the end of its window). An event decode marked Late goes straight to
// the state as a batch of one: its event time may be older than any allowed lateness.
type keyFn struct {
	Buckets int
	Batch   time.Duration
}

func (fn *keyFn) ProcessElement(ts beam.EventTime, e schemas.Event, batched, late func(int64, []byte)) {
	key := StateKey(ts.ToTime(), e.EventID, fn.Buckets, fn.Batch)
	if e.Late {
		late(key, joinBatch([][]byte{encodeStamped(ts, e)}))
		return
	}
	batched(key, encodeStamped(ts, e))
}

// collect turns a pane into one value: a stateful DoFn needs a key and one value.
func collect(key int64, values func(*[]byte) bool, emit func(int64, []byte)) {
	var all [][]byte
	var v []byte
	for values(&v) {
		all = append(all, v)
	}
	emit(key, joinBatch(all))
}

// dedupFn decides a batch of one key against the key's ids in state, which an event-time
// timer per expiry (tagged with it: the Go SDK passes OnTimer the hold, not the firing time)
// prunes. It has no processing-time timer beside it: a second timer family hangs on Prism
// v2.77 (README, Known limitations). Every state call is a round trip to the runner, so the
// ids are a bag of chunks: reading them is one call and adding a batch's new ids is one.
type dedupFn struct {
	Horizon time.Duration
	Batch   time.Duration
	Seen    state.Bag[[]byte]
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

func (fn *dedupFn) ProcessElement(ctx context.Context, _ beam.EventTime, sp state.Provider, tp timers.Provider,
	key int64, batch []byte, emit func(beam.EventTime, schemas.Event)) error {
	evs, err := decodeBatch(batch)
	if err != nil {
		return fmt.Errorf("dedup: decoding a batch of key %d: %w", key, err)
	}
	fn.in.Inc(ctx, int64(len(evs)))
	// The copy published first is kept; the rest of the order only makes the choice total.
	slices.SortStableFunc(evs, func(a, b stamped) int {
		if c := a.Event.PublishTime.Compare(b.Event.PublishTime); c != 0 {
			return c
		}
		return cmp.Compare(a.Event.MessageID, b.Event.MessageID)
	})
	// A state failure fails the bundle, so the batch is retried rather than lost.
	known, err := fn.read(ctx, sp, key)
	if err != nil {
		return err
	}
	seen := make(map[string]bool, len(known)+len(evs))
	for _, en := range known {
		seen[en.ID] = true
	}
	var added []entry
	expiries := map[int64]bool{}
	for _, se := range evs {
		if seen[se.Event.EventID] {
			fn.duplicates.Inc(ctx, 1)
			continue
		}
		seen[se.Event.EventID] = true
		exp := fn.expiry(se.TS.ToTime(), se.Event.PublishTime)
		added = append(added, entry{ID: se.Event.EventID, Expiry: exp})
		expiries[exp] = true
		fn.out.Inc(ctx, 1)
		emit(se.TS, se.Event)
	}
	if len(added) == 0 {
		return nil
	}
	fn.requests.Inc(ctx, 1)
	if err := fn.Seen.Add(sp, encodeEntries(added)); err != nil {
		return fmt.Errorf("dedup: writing state of key %d: %w", key, err)
	}
	// No output timestamp: the timer only clears state, so it must not hold the watermark back
	// by the horizon. Both times are bounded (decode bounds event times, Pub/Sub's clock the
	// publish time), so every key is cleared once the watermark passes them.
	for exp := range expiries {
		fn.requests.Inc(ctx, 1)
		fn.Expiry.Set(tp, time.UnixMilli(exp), timers.WithTag(strconv.FormatInt(exp, 10)), timers.WithNoOutputTimestamp())
	}
	return nil
}

// expiry is when an id is forgotten, in Unix milliseconds: Horizon after the later of its
// event time and first publish time, rounded up to a whole Batch so a batch's ids share timers.
func (fn *dedupFn) expiry(eventTime, publishTime time.Time) int64 {
	t := horizonStart(eventTime, publishTime).Add(fn.Horizon).UnixMilli()
	b := fn.Batch.Milliseconds()
	if r := t % b; r > 0 {
		t += b - r
	} else if r < 0 {
		t -= r
	}
	return t
}

// horizonStart is the later of an event's time and its first copy's publish time (zero when
// unknown); for an event that arrives behind the watermark that is the publish time.
func horizonStart(eventTime, publishTime time.Time) time.Time {
	if publishTime.After(eventTime) {
		return publishTime
	}
	return eventTime
}

// OnTimer forgets the ids that expire at the timer's tag. It emits nothing; Beam requires it
// to declare the same emitter.
func (fn *dedupFn) OnTimer(ctx context.Context, sp state.Provider, tp timers.Provider, key int64, tc timers.Context,
	_ func(beam.EventTime, schemas.Event)) error {
	at, err := strconv.ParseInt(tc.Tag, 10, 64)
	if err != nil {
		return fmt.Errorf("dedup: timer tag of key %d: %w", key, err)
	}
	known, err := fn.read(ctx, sp, key)
	if err != nil {
		return err
	}
	keep := slices.DeleteFunc(known, func(en entry) bool { return en.Expiry <= at })
	fn.requests.Inc(ctx, 1)
	if err := fn.Seen.Clear(sp); err != nil {
		return fmt.Errorf("dedup: clearing state of key %d: %w", key, err)
	}
	if len(keep) == 0 {
		return nil
	}
	fn.requests.Inc(ctx, 1)
	if err := fn.Seen.Add(sp, encodeEntries(keep)); err != nil {
		return fmt.Errorf("dedup: writing state of key %d: %w", key, err)
	}
	return nil
}

// read returns the ids in key's state, in one state request.
func (fn *dedupFn) read(ctx context.Context, sp state.Provider, key int64) ([]entry, error) {
	fn.requests.Inc(ctx, 1)
	chunks, _, err := fn.Seen.Read(sp)
	if err != nil {
		return nil, fmt.Errorf("dedup: reading state of key %d: %w", key, err)
	}
	var all []entry
	for _, c := range chunks {
		es, err := decodeEntries(c)
		if err != nil {
			return nil, fmt.Errorf("dedup: decoding state of key %d: %w", key, err)
		}
		all = append(all, es...)
	}
	return all, nil
}
