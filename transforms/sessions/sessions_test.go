package sessions

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func at(m float64) time.Time { return beamtest.T0.Add(time.Duration(m * float64(time.Minute))) }

// ev is an event of user at beamtest.T0 + minute minutes; a purchase costs usd.
func ev(id, user, typ string, minute float64, product string, usd int64) schemas.Event {
	return schemas.Event{EventID: id, EventType: typ, EventTime: at(minute), UserID: user, ProductID: product,
		AmountUSD: schemas.Decimal(usd * schemas.DecimalScale)}
}

type step = beamtest.Step

func add(events ...schemas.Event) step { return beamtest.Add(events...) }
func watermark(minute float64) step    { return beamtest.Watermark(at(minute)) }

// run runs UserSessions over the stream and returns its rows sorted by user, window start and
// pane index, and the tributary counters.
func run(t *testing.T, steps []step, cfg Config) ([]schemas.UserSession, map[string]int64) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	beamtest.Collect(s, t.Name(), UserSessions(s, teststream.Create(s, beamtest.Stream(t, steps)), cfg))
	got, counters, err := beamtest.Run(t, p, t.Name(), func(a, b schemas.UserSession) int {
		return strings.Compare(rowKey(a), rowKey(b))
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, counters
}

// sessionCase is one stream through UserSessions: the rows it must give and the counters
// (name → value) it must leave.
type sessionCase struct {
	name     string
	cfg      Config
	steps    []step
	want     []want
	counters map[string]int64
}

// runCases runs each case as a subtest and compares its rows and counters.
func runCases(t *testing.T, tests []sessionCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, counters := run(t, tc.steps, tc.cfg)
			var want []schemas.UserSession
			for _, w := range tc.want {
				want = append(want, w.row())
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			for name, w := range tc.counters {
				if counters[name] != w {
					t.Errorf("counter %s = %d, want %d", name, counters[name], w)
				}
			}
		})
	}
}

func rowKey(r schemas.UserSession) string {
	return fmt.Sprintf("%s/%s/%03d", r.UserID, r.WindowStart.Format(time.RFC3339Nano), r.PaneIndex)
}

// session is the expected row of user's session over [start, last] minutes.
type want struct {
	user                       string
	start, last                float64
	events, views, carts, buys int64
	revenue                    int64
	revenueText                string // the revenue when it is beyond an int64 of units
	first, lastProduct         string
	pane                       int64
	timing                     string
	final                      bool
	supersedes                 []float64 // starts of replaced sessions
	gap                        time.Duration
}

func (w want) row() schemas.UserSession {
	gap := w.gap
	if gap == 0 {
		gap = DefaultGap
	}
	r := schemas.UserSession{
		Pane: schemas.Pane{WindowStart: at(w.start), WindowEnd: at(w.last).Add(gap), PaneIndex: w.pane,
			PaneTiming: w.timing, IsFinal: w.final},
		UserID: w.user, SessionID: SessionID(w.user, at(w.start)), SessionStart: at(w.start), SessionEnd: at(w.last),
		DurationSeconds: int64(at(w.last).Sub(at(w.start)) / time.Second),
		Events:          w.events, PageViews: w.views, Carts: w.carts, Purchases: w.buys,
		RevenueUSD: schemas.NumericOf(schemas.Decimal(w.revenue * schemas.DecimalScale)), Converted: w.buys > 0,
		FirstProduct: w.first, LastProduct: w.lastProduct,
	}
	if w.revenueText != "" {
		n, err := schemas.ParseNumeric(w.revenueText)
		if err != nil {
			panic(err)
		}
		r.RevenueUSD = n
	}
	for _, s := range w.supersedes {
		r.Supersedes = append(r.Supersedes, schemas.SessionRef{SessionID: SessionID(w.user, at(s))})
	}
	r.Merged = len(r.Supersedes) > 0
	return r
}

