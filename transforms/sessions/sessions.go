// Package sessions builds user_sessions: each user's events split into sessions wherever two
// consecutive events are a gap or more apart, with counts, revenue and conversion per session.
//
// It does not use Beam's session windows, which Prism v2.77 does not merge correctly
// (apache/beam#31438: it merges only windows that fire in the same aggregation). Measured here
// with teststream and an allowed lateness of 1h: an event at 0 min, the watermark moved to 31
// min, then an event at 25 min gave two sessions [0, 30) and [25, 55) instead of [0, 30) on
// time and [0, 55) late; a late event bridging [0, 35) and [40, 75) came out as a third
// session [20, 50). Instead a stateful DoFn keyed by user keeps the user's sessions in state
// and closes them with event-time timers, which is correct on every runner. The semantics are
// those of Beam's merging session windows:
//
//   - each event spans [event time, event time + gap); overlapping spans merge into a session
//     whose window is [first event, last event + gap);
//   - a session is emitted ON_TIME (pane_index 0) once the watermark passes its window end;
//     there are no early panes;
//   - an event behind the watermark but within the allowed lateness updates its session (or
//     merges two, or starts one), and the session is emitted again as a LATE pane with the next
//     pane_index. When its start moves or it absorbs sessions that were already emitted, the
//     row says so: merged is true and supersedes lists the session_ids it replaces;
//   - a session's state is kept until the watermark passes window end + allowed lateness; the
//     row emitted then has is_final set. With an allowed lateness of 0 that is the ON_TIME row;
//     otherwise a closing LATE row repeats the last version with is_final set (Beam's
//     FIRE_ALWAYS closing behaviour), so every session ends with exactly one final row;
//   - a session lasts less than MaxDuration (default 24h): its window is [start,
//     min(last event + gap, start + MaxDuration)), so a session still active at its cap is
//     closed there and ends as any other session (ON_TIME once the watermark passes its cap,
//     final at cap + allowed lateness). Later events start a new session, whose session_id
//     derives from its own first event like any other; it is not merged with the capped one
//     and neither supersedes the other. Spans merge only while the result stays shorter than
//     MaxDuration, so a bot or a shared user id costs bounded state however long it stays active;
//   - an event too late for that (its own span ended more than the allowed lateness before the
//     watermark, as Beam decides) is counted in sessions.late_dropped, as are events that decode
//     marked Late (product_metrics counts those in late.dropped and keeps them out too; they are
//     still in the events table). An event id seen again within a session is counted once and
//     the repeat in sessions.duplicates.
//
// The pane columns are those of schemas/pane.go. A consumer keeps, per session_id, the row with
// the highest pane_index, and deletes the rows
// whose session_id a kept row lists in supersedes. Replaying the same events in event time (a
// backfill) gives the same final rows, except where a late event before a capped session would
// have moved its start: a backfill caps from the earliest event.
//
// The DoFn learns the watermark only from its timers, so "too late" is judged against the time
// of the user's latest timer, a lower bound: never stricter than Beam, sometimes more lenient.
// Its clock runs TimestampSkew behind that (every decision above, and the timers, shift by it):
// decode moves an event's timestamp back to its event_time, so on Prism an event can reach the
// DoFn up to decode's lateness budget behind the watermark, after timers the watermark passed
// have fired; with the skew such an event still finds its session open, so sessions do not
// depend on that race and a replay gives the same sessions in every arrival order.
// Once all of a user's sessions are final their state is gone, and a straggler that would have
// joined one starts a session of its own; in the pipeline decode marks such events Late first.
package sessions

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x0[context.Context, schemas.Event, func(string, eventRecord)](&keyFn{})
	register.DoFn6x1[context.Context, state.Provider, timers.Provider, string, eventRecord,
		func(beam.EventTime, schemas.UserSession), error](&sessionFn{})
	register.Emitter2[string, eventRecord]()
	register.Emitter2[beam.EventTime, schemas.UserSession]()
}

// DefaultGap is the default inactivity gap that ends a session.
const DefaultGap = 30 * time.Minute

