package aggregate

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

func TestTrendingProducts(t *testing.T) {
	const m = time.Minute
	s := time.Second
	buy := func(id, product string, at time.Duration, usd string) schemas.Event {
		return ev(id, schemas.Purchase, "u"+id, product, at, usd)
	}
	ranked := func(rank int64, product string, purchases int64, usd string) schemas.RankedProduct {
		return schemas.RankedProduct{Rank: rank, ProductID: product, Category: "books", Purchases: purchases, RevenueUSD: num(usd)}
	}
	row := func(p schemas.Pane, ranking ...schemas.RankedProduct) schemas.TrendingProducts {
		return schemas.TrendingProducts{Pane: p, Ranking: ranking}
	}
	// Windows of 10 m every 5 m: an event at 12:06 is in [12:00, 12:10) and [12:05, 12:15).
	w10 := windowing.Sliding(10*m, 5*m)
	at := func(min int) time.Time { return beamtest.T0.Add(time.Duration(min) * m) }

	// A late purchase within lateness gives both of its windows a LATE ranking, the complete
	// one whatever the accumulation mode. On Prism v2.77 the LATE ranking fires when the
	// window closes (end + lateness), since the ranking stage accumulates.
	lateSteps := []step{
		add(buy("1", "p1", 6*m, "10"), buy("2", "p2", 7*m, "4"), buy("3", "p2", 7*m, "4")),
		watermark(15*m + s),
		add(buy("4", "p1", 8*m, "10"), buy("5", "p1", 8*m, "10")),
		watermark(30 * m),
	}
	lateWant := []schemas.TrendingProducts{
		row(pane(at(0), 10*m, 0, schemas.PaneOnTime, false), ranked(1, "p2", 2, "8"), ranked(2, "p1", 1, "10")),
		row(pane(at(0), 10*m, 1, schemas.PaneLate, true), ranked(1, "p1", 3, "30"), ranked(2, "p2", 2, "8")),
		row(pane(at(5), 10*m, 0, schemas.PaneOnTime, false), ranked(1, "p2", 2, "8"), ranked(2, "p1", 1, "10")),
		row(pane(at(5), 10*m, 1, schemas.PaneLate, true), ranked(1, "p1", 3, "30"), ranked(2, "p2", 2, "8")),
	}

	tests := []struct {
		name     string
		window   windowing.Window
		trigger  windowing.Trigger
		topN     int
		steps    []step
		want     []schemas.TrendingProducts
		counters map[string]int64
	}{
		{
			name:   "an event is counted in exactly size/period windows",
			window: windowing.Sliding(15*m, 5*m),
			steps: []step{
				add(buy("1", "p1", 7*m, "10"), ev("2", schemas.PageView, "u2", "p2", 7*m, "")),
			},
			want: []schemas.TrendingProducts{
				row(pane(at(-5), 15*m, 0, schemas.PaneOnTime, true), ranked(1, "p1", 1, "10")),
				row(pane(at(0), 15*m, 0, schemas.PaneOnTime, true), ranked(1, "p1", 1, "10")),
				row(pane(at(5), 15*m, 0, schemas.PaneOnTime, true), ranked(1, "p1", 1, "10")),
			},
			counters: map[string]int64{"trending.out": 3},
		},
		{
			// Issue 8 item 11: these sums wrapped in int64 units.
			name:   "revenue beyond an int64 of 1e-9 units",
			window: w10,
			steps: []step{
				add(buy("1", "p1", 6*m, "9223372036"), buy("2", "p1", 6*m, "9223372036"),
					buy("3", "p2", 7*m, "9223372036.854775807"), buy("4", "p2", 7*m, "9223372036.854775807")),
			},
			want: []schemas.TrendingProducts{
				row(pane(at(0), 10*m, 0, schemas.PaneOnTime, true), ranked(1, "p2", 2, "18446744073.709551614"), ranked(2, "p1", 2, "18446744072")),
				row(pane(at(5), 10*m, 0, schemas.PaneOnTime, true), ranked(1, "p2", 2, "18446744073.709551614"), ranked(2, "p1", 2, "18446744072")),
			},
		},
		{
			name:   "ranked by purchases, then revenue, then product id; cut at top N",
			window: w10,
			topN:   3,
			steps: []step{
				add(
					buy("1", "p3", 6*m, "0.5"), buy("2", "p3", 6*m, "0.25"), buy("3", "p3", 6*m, "0.25"), // 3 purchases
					buy("4", "p2", 7*m, "7.5"), buy("5", "p2", 7*m, "7.5"), // 2, most revenue
					buy("6", "p4", 8*m, "5"), buy("7", "p4", 8*m, "5"), // 2, tied with p1: cut by id
					buy("8", "p1", 9*m, "5"), buy("9", "p1", 9*m, "5"),
					buy("10", "p5", 9*m, "100"), // 1
				),
			},
			want: []schemas.TrendingProducts{
				row(pane(at(0), 10*m, 0, schemas.PaneOnTime, true), ranked(1, "p3", 3, "1"), ranked(2, "p2", 2, "15"), ranked(3, "p1", 2, "10")),
				row(pane(at(5), 10*m, 0, schemas.PaneOnTime, true), ranked(1, "p3", 3, "1"), ranked(2, "p2", 2, "15"), ranked(3, "p1", 2, "10")),
			},
		},
		{
			// Each stage fires early after the delay, so a purchase reaches an EARLY ranking
			// within two delays. The watermark steps (inside the window) are needed under
			// teststream only: Prism v2.77 schedules the consumers of a processing-time pane at
			// the next watermark change (or self-checkpoint, as the Pub/Sub source does).
			name:    "early rankings",
			window:  w10,
			trigger: windowing.Trigger{EarlyFiringDelay: 10 * s},
			steps: []step{
				add(buy("1", "p1", 6*m, "10")), processing(30 * s), watermark(6*m + s), processing(30 * s),
				add(buy("2", "p2", 7*m, "4")), processing(30 * s), watermark(7*m + s), processing(30 * s),
				watermark(20 * m),
			},
			want: []schemas.TrendingProducts{
				row(pane(at(0), 10*m, 0, schemas.PaneEarly, false), ranked(1, "p1", 1, "10")),
				row(pane(at(0), 10*m, 1, schemas.PaneEarly, false), ranked(1, "p1", 1, "10"), ranked(2, "p2", 1, "4")),
				row(pane(at(0), 10*m, 2, schemas.PaneOnTime, true), ranked(1, "p1", 1, "10"), ranked(2, "p2", 1, "4")),
				row(pane(at(5), 10*m, 0, schemas.PaneEarly, false), ranked(1, "p1", 1, "10")),
				row(pane(at(5), 10*m, 1, schemas.PaneEarly, false), ranked(1, "p1", 1, "10"), ranked(2, "p2", 1, "4")),
				row(pane(at(5), 10*m, 2, schemas.PaneOnTime, true), ranked(1, "p1", 1, "10"), ranked(2, "p2", 1, "4")),
			},
		},
		{
			name:     "a late purchase within lateness gives a complete LATE ranking (accumulating)",
			window:   w10,
			trigger:  windowing.Trigger{AllowedLateness: 10 * m},
			steps:    lateSteps,
			want:     lateWant,
			counters: map[string]int64{"trending.out": 4},
		},
		{
			name:    "a late purchase within lateness gives a complete LATE ranking (discarding)",
			window:  w10,
			trigger: windowing.Trigger{AllowedLateness: 10 * m, Accumulation: windowing.Discarding},
			steps:   lateSteps,
			want:    lateWant,
		},
		{
			name:    "purchases marked late are kept out and counted",
			window:  w10,
			trigger: windowing.Trigger{AllowedLateness: 5 * m, Accumulation: windowing.Discarding},
			steps: []step{
				add(buy("1", "p1", 6*m, "10"), late(buy("2", "p2", 6*m, "10"))),
			},
			want: []schemas.TrendingProducts{
				row(pane(at(0), 10*m, 0, schemas.PaneOnTime, false), ranked(1, "p1", 1, "10")),
				row(pane(at(0), 10*m, 1, schemas.PaneLate, true), ranked(1, "p1", 1, "10")),
				row(pane(at(5), 10*m, 0, schemas.PaneOnTime, false), ranked(1, "p1", 1, "10")),
				row(pane(at(5), 10*m, 1, schemas.PaneLate, true), ranked(1, "p1", 1, "10")),
			},
			counters: map[string]int64{"trending.late_dropped": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, s := beam.NewPipelineWithRoot()
			events := teststream.Create(s, stream(t, tc.steps))
			rows := TrendingProducts(s, events, TrendingConfig{Window: tc.window, Windowing: tc.trigger, TopN: tc.topN})
			beamtest.Collect(s, t.Name(), rows)
			got, counters := runCollect(t, p, func(r schemas.TrendingProducts) string { return paneKey(r.Pane) })
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			checkCounters(t, counters, tc.counters)
		})
	}
}