func TestUserSessions(t *testing.T) {
	lateBuy := ev("late-buy", "u1", schemas.Purchase, 20, "p9", 7)
	lateBuy.Late = true
	tests := []sessionCase{
		{
			name: "two bursts more than the gap apart are two sessions",
			steps: []step{
				add(ev("a1", "u1", schemas.PageView, 0, "p1", 0), ev("a2", "u1", schemas.AddToCart, 5, "p1", 0),
					ev("b1", "u2", schemas.PageView, 6, "", 0), ev("a3", "u1", schemas.Purchase, 10, "p2", 20)),
				watermark(20),
				add(ev("a4", "u1", schemas.PageView, 50, "", 0), ev("a5", "u1", schemas.Purchase, 55, "p3", 5)),
			},
			want: []want{
				{user: "u1", start: 0, last: 10, events: 3, views: 1, carts: 1, buys: 1, revenue: 20, first: "p1", lastProduct: "p2", timing: schemas.PaneOnTime, final: true},
				{user: "u1", start: 50, last: 55, events: 2, views: 1, buys: 1, revenue: 5, first: "p3", lastProduct: "p3", timing: schemas.PaneOnTime, final: true},
				{user: "u2", start: 6, last: 6, events: 1, views: 1, timing: schemas.PaneOnTime, final: true},
			},
			counters: map[string]int64{"sessions.in": 6, "sessions.out": 3},
		},
		{
			// Issue 8 item 11: the revenue wrapped to -1.709551616 in int64 units. The second
			// pair meets only when a late event merges two sessions (absorb).
			name: "revenue beyond an int64 of 1e-9 units does not wrap",
			cfg:  Config{AllowedLateness: time.Hour},
			steps: []step{
				add(ev("a1", "u1", schemas.Purchase, 0, "p1", 9223372036), ev("a2", "u1", schemas.Purchase, 5, "p1", 9223372036)),
				add(ev("b1", "u2", schemas.Purchase, 0, "p1", 9223372036), ev("b2", "u2", schemas.Purchase, 50, "p1", 9223372036)),
				watermark(60),
				add(ev("b3", "u2", schemas.PageView, 25, "", 0)),
				watermark(200),
			},
			want: []want{
				{user: "u1", start: 0, last: 5, events: 2, buys: 2, revenueText: "18446744072", first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime},
				{user: "u1", start: 0, last: 5, events: 2, buys: 2, revenueText: "18446744072", first: "p1", lastProduct: "p1", pane: 1, timing: schemas.PaneLate, final: true},
				{user: "u2", start: 0, last: 0, events: 1, buys: 1, revenue: 9223372036, first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime},
				{user: "u2", start: 0, last: 50, events: 3, views: 1, buys: 2, revenueText: "18446744072", first: "p1", lastProduct: "p1", pane: 1, timing: schemas.PaneLate},
				{user: "u2", start: 0, last: 50, events: 3, views: 1, buys: 2, revenueText: "18446744072", first: "p1", lastProduct: "p1", pane: 2, timing: schemas.PaneLate, final: true},
			},
		},
		{
			name: "events 25 minutes apart with the watermark moved in between are one session",
			steps: []step{
				add(ev("a1", "u1", schemas.PageView, 0, "p1", 0)),
				watermark(10),
				add(ev("a2", "u1", schemas.PageView, 25, "p2", 0)),
			},
			want: []want{
				{user: "u1", start: 0, last: 25, events: 2, views: 2, first: "p1", lastProduct: "p2", timing: schemas.PaneOnTime, final: true},
			},
		},
		{
			// Prism's own session windows gave [0, 30) and [25, 55) here, two sessions, where
			// Beam's model gives [0, 30) on time and then [0, 55) late (apache/beam#31438).
			name: "an event 25 minutes after the first, once the watermark passed the first's end, extends it",
			cfg:  Config{AllowedLateness: time.Hour},
			steps: []step{
				add(ev("a1", "u1", schemas.PageView, 0, "p1", 0)),
				watermark(31),
				add(ev("a2", "u1", schemas.PageView, 25, "p2", 0)),
			},
			want: []want{
				{user: "u1", start: 0, last: 0, events: 1, views: 1, first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime},
				{user: "u1", start: 0, last: 25, events: 2, views: 2, first: "p1", lastProduct: "p2", pane: 1, timing: schemas.PaneLate},
				{user: "u1", start: 0, last: 25, events: 2, views: 2, first: "p1", lastProduct: "p2", pane: 2, timing: schemas.PaneLate, final: true},
			},
		},
		{
			name: "events out of order within the watermark are ordered by event time",
			steps: []step{
				add(ev("a3", "u1", schemas.Purchase, 20, "p3", 3), ev("a1", "u1", schemas.PageView, 0, "p1", 0),
					ev("a2", "u1", schemas.PageView, 10, "p2", 0)),
			},
			want: []want{
				{user: "u1", start: 0, last: 20, events: 3, views: 2, buys: 1, revenue: 3, first: "p1", lastProduct: "p3", timing: schemas.PaneOnTime, final: true},
			},
		},
		{
			// Prism's own session windows gave a third session [20, 50) here.
			name: "a late event bridging two sessions merges them within the allowed lateness",
			cfg:  Config{AllowedLateness: time.Hour},
			steps: []step{
				add(ev("a1", "u1", schemas.PageView, 0, "p1", 0), ev("a2", "u1", schemas.PageView, 5, "p1", 0),
					ev("b1", "u1", schemas.Purchase, 40, "p2", 10), ev("b2", "u1", schemas.PageView, 45, "p2", 0)),
				watermark(80), // both closed: [0, 35) and [40, 75)
				add(ev("late", "u1", schemas.AddToCart, 20, "p1", 0)),
			},
			want: []want{
				{user: "u1", start: 0, last: 5, events: 2, views: 2, first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime},
				{user: "u1", start: 0, last: 45, events: 5, views: 3, carts: 1, buys: 1, revenue: 10, first: "p1", lastProduct: "p2",
					pane: 1, timing: schemas.PaneLate, supersedes: []float64{40}},
				{user: "u1", start: 0, last: 45, events: 5, views: 3, carts: 1, buys: 1, revenue: 10, first: "p1", lastProduct: "p2",
					pane: 2, timing: schemas.PaneLate, final: true, supersedes: []float64{40}},
				{user: "u1", start: 40, last: 45, events: 2, views: 1, buys: 1, revenue: 10, first: "p2", lastProduct: "p2", timing: schemas.PaneOnTime},
			},
			counters: map[string]int64{"sessions.late_dropped": 0},
		},
		{
			name: "late events: within lateness move the start, beyond it or marked late are dropped",
			cfg:  Config{AllowedLateness: 10 * time.Minute},
			steps: []step{
				add(ev("a1", "u1", schemas.PageView, 0, "p1", 0), ev("b1", "u1", schemas.PageView, 35, "p2", 0)),
				// [0, 30) closes at 30 and is final at 40; [35, 65) closes at 65, held until 75.
				watermark(31), watermark(41), watermark(66),
				add(ev("too-late", "u1", schemas.PageView, 10, "p9", 0), // span ends 40, + 10 <= 65
					ev("in-time", "u1", schemas.AddToCart, 30, "p3", 0), lateBuy),
			},
			want: []want{
				{user: "u1", start: 0, last: 0, events: 1, views: 1, first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime},
				{user: "u1", start: 0, last: 0, events: 1, views: 1, first: "p1", lastProduct: "p1", pane: 1, timing: schemas.PaneLate, final: true},
				{user: "u1", start: 30, last: 35, events: 2, views: 1, carts: 1, first: "p3", lastProduct: "p2",
					pane: 1, timing: schemas.PaneLate, supersedes: []float64{35}},
				{user: "u1", start: 30, last: 35, events: 2, views: 1, carts: 1, first: "p3", lastProduct: "p2",
					pane: 2, timing: schemas.PaneLate, final: true, supersedes: []float64{35}},
				{user: "u1", start: 35, last: 35, events: 1, views: 1, first: "p2", lastProduct: "p2", timing: schemas.PaneOnTime},
			},
			counters: map[string]int64{"sessions.in": 5, "sessions.late_dropped": 2, "sessions.out": 5},
		},
		{
			name: "a repeated event id is counted once",
			steps: []step{
				add(ev("a1", "u1", schemas.Purchase, 0, "p1", 4), ev("a1", "u1", schemas.Purchase, 0, "p1", 4),
					ev("a2", "u1", schemas.PageView, 1, "", 0)),
				watermark(10),
				add(ev("a1", "u1", schemas.Purchase, 0, "p1", 4)),
			},
			want: []want{
				{user: "u1", start: 0, last: 1, events: 2, views: 1, buys: 1, revenue: 4, first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime, final: true},
			},
			counters: map[string]int64{"sessions.duplicates": 2},
		},
		{
			name: "a custom gap",
			cfg:  Config{Gap: 5 * time.Minute},
			steps: []step{
				add(ev("a1", "u1", schemas.PageView, 0, "", 0), ev("a2", "u1", schemas.PageView, 4.9, "", 0),
					ev("a3", "u1", schemas.PageView, 9.9, "", 0)), // exactly a gap after a2: a new session
			},
			want: []want{
				{user: "u1", start: 0, last: 4.9, events: 2, views: 2, timing: schemas.PaneOnTime, final: true, gap: 5 * time.Minute},
				{user: "u1", start: 9.9, last: 9.9, events: 1, views: 1, timing: schemas.PaneOnTime, final: true, gap: 5 * time.Minute},
			},
		},
	}
	runCases(t, tests)
}