// MaxGap bounds the gap: every event stays in state for at least a gap.
const MaxGap = 24 * time.Hour

// DefaultMaxDuration is the default longest session.
const DefaultMaxDuration = 24 * time.Hour

// MaxMaxDuration bounds MaxDuration: a session's state holds up to that much of its events.
const MaxMaxDuration = 7 * 24 * time.Hour

// Config configures UserSessions.
type Config struct {
	// Gap is the inactivity that ends a session; 0 means DefaultGap.
	Gap time.Duration
	// AllowedLateness is how long after the watermark passes a session's window end late
	// events still update it.
	AllowedLateness time.Duration
	// MaxDuration caps a session: one still active that long after its start is closed there
	// and later events start a new session. 0 means DefaultMaxDuration.
	MaxDuration time.Duration
	// TimestampSkew is how far behind the watermark an event not marked Late may reach the
	// sessionizer: a step before it that moves timestamps back (decode re-timestamps an event to
	// its event_time, up to MaxOutOfOrderness + AllowedLateness before the source timestamp that
	// held the watermark) delivers it up to that far behind, after timers the watermark passed
	// have fired. Sessions close that long after the watermark passes their end, so such an
	// event still finds its session open and a replay gives the same sessions in every arrival
	// order. 0 where timestamps only move forward.
	TimestampSkew time.Duration
}

// FieldError is an invalid Config field, named by its Go name (a pipeline maps it to its flag).
type FieldError struct {
	Field string // e.g. "Gap"
	Msg   string // phrased to follow the field, e.g. "must be >= 0"
}

func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.Msg }

// Fields lists the fields Validate checks, in order.
var Fields = []string{"Gap", "AllowedLateness", "MaxDuration"}

// Rules returns one check per field this package owns (Gap, MaxDuration), each returning what
// is wrong ("" when fine), for a pipeline's options validation; AllowedLateness is shared and
// checked by the pipeline.
func (c Config) Rules() map[string]func() string {
	return map[string]func() string{
		"Gap": func() string {
			if c.Gap < 0 || c.Gap > MaxGap || (c.Gap > 0 && c.Gap < time.Millisecond) {
				return fmt.Sprintf("must be between 1ms and %v (0 uses the default, %v)", MaxGap, DefaultGap)
			}
			return ""
		},
		"MaxDuration": func() string {
			gap := c.Gap
			if gap == 0 {
				gap = DefaultGap
			}
			if c.MaxDuration != 0 && (c.MaxDuration < gap || c.MaxDuration > MaxMaxDuration) {
				return fmt.Sprintf("must be between the gap (%v) and %v (0 uses the default, %v)", gap, MaxMaxDuration, DefaultMaxDuration)
			}
			return ""
		},
	}
}

// Validate returns a *FieldError naming the first invalid field of Fields.
func (c Config) Validate() error {
	rules := c.Rules()
	rules["AllowedLateness"] = func() string {
		if c.AllowedLateness < 0 {
			return "must be >= 0"
		}
		return ""
	}
	for _, f := range Fields {
		if msg := rules[f](); msg != "" {
			return &FieldError{Field: f, Msg: msg}
		}
	}
	// Not in Fields: a pipeline derives it from its own lateness options, it has no flag.
	if c.TimestampSkew < 0 {
		return &FieldError{Field: "TimestampSkew", Msg: "must be >= 0"}
	}
	return nil
}

// UserSessions groups each user's events into sessions and emits one row per session version
// (see the package doc for the versions and how to read them). It panics on an invalid cfg,
// as Beam's own transforms do at construction; call Validate first to report it.
//
// UserSessions: PCollection<schemas.Event> -> PCollection<schemas.UserSession>
func UserSessions(s beam.Scope, events beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("sessions.UserSessions")
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("sessions.UserSessions: %v", err))
	}
	if cfg.Gap == 0 {
		cfg.Gap = DefaultGap
	}
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = DefaultMaxDuration
	}
	keyed := beam.ParDo(s, &keyFn{}, events)
	return beam.ParDo(s, &sessionFn{
		Config:   cfg,
		Incoming: state.MakeBagState[eventRecord]("incoming"),
		Sessions: state.MakeValueState[userState]("sessions"),
		Timer:    timers.InEventTime("session"),
	}, keyed)
}

