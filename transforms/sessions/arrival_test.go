package sessions

import (
	"testing"
	"time"

	"github.com/tributary-dev/tributary/schemas"
)

// TestUserSessionsArrivalOrder feeds one user's events in the arrival orders a replay can
// produce. decode re-timestamps an event to its event_time, up to MaxOutOfOrderness +
// AllowedLateness before the source timestamp that held the watermark, so on Prism an event can
// reach the sessionizer that far behind its watermark, after a timer the watermark passed has
// fired (Prism's input watermark is the minimum of the upstream's pending input timestamps,
// engine/elementmanager.go updateWatermarks; a second paced backfill of the equivalence test
// split one session that way). With TimestampSkew covering that budget every order gives the
// sessions of the whole set; with 0 the late order splits the session at the late event.
func TestUserSessionsArrivalOrder(t *testing.T) {
	a1 := ev("a1", "u1", schemas.PageView, 0, "p1", 0)
	a2 := ev("a2", "u1", schemas.AddToCart, 10, "p1", 0)
	x := ev("x", "u1", schemas.PageView, 39.5, "p2", 0) // within a2's span [10, 40): bridges to m
	m := ev("m", "u1", schemas.Purchase, 60, "p3", 5)
	skew := Config{TimestampSkew: time.Minute}
	whole := []want{{user: "u1", start: 0, last: 60, events: 4, views: 2, carts: 1, buys: 1, revenue: 5,
		first: "p1", lastProduct: "p3", timing: schemas.PaneOnTime, final: true}}
	tests := []sessionCase{
		{name: "all at once", cfg: skew, steps: []step{add(m, x, a2, a1)}, want: whole},
		{
			// The watermark passes a2's end (40) before x (39.5) arrives, 0.7 min behind it.
			name: "an event behind the watermark by less than the skew", cfg: skew,
			steps: []step{add(a1, a2), watermark(40.2), add(x, m)},
			want:  whole,
		},
		{
			name: "events in reverse order, each within the skew", cfg: Config{TimestampSkew: 10 * time.Minute},
			steps: []step{add(m, a2), watermark(9.5), add(a1, x)}, // a1 arrives 9.5 min behind
			want:  whole,
		},
		{
			// Without a skew the sessionizer closes [0, 40) when the watermark passes 40, and x
			// starts a session of its own: the split a second backfill once produced.
			name:  "no skew: the late event splits the session",
			steps: []step{add(a1, a2), watermark(40.2), add(x, m)},
			want: []want{
				{user: "u1", start: 0, last: 10, events: 2, views: 1, carts: 1, first: "p1", lastProduct: "p1", timing: schemas.PaneOnTime, final: true},
				{user: "u1", start: 39.5, last: 60, events: 2, views: 1, buys: 1, revenue: 5, first: "p2", lastProduct: "p3", timing: schemas.PaneOnTime, final: true},
			},
		},
	}
	// No order may drop an event as late.
	for i := range tests {
		tests[i].counters = map[string]int64{"sessions.late_dropped": 0}
	}
	runCases(t, tests)
}