func TestSessionID(t *testing.T) {
	a := SessionID("u1", beamtest.T0)
	if len(a) != 32 || strings.Trim(a, "0123456789abcdef") != "" {
		t.Errorf("SessionID = %q, want 32 hex digits", a)
	}
	for _, other := range []string{SessionID("u2", beamtest.T0), SessionID("u1", beamtest.T0.Add(time.Millisecond)), SessionID("u", beamtest.T0)} {
		if other == a {
			t.Errorf("SessionID collides: %q", a)
		}
	}
	if SessionID("u1", beamtest.T0.In(time.FixedZone("x", 3600))) != a {
		t.Error("SessionID depends on the time zone")
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		flag string // "" when valid
	}{
		{Config{}, ""},
		{Config{Gap: time.Hour, AllowedLateness: time.Minute}, ""},
		{Config{Gap: -time.Second}, "Gap"},
		{Config{Gap: 25 * time.Hour}, "Gap"},
		{Config{AllowedLateness: -1}, "AllowedLateness"},
		{Config{MaxDuration: 2 * time.Hour}, ""},
		{Config{Gap: time.Hour, MaxDuration: time.Hour}, ""},
		{Config{MaxDuration: 10 * time.Minute}, "MaxDuration"}, // shorter than the default gap
		{Config{Gap: time.Hour, MaxDuration: 59 * time.Minute}, "MaxDuration"},
		{Config{MaxDuration: -time.Hour}, "MaxDuration"},
		{Config{MaxDuration: MaxMaxDuration + time.Millisecond}, "MaxDuration"},
		{Config{TimestampSkew: time.Minute}, ""},
		{Config{TimestampSkew: -time.Millisecond}, "TimestampSkew"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (err == nil) != (tc.flag == "") || (err != nil && !strings.Contains(err.Error(), tc.flag)) {
			t.Errorf("%+v.Validate() = %v, want an error naming %q", tc.cfg, err, tc.flag)
		}
	}
}

func TestStateCoders(t *testing.T) {
	e := eventRecord{At: at(3).UnixNano(), ID: eventID("x"), Kind: kindPurchase, ProductID: "p-1", AmountUSD: -5}
	if got, err := decodeEventRecord(encodeEventRecord(e)); err != nil || got != e {
		t.Errorf("event record round trip = %+v, %v; want %+v", got, err, e)
	}
	u := userState{Horizon: 42, Sessions: []session{newSession(e), {Start: 1, Last: 2, FirstProduct: "a", IDs: []uint64{}, Version: 3, Emitted: []int64{1, -7}}}}
	got, err := decodeUserState(encodeUserState(u))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("user state round trip (-want +got):\n%s", diff)
	}
	b := encodeUserState(u)
	for n := range len(b) {
		if _, err := decodeUserState(b[:n]); err == nil {
			t.Errorf("decoding %d of %d bytes: no error", n, len(b))
		}
	}
}