// keyFn keys events by user and keeps only what sessions need, so little crosses the shuffle.
type keyFn struct {
	in, late telemetry.Counter
}

func (fn *keyFn) Setup() {
	fn.in = telemetry.NewCounter("sessions.in")
	fn.late = telemetry.NewCounter("sessions.late_dropped")
}

func (fn *keyFn) ProcessElement(ctx context.Context, e schemas.Event, emit func(string, eventRecord)) {
	fn.in.Inc(ctx, 1)
	if e.Late {
		fn.late.Inc(ctx, 1)
		return
	}
	r := eventRecord{At: e.EventTime.UnixNano(), ID: eventID(e.EventID), ProductID: e.ProductID}
	switch e.EventType {
	case schemas.PageView:
		r.Kind = kindPageView
	case schemas.AddToCart:
		r.Kind = kindCart
	case schemas.Purchase:
		r.Kind = kindPurchase
		r.AmountUSD = int64(e.AmountUSD)
	}
	emit(e.UserID, r)
}

// sessionFn sessionizes one user's events.
//
// ProcessElement only appends the event to a bag and sets a timer: no state read, so an event
// costs one bag append (two state calls: length and bytes). The gap timer of an event is
// tagged with the gap-sized bucket of its time: events in one bucket are less than a gap apart
// and so in one session, which gives each session a pending timer no later than its end
// without reading state to find that end. A timer that fires before its session ends finds the
// session open and re-arms at the end.
//
// OnTimer reads the bag and the user's sessions (two calls), folds the new events in, emits
// the sessions whose window the watermark has passed and that changed, drops those past
// end + allowed lateness, and writes the rest back (four calls), or clears the state when none
// is left. A session that will end at its cap gets a timer of its own there (capTag), which
// the gap timers of later events, in the same bucket, cannot move.
type sessionFn struct {
	Config // with its defaults applied

	Incoming state.Bag[eventRecord]
	Sessions state.Value[userState]
	// Timer is one family with three kinds of tag: bucketTag(t) fires at the end of a session
	// with an event in that gap-sized bucket, capTag(start) at the cap of the session starting
	// then, gcTag at the earliest end + allowed lateness of the closed sessions held. (Two
	// timer families on one DoFn hang on Prism v2.77.)
	Timer timers.EventTime

	out, late, duplicates telemetry.Counter
	requests              telemetry.Counter // state and timer calls, telemetry.StateRequests
}

func (fn *sessionFn) Setup() {
	fn.out = telemetry.NewCounter("sessions.out")
	fn.late = telemetry.NewCounter("sessions.late_dropped")
	fn.duplicates = telemetry.NewCounter("sessions.duplicates")
	fn.requests = telemetry.NewCounter(telemetry.StateRequests)
}

func (fn *sessionFn) ProcessElement(ctx context.Context, sp state.Provider, tp timers.Provider, user string,
	e eventRecord, _ func(beam.EventTime, schemas.UserSession)) error {
	// A state failure fails the bundle, so the input is retried rather than lost.
	fn.requests.Inc(ctx, 1)
	if err := fn.Incoming.Add(sp, e); err != nil {
		return fmt.Errorf("sessions: buffering an event: %w", err)
	}
	fn.requests.Inc(ctx, 1)
	fn.Timer.Set(tp, fn.timerTime(e.At+int64(fn.Gap)), timers.WithTag(fn.bucketTag(e.At)))
	return nil
}

