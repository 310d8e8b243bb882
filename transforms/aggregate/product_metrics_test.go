package aggregate

import (
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func ev(id, typ, user, product string, at time.Duration, usd string) schemas.Event {
	e := schemas.Event{EventID: id, EventType: typ, EventTime: beamtest.T0.Add(at), UserID: user, ProductID: product, Category: "books"}
	if usd != "" {
		d, err := schemas.ParseDecimal(usd)
		if err != nil {
			panic(err)
		}
		e.AmountUSD = d
	}
	return e
}

func onTime(start time.Time, d time.Duration) schemas.Pane {
	return schemas.Pane{WindowStart: start, WindowEnd: start.Add(d), PaneIndex: 0, PaneTiming: schemas.PaneOnTime, IsFinal: true}
}

func dec(s string) schemas.Decimal {
	d, err := schemas.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func num(s string) schemas.Numeric {
	n, err := schemas.ParseNumeric(s)
	if err != nil {
		panic(err)
	}
	return n
}

func TestProductMetrics(t *testing.T) {
	late := ev("late", schemas.Purchase, "u1", "p1", 10*time.Second, "99")
	late.Late = true
	// Arrived when the source's watermark was at 1m30s: the event at 10 s finds its window
	// [0, 1m) closed; the one at 1m05s is behind the watermark but its window is still open.
	closed := ev("closed", schemas.Purchase, "u1", "p1", 10*time.Second, "99")
	closed.BehindWatermark = beamtest.T0.Add(90 * time.Second)
	open := ev("open", schemas.Purchase, "u2", "p1", 65*time.Second, "2")
	open.BehindWatermark = beamtest.T0.Add(90 * time.Second)
	// At the watermark's exact instant the window's last millisecond is not yet behind it.
	edge := ev("edge", schemas.PageView, "u3", "p1", 59*time.Second, "")
	edge.BehindWatermark = beamtest.T0.Add(time.Minute - time.Millisecond)
	tests := []struct {
		name     string
		window   time.Duration
		events   []schemas.Event
		want     []schemas.ProductMetric
		counters map[string]int64
	}{
		{
			name:   "counts, revenue and distinct users per product and window",
			window: time.Minute,
			events: []schemas.Event{
				ev("1", schemas.PageView, "u1", "p1", 0, ""),
				ev("2", schemas.PageView, "u2", "p1", 5*time.Second, ""),
				ev("3", schemas.AddToCart, "u1", "p1", 10*time.Second, ""),
				ev("4", schemas.Purchase, "u1", "p1", 20*time.Second, "19.99"),
				ev("5", schemas.Purchase, "u2", "p1", 30*time.Second, "0.01"),
				ev("6", schemas.Refund, "u1", "p1", 40*time.Second, "5.5"),
				ev("7", schemas.Purchase, "u3", "p2", 59*time.Second, "10"),
				ev("8", schemas.PageView, "u3", "p1", 60*time.Second, ""), // next window
				ev("9", schemas.PageView, "u3", "", 15*time.Second, ""),   // no product
			},
			want: []schemas.ProductMetric{
				{Pane: onTime(beamtest.T0, time.Minute), ProductID: "p1", Category: "books", Views: 2, Carts: 1, Purchases: 2, Refunds: 1,
					RevenueUSD: num("20"), RefundsUSD: num("5.5"), DistinctUsers: 2},
				{Pane: onTime(beamtest.T0, time.Minute), ProductID: "p2", Category: "books", Purchases: 1, RevenueUSD: num("10"), DistinctUsers: 1},
				{Pane: onTime(beamtest.T0.Add(time.Minute), time.Minute), ProductID: "p1", Category: "books", Views: 1, DistinctUsers: 1},
			},
			counters: map[string]int64{"product_metrics.no_product": 1, "aggregate.out": 3},
		},
		{
			name:   "late events stay out and are counted",
			window: 5 * time.Minute,
			events: []schemas.Event{late, ev("1", schemas.Purchase, "u1", "p1", 0, "1.25")},
			want: []schemas.ProductMetric{
				{Pane: onTime(beamtest.T0, 5*time.Minute), ProductID: "p1", Category: "books", Purchases: 1, RevenueUSD: num("1.25"), DistinctUsers: 1},
			},
			counters: map[string]int64{"late.dropped": 1, "aggregate.out": 1},
		},
		{
			name:   "events behind the watermark count as late only once their window closed",
			window: time.Minute,
			events: []schemas.Event{closed, open, edge, ev("1", schemas.Purchase, "u1", "p1", 0, "1.25")},
			want: []schemas.ProductMetric{
				{Pane: onTime(beamtest.T0, time.Minute), ProductID: "p1", Category: "books", Views: 1, Purchases: 1, RevenueUSD: num("1.25"), DistinctUsers: 2},
				{Pane: onTime(beamtest.T0.Add(time.Minute), time.Minute), ProductID: "p1", Category: "books", Purchases: 1, RevenueUSD: num("2"), DistinctUsers: 1},
			},
			counters: map[string]int64{"late.dropped": 1, "aggregate.out": 2},
		},
		{
			// Issue 8 item 11: this sum wrapped to -1.709551616 in int64 units.
			name:   "sums beyond an int64 of 1e-9 units do not wrap",
			window: time.Minute,
			events: []schemas.Event{
				ev("1", schemas.Purchase, "u1", "p1", 0, "9223372036"),
				ev("2", schemas.Purchase, "u2", "p1", time.Second, "9223372036"),
				ev("3", schemas.Refund, "u1", "p1", 2*time.Second, "9223372036.854775807"),
				ev("4", schemas.Refund, "u2", "p1", 3*time.Second, "9223372036.854775807"),
			},
			want: []schemas.ProductMetric{
				{Pane: onTime(beamtest.T0, time.Minute), ProductID: "p1", Category: "books", Purchases: 2, Refunds: 2,
					RevenueUSD: num("18446744072"), RefundsUSD: num("18446744073.709551614"), DistinctUsers: 2},
			},
			counters: map[string]int64{"aggregate.out": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, s := beam.NewPipelineWithRoot()
			events := beamtest.Events(s, tc.events)
			rows := ProductMetrics(s, events, Config{WindowDuration: tc.window})
			passert.EqualsList(s, beam.WindowInto(s, window0(), rows), tc.want)
			pr, err := ptest.RunWithMetrics(p)
			if err != nil {
				t.Fatal(err)
			}
			got := telemetry.FromPipeline(pr).Counters
			for name, want := range tc.counters {
				if got[name] != want {
					t.Errorf("counter %s = %d, want %d", name, got[name], want)
				}
			}
		})
	}
}

func window0() *window.Fn { return window.NewGlobalWindows() }

// TestProductMetricsPanes drives product_metrics with a test stream that moves the watermark and
// processing time explicitly, and checks every pane.
func TestProductMetricsPanes(t *testing.T) {
	const m = time.Minute
	s := time.Second
	w0 := beamtest.T0 // the window under test: [12:00, 12:01)
	view := func(id, user string, at time.Duration) schemas.Event {
		return ev(id, schemas.PageView, user, "p1", at, "")
	}
	buy := func(id, user string, at time.Duration, usd string) schemas.Event {
		return ev(id, schemas.Purchase, user, "p1", at, usd)
	}
	row := func(p schemas.Pane, views, purchases int64, revenue string, users int64) schemas.ProductMetric {
		r := schemas.ProductMetric{Pane: p, ProductID: "p1", Category: "books", Views: views, Purchases: purchases, DistinctUsers: users}
		if revenue != "" {
			r.RevenueUSD = num(revenue)
		}
		return r
	}
	// early is fired early twice before the watermark passes the window: the accumulating and
	// the discarding case see the same stream.
	early := []step{
		add(view("1", "u1", 10*s)), processing(30 * s),
		add(buy("2", "u2", 20*s, "5")), processing(30 * s),
		watermark(61 * s),
	}
	tests := []struct {
		name     string
		trigger  windowing.Trigger
		steps    []step
		want     []schemas.ProductMetric
		counters map[string]int64
	}{
		{
			name:    "one on-time pane by default",
			trigger: windowing.Trigger{},
			steps: []step{
				add(view("1", "u1", 10*s)), add(buy("2", "u2", 20*s, "5")),
				watermark(61 * s),
			},
			want: []schemas.ProductMetric{row(pane(w0, m, 0, schemas.PaneOnTime, true), 1, 1, "5", 2)},
		},
		{
			name:    "early panes accumulate, then the on-time pane repeats the total",
			trigger: windowing.Trigger{EarlyFiringDelay: 10 * s},
			steps:   early,
			want: []schemas.ProductMetric{
				row(pane(w0, m, 0, schemas.PaneEarly, false), 1, 0, "", 1),
				row(pane(w0, m, 1, schemas.PaneEarly, false), 1, 1, "5", 2),
				row(pane(w0, m, 2, schemas.PaneOnTime, true), 1, 1, "5", 2),
			},
		},
		{
			// All elements went out early, so the empty on-time pane is not emitted
			// (FIRE_IF_NONEMPTY); the sum of the panes is the total.
			name:    "early panes discard",
			trigger: windowing.Trigger{EarlyFiringDelay: 10 * s, Accumulation: windowing.Discarding},
			steps:   early,
			want: []schemas.ProductMetric{
				row(pane(w0, m, 0, schemas.PaneEarly, false), 1, 0, "", 1),
				row(pane(w0, m, 1, schemas.PaneEarly, false), 0, 1, "5", 1),
			},
		},
		{
			name:    "late elements within lateness give LATE panes, discarding",
			trigger: windowing.Trigger{AllowedLateness: 5 * m, Accumulation: windowing.Discarding},
			steps: []step{
				add(view("1", "u1", 10*s)), watermark(61 * s),
				add(buy("2", "u2", 30*s, "5")), watermark(70 * s),
				add(view("3", "u3", 40*s)), watermark(80 * s),
			},
			want: []schemas.ProductMetric{
				row(pane(w0, m, 0, schemas.PaneOnTime, false), 1, 0, "", 1),
				row(pane(w0, m, 1, schemas.PaneLate, false), 0, 1, "5", 1),
				row(pane(w0, m, 2, schemas.PaneLate, false), 1, 0, "", 1),
			},
		},
		{
			// On Prism v2.77 an accumulating LATE pane fires only when the window closes, with
			// every late element in it (windowing.Options refuses this combination on Prism);
			// its values are the window's total.
			name:    "a late element within lateness gives a LATE pane, accumulating",
			trigger: windowing.Trigger{AllowedLateness: 5 * m},
			steps: []step{
				add(view("1", "u1", 10*s)), watermark(61 * s),
				add(buy("2", "u2", 30*s, "5")), watermark(70 * s),
			},
			want: []schemas.ProductMetric{
				row(pane(w0, m, 0, schemas.PaneOnTime, false), 1, 0, "", 1),
				row(pane(w0, m, 1, schemas.PaneLate, true), 1, 1, "5", 2),
			},
		},
		{
			name:    "late elements beyond lateness are dropped; those decode marked are counted",
			trigger: windowing.Trigger{AllowedLateness: m, Accumulation: windowing.Discarding},
			steps: []step{
				// Decode marks an event Late when its source timestamp trails its event time by
				// more than maxOutOfOrderness + allowedLateness, so it is counted here...
				add(view("1", "u1", 10*s), late(buy("2", "u2", 15*s, "99"))),
				watermark(61 * s), watermark(5 * m),
				// ...because an unmarked one past the window's lateness is dropped by the
				// runner at the GroupByKey without a trace.
				add(view("3", "u3", 20*s)),
			},
			want:     []schemas.ProductMetric{row(pane(w0, m, 0, schemas.PaneOnTime, false), 1, 0, "", 1)},
			counters: map[string]int64{"late.dropped": 1, "aggregate.out": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, s := beam.NewPipelineWithRoot()
			events := teststream.Create(s, stream(t, tc.steps))
			rows := ProductMetrics(s, events, Config{WindowDuration: time.Minute, Windowing: tc.trigger})
			beamtest.Collect(s, t.Name(), rows)
			got, counters := runCollect(t, p, func(r schemas.ProductMetric) string { return r.ProductID + paneKey(r.Pane) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			checkCounters(t, counters, tc.counters)
		})
	}
}