// bot is user's page views every minute over [from, to) minutes, ids "<user>-<minute>".
func bot(user string, from, to int) []schemas.Event {
	var evs []schemas.Event
	for m := from; m < to; m++ {
		evs = append(evs, ev(fmt.Sprintf("%s-%d", user, m), user, schemas.PageView, float64(m), "", 0))
	}
	return evs
}

// streamed adds events in order and moves the watermark to the end of each period they
// cover, as a live stream would; without the watermark steps the same events are one backfill.
func streamed(evs []schemas.Event, period time.Duration) []step {
	var steps []step
	for len(evs) > 0 {
		end := evs[0].EventTime.Truncate(period).Add(period)
		n := 0
		for n < len(evs) && evs[n].EventTime.Before(end) {
			n++
		}
		steps = append(steps, add(evs[:n]...), watermark(end.Sub(beamtest.T0).Minutes()))
		evs = evs[n:]
	}
	return steps
}

// capped is the expected row of a bot session of page views every minute over [start, last]
// minutes (plus one at a fractional last) whose window ends at end.
func capped(user string, start, last, end float64, pane int64, timing string, final bool) want {
	n := int64(math.Ceil(last-start)) + 1
	return want{user: user, start: start, last: last, events: n, views: n,
		pane: pane, timing: timing, final: final, gap: time.Duration((end - last) * float64(time.Minute))}
}