// OnTimer emits from either timer at the timer's time, the output timestamp it holds.
func (fn *sessionFn) OnTimer(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, user string,
	_ timers.Context, emit func(beam.EventTime, schemas.UserSession)) error {
	fn.requests.Inc(ctx, 1)
	incoming, _, err := fn.Incoming.Read(sp)
	if err != nil {
		return fmt.Errorf("sessions: reading buffered events: %w", err)
	}
	fn.requests.Inc(ctx, 1)
	st, held, err := fn.Sessions.Read(sp)
	if err != nil {
		return fmt.Errorf("sessions: reading sessions: %w", err)
	}
	gap, lateness := int64(fn.Gap), int64(fn.AllowedLateness)
	sessions := fn.fold(ctx, st, incoming)
	// The watermark has reached the timer's time, and every event not yet here is at most
	// TimestampSkew behind that: the sessionizer's clock is the timer's time minus the skew.
	// Timers that fire early, late or stale are harmless: the decisions below depend only on
	// the sessions and this lower bound.
	st.Horizon = max(st.Horizon, ts.ToTime().UnixNano()-int64(fn.TimestampSkew))
	changed := len(incoming) > 0
	kept := sessions[:0]
	gcAt := int64(-1)
	for i := range sessions {
		s := &sessions[i]
		end := s.end(gap, fn.maxDuration())
		if end > st.Horizon { // still open: make sure a timer fires at its end
			tag := fn.bucketTag(s.Last)
			if end < s.Last+gap {
				tag = capTag(s.Start)
			}
			fn.requests.Inc(ctx, 1)
			fn.Timer.Set(tp, fn.timerTime(end), timers.WithTag(tag))
			kept = append(kept, *s)
			continue
		}
		final := end+lateness <= st.Horizon
		if s.Dirty || final {
			fn.out.Inc(ctx, 1)
			emit(ts, fn.row(user, s, final))
			changed = true
		}
		if !final {
			kept = append(kept, *s)
			if gcAt < 0 || end+lateness < gcAt {
				gcAt = end + lateness
			}
		}
	}
	if gcAt >= 0 {
		fn.requests.Inc(ctx, 1)
		fn.Timer.Set(tp, fn.timerTime(gcAt), timers.WithTag(gcTag))
	}
	// Timers are never cleared: on Prism v2.77, clearing a timer in OnTimer after setting
	// another made the cleared one fire at the epoch, again on every clear. A stale timer
	// only costs a read.

	if len(incoming) > 0 {
		fn.requests.Inc(ctx, 1)
		if err := fn.Incoming.Clear(sp); err != nil {
			return fmt.Errorf("sessions: clearing buffered events: %w", err)
		}
	}
	switch {
	case len(kept) == 0 && held:
		// Nothing left: the user's state is gone until the next event.
		fn.requests.Inc(ctx, 1)
		if err := fn.Sessions.Clear(sp); err != nil {
			return fmt.Errorf("sessions: clearing sessions: %w", err)
		}
	case len(kept) > 0 && changed:
		st.Sessions = kept
		fn.requests.Inc(ctx, 1)
		if err := fn.Sessions.Write(sp, st); err != nil {
			return fmt.Errorf("sessions: writing sessions: %w", err)
		}
	}
	return nil
}

// fold merges the buffered events into the sessions held and returns the resulting sessions,
// sorted by start and disjoint. Repeats and events too late for any session are counted and
// left out.
func (fn *sessionFn) fold(ctx context.Context, st userState, incoming []eventRecord) []session {
	gap, lateness := int64(fn.Gap), int64(fn.AllowedLateness)
	if len(incoming) == 0 {
		return st.Sessions
	}
	seen := map[uint64]bool{}
	for _, s := range st.Sessions {
		for _, id := range s.IDs {
			seen[id] = true
		}
	}
	all := slices.Clone(st.Sessions)
	for _, e := range incoming {
		if seen[e.ID] {
			fn.duplicates.Inc(ctx, 1)
			continue
		}
		seen[e.ID] = true
		// As in Beam, an event whose own span ended more than the allowed lateness before the
		// watermark is dropped. Horizon is from before the event arrived, so the watermark was
		// past it then.
		if e.At+gap+lateness <= st.Horizon {
			fn.late.Inc(ctx, 1)
			continue
		}
		all = append(all, newSession(e))
	}
	slices.SortFunc(all, func(a, b session) int {
		if a.Start != b.Start {
			return cmpInt(a.Start, b.Start)
		}
		return cmpInt(a.Last, b.Last)
	})
	// Sorted by start, a session merges into the one before when their windows overlap and
	// the merged session stays shorter than MaxDuration; past its cap a session takes no more.
	maxDur := fn.maxDuration()
	var out []session
	for _, s := range all {
		if n := len(out); n > 0 && s.Start < out[n-1].end(gap, maxDur) && max(s.Last, out[n-1].Last)-out[n-1].Start < maxDur {
			out[n-1].absorb(s)
			continue
		}
		out = append(out, s)
	}
	return out
}