func TestTrendingConfigValidate(t *testing.T) {
	tests := []struct {
		cfg     TrendingConfig
		wantErr string
	}{
		{TrendingConfig{}, ""},
		{TrendingConfig{Window: windowing.Sliding(time.Hour, 5*time.Minute), TopN: 3}, ""},
		{TrendingConfig{Window: windowing.Fixed(time.Hour)}, ""},
		{TrendingConfig{Window: windowing.Sliding(time.Hour, 7*time.Minute)}, "multiple of the period"},
		{TrendingConfig{Window: windowing.Sliding(time.Hour, 2*time.Hour)}, "multiple of the period"},
		{TrendingConfig{Window: windowing.Sliding(-time.Hour, time.Minute)}, "positive"},
		{TrendingConfig{TopN: -1}, "TopN"},
		{TrendingConfig{Windowing: windowing.Trigger{LateFirings: "often"}}, "LateFirings"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%+v: Validate() = %v, want error containing %q", tc.cfg, err, tc.wantErr)
		}
	}
}

// TestTrendingProductsCoder round-trips a row through the Beam coder registered for it.
func TestTrendingProductsCoder(t *testing.T) {
	want := schemas.TrendingProducts{
		Pane:    pane(beamtest.T0, time.Hour, 3, schemas.PaneLate, true),
		Ranking: []schemas.RankedProduct{{Rank: 1, ProductID: "p1", Category: "books", Purchases: 2, RevenueUSD: num("19.99")}},
	}
	typ := reflect.TypeOf(want)
	var buf bytes.Buffer
	if err := beam.NewElementEncoder(typ).Encode(want, &buf); err != nil {
		t.Fatal(err)
	}
	got, err := beam.NewElementDecoder(typ).Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