func TestUserSessionsMaxDuration(t *testing.T) {
	twoHours := Config{MaxDuration: 2 * time.Hour}
	// A bot active for 30 hours with a 2h cap: 15 sessions of 2h, each closed and final at its
	// cap; each continuation starts at its own first event, supersedes nothing, and holds at
	// most 2h of events (the state of one session).
	var bot30h, bot30hLate []want
	for k := range 15 {
		start := float64(120 * k)
		bot30h = append(bot30h, capped("bot", start, start+119, start+120, 0, schemas.PaneOnTime, true))
		// With a lateness, ON_TIME at the cap (its own timer, which later events cannot
		// move), then final once the watermark passes cap + lateness.
		bot30hLate = append(bot30hLate, capped("bot", start, start+119, start+120, 0, schemas.PaneOnTime, false),
			capped("bot", start, start+119, start+120, 1, schemas.PaneLate, true))
	}
	tests := []sessionCase{
		{
			name:     "a bot active for 30h, streamed: sessions capped at 2h",
			cfg:      twoHours,
			steps:    streamed(bot("bot", 0, 1800), time.Hour),
			want:     bot30h,
			counters: map[string]int64{"sessions.in": 1800, "sessions.out": 15},
		},
		{
			// Watermark steps of 7 minutes fall mid-bucket, so later events of a session's last
			// gap bucket arrive after its cap timer is set.
			name:  "a bot active for 30h, streamed with a lateness: each capped session on time at its cap",
			cfg:   Config{MaxDuration: 2 * time.Hour, AllowedLateness: 10 * time.Minute},
			steps: streamed(bot("bot", 0, 1800), 7*time.Minute),
			want:  bot30hLate,
		},
		{
			name:  "a bot active for 30h, as one backfill: the same sessions",
			cfg:   twoHours,
			steps: []step{add(bot("bot", 0, 1800)...)},
			want:  bot30h,
		},
		{
			name:  "the cap counts from a session's first event: a pause of a gap starts afresh",
			cfg:   twoHours,
			steps: streamed(append(bot("bot", 0, 90), bot("bot", 130, 300)...), time.Hour),
			want: []want{
				capped("bot", 0, 89, 119, 0, schemas.PaneOnTime, true),    // ended by the gap
				capped("bot", 130, 249, 250, 0, schemas.PaneOnTime, true), // capped
				capped("bot", 250, 299, 329, 0, schemas.PaneOnTime, true),
			},
		},
		{
			// Within the allowed lateness, a late event before the cap joins the capped session
			// (a LATE version, same id), and one before its start that would stretch it past
			// the cap is a session of its own, superseding nothing.
			name: "late events around a capped session",
			cfg:  Config{MaxDuration: 2 * time.Hour, AllowedLateness: 2 * time.Hour},
			steps: []step{
				add(bot("bot", 0, 120)...), watermark(121), // [0, 120) closed at its cap
				add(bot("bot", 120, 150)...), watermark(125),
				add(ev("late-in", "bot", schemas.PageView, 119.5, "", 0), ev("late-before", "bot", schemas.PageView, -5, "", 0)),
			},
			want: []want{
				{user: "bot", start: -5, last: -5, events: 1, views: 1, timing: schemas.PaneOnTime},
				{user: "bot", start: -5, last: -5, events: 1, views: 1, pane: 1, timing: schemas.PaneLate, final: true},
				capped("bot", 0, 119, 120, 0, schemas.PaneOnTime, false),
				capped("bot", 0, 119.5, 120, 1, schemas.PaneLate, false),
				capped("bot", 0, 119.5, 120, 2, schemas.PaneLate, true),
				capped("bot", 120, 149, 179, 0, schemas.PaneOnTime, false),
				capped("bot", 120, 149, 179, 1, schemas.PaneLate, true),
			},
			counters: map[string]int64{"sessions.late_dropped": 0},
		},
	}
	runCases(t, tests)
}