// row is the next version of s, and records it as emitted.
func (fn *sessionFn) row(user string, s *session, final bool) schemas.UserSession {
	timing := schemas.PaneLate
	if s.Version < 0 {
		timing = schemas.PaneOnTime
	}
	s.Version++
	r := schemas.UserSession{
		Pane: schemas.Pane{
			WindowStart: nanos(s.Start), WindowEnd: nanos(s.end(int64(fn.Gap), fn.maxDuration())),
			PaneIndex: s.Version, PaneTiming: timing, IsFinal: final,
		},
		UserID:          user,
		SessionID:       SessionID(user, nanos(s.Start)),
		SessionStart:    nanos(s.Start),
		SessionEnd:      nanos(s.Last),
		DurationSeconds: (s.Last - s.Start) / int64(time.Second),
		Events:          s.Events,
		PageViews:       s.PageViews,
		Carts:           s.Carts,
		Purchases:       s.Purchases,
		RevenueUSD:      s.RevenueUSD,
		Converted:       s.Purchases > 0,
		FirstProduct:    s.FirstProduct,
		LastProduct:     s.LastProduct,
	}
	slices.Sort(s.Emitted)
	for _, start := range s.Emitted {
		if start != s.Start {
			r.Supersedes = append(r.Supersedes, schemas.SessionRef{SessionID: SessionID(user, nanos(start))})
		}
	}
	r.Merged = len(r.Supersedes) > 0
	if !slices.Contains(s.Emitted, s.Start) {
		s.Emitted = append(s.Emitted, s.Start)
	}
	s.Dirty = false
	return r
}

// gcTag tags the timer that drops closed sessions; bucket tags start with "b", cap tags "c".
const gcTag = "gc"

// capTag tags the timer at the cap of the session starting at start (Unix ns).
func capTag(start int64) string { return "c" + strconv.FormatInt(start, 36) }

// maxDuration is MaxDuration in ns; 0 (a sessionFn not built by UserSessions) is the default.
func (fn *sessionFn) maxDuration() int64 {
	if fn.MaxDuration <= 0 {
		return int64(DefaultMaxDuration)
	}
	return int64(fn.MaxDuration)
}

// bucketTag tags the gap timer of an event at ns: events in one bucket are less than a gap
// apart, so in one session.
func (fn *sessionFn) bucketTag(ns int64) string {
	return "b" + strconv.FormatInt(floorDiv(ns, int64(fn.Gap)), 36)
}

// SessionID is the deterministic id of the session of user starting at start: the first 16
// bytes of SHA-256 over the user id and the start in Unix nanoseconds, in hex.
func SessionID(user string, start time.Time) string {
	h := sha256.New()
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(start.UnixNano())))
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func nanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// timerTime is the time of the timer for the sessionizer's clock reaching ns: TimestampSkew
// after it.
func (fn *sessionFn) timerTime(ns int64) time.Time { return timerTime(ns + int64(fn.TimestampSkew)) }

// timerTime rounds up to Beam's millisecond precision, so a timer never fires before ns.
func timerTime(ns int64) time.Time {
	ms := floorDiv(ns, int64(time.Millisecond))
	if ms*int64(time.Millisecond) < ns {
		ms++
	}
	return time.UnixMilli(ms)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
