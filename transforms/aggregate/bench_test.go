package aggregate

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

func init() {
	register.Combiner3[metricAccum, Contribution, schemas.ProductMetric](&metricCombineFn{})
	register.Function3x1[beam.PaneInfo, string, schemas.ProductMetric, schemas.ProductMetric](withKey)
	register.DoFn2x0[context.Context, schemas.ProductMetric](&discardFn{})
}

// metricAccum and metricCombineFn are the lifted-combine alternative to productMetricFn, kept
// here only to measure what reading real panes after a GroupByKey costs.
type metricAccum struct {
	Views, Carts, Purchases, Refunds int64
	Revenue, RefundsUSD              int64
	Category                         string
	Users                            map[string]bool
}

type metricCombineFn struct{}

func (metricCombineFn) CreateAccumulator() metricAccum { return metricAccum{Users: map[string]bool{}} }

func (metricCombineFn) AddInput(a metricAccum, c Contribution) metricAccum {
	switch c.EventType {
	case schemas.PageView:
		a.Views++
	case schemas.AddToCart:
		a.Carts++
	case schemas.Purchase:
		a.Purchases++
		a.Revenue += c.AmountUSD
	case schemas.Refund:
		a.Refunds++
		a.RefundsUSD += c.AmountUSD
	}
	a.Category = c.Category
	a.Users[c.UserID] = true
	return a
}

func (metricCombineFn) MergeAccumulators(a, b metricAccum) metricAccum {
	a.Views += b.Views
	a.Carts += b.Carts
	a.Purchases += b.Purchases
	a.Refunds += b.Refunds
	a.Revenue += b.Revenue
	a.RefundsUSD += b.RefundsUSD
	if a.Category == "" {
		a.Category = b.Category
	}
	for u := range b.Users {
		a.Users[u] = true
	}
	return a
}

func (metricCombineFn) ExtractOutput(a metricAccum) schemas.ProductMetric {
	return schemas.ProductMetric{Category: a.Category, Views: a.Views, Carts: a.Carts, Purchases: a.Purchases, Refunds: a.Refunds,
		RevenueUSD: schemas.NumericOf(schemas.Decimal(a.Revenue)), RefundsUSD: schemas.NumericOf(schemas.Decimal(a.RefundsUSD)), DistinctUsers: int64(len(a.Users))}
}

func withKey(pane beam.PaneInfo, product string, m schemas.ProductMetric) schemas.ProductMetric {
	m.ProductID = product
	m.PaneIndex = pane.Index // blank after a lifted combine on Prism v2.77
	return m
}

type discardFn struct{}

func (discardFn) ProcessElement(context.Context, schemas.ProductMetric) {}

func benchEvents(n int) []schemas.Event {
	types := []string{schemas.PageView, schemas.PageView, schemas.AddToCart, schemas.Purchase, schemas.Refund}
	evs := make([]schemas.Event, n)
	for i := range evs {
		evs[i] = ev(fmt.Sprint(i), types[i%len(types)], fmt.Sprintf("u%d", i%500), fmt.Sprintf("p%d", i%200),
			time.Duration(i)*50*time.Millisecond, "12.34")
	}
	return evs
}

// BenchmarkProductMetrics runs product_metrics on Prism both ways over the same events: the
// GroupByKey + DoFn used (true panes) and a lifted CombinePerKey (blank panes on Prism).
func BenchmarkProductMetrics(b *testing.B) {
	const n = 20000
	evs := benchEvents(n)
	build := map[string]func(s beam.Scope, events beam.PCollection) beam.PCollection{
		"gbk_dofn": func(s beam.Scope, events beam.PCollection) beam.PCollection {
			return ProductMetrics(s, events, Config{WindowDuration: time.Minute})
		},
		"lifted_combine": func(s beam.Scope, events beam.PCollection) beam.PCollection {
			keyed := beam.ParDo(s, &productKeyFn{}, events)
			windowed := beam.WindowInto(s, window.NewFixedWindows(time.Minute), keyed)
			return beam.ParDo(s, withKey, beam.CombinePerKey(s, &metricCombineFn{}, windowed))
		},
	}
	for _, name := range []string{"gbk_dofn", "lifted_combine"} {
		b.Run(name, func(b *testing.B) {
			beamtest.Bench(b, evs, build[name])
		})
	}
}

func init() {
	register.Function2x0[schemas.Event, func(string, ProductTotal)](purchaseAsTotal)
	register.DoFn2x0[context.Context, schemas.TrendingProducts](&discardTrendingFn{})
}

// purchaseAsTotal keys every purchase by the one ranking key, for the single-GroupByKey
// alternative of TrendingProducts.
func purchaseAsTotal(e schemas.Event, emit func(string, ProductTotal)) {
	if e.EventType == schemas.Purchase {
		emit(rankingKey, ProductTotal{ProductID: e.ProductID, Category: e.Category, Purchases: 1, RevenueUSD: schemas.NumericOf(e.AmountUSD)})
	}
}

type discardTrendingFn struct{}

func (discardTrendingFn) ProcessElement(context.Context, schemas.TrendingProducts) {}

// BenchmarkTrendingProducts runs trending_products (1 h windows every 5 m, top 10) on Prism
// three ways over the same events:
//   - two_gbk: as built, per-product totals per period, then one key per sliding window;
//   - one_gbk: every purchase straight under one key per sliding window (accumulating);
//   - sliding_per_product: per-product sliding windows first, then one key per window.
func BenchmarkTrendingProducts(b *testing.B) {
	const n = 20000
	evs := benchEvents(n)
	win := windowing.Sliding(time.Hour, 5*time.Minute)
	acc := windowing.Trigger{}.WithAccumulation(windowing.Accumulating)
	build := map[string]func(s beam.Scope, events beam.PCollection) beam.PCollection{
		"two_gbk": func(s beam.Scope, events beam.PCollection) beam.PCollection {
			return TrendingProducts(s, events, TrendingConfig{Window: win})
		},
		"one_gbk": func(s beam.Scope, events beam.PCollection) beam.PCollection {
			purchases := beam.ParDo(s, purchaseAsTotal, events)
			return beam.ParDo(s, &rankFn{TopN: 10}, beam.GroupByKey(s, windowing.Into(s, win, acc, purchases)))
		},
		"sliding_per_product": func(s beam.Scope, events beam.PCollection) beam.PCollection {
			purchases := beam.ParDo(s, &purchaseKeyFn{}, events)
			perProduct := windowing.Into(s, win, acc.WithAccumulation(windowing.Discarding), purchases)
			deltas := beam.ParDo(s, &productTotalFn{}, beam.GroupByKey(s, perProduct))
			perWindow := windowing.Into(s, windowing.Fixed(win.Period), acc, deltas)
			return beam.ParDo(s, &rankFn{TopN: 10}, beam.GroupByKey(s, perWindow))
		},
	}
	for _, name := range []string{"two_gbk", "one_gbk", "sliding_per_product"} {
		b.Run(name, func(b *testing.B) {
			beamtest.Bench(b, evs, build[name])
		})
	}
}
