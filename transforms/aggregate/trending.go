package aggregate

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/schemas/wire"
	"github.com/tributary-dev/tributary/transforms/telemetry"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Purchase)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*ProductTotal)(nil)).Elem())
	// Beam's schema coder would not see Numeric's unexported digits.
	beam.RegisterCoder(reflect.TypeOf(ProductTotal{}), encodeProductTotal, decodeProductTotal)
	register.DoFn3x0[context.Context, schemas.Event, func(string, Purchase)](&purchaseKeyFn{})
	register.DoFn4x0[context.Context, string, func(*Purchase) bool, func(string, ProductTotal)](&productTotalFn{})
	register.DoFn6x0[context.Context, beam.PaneInfo, beam.Window, string, func(*ProductTotal) bool, func(schemas.TrendingProducts)](&rankFn{})
	register.Emitter2[string, Purchase]()
	register.Emitter2[string, ProductTotal]()
	register.Emitter1[schemas.TrendingProducts]()
	register.Iter1[Purchase]()
	register.Iter1[ProductTotal]()
}

// TrendingConfig configures TrendingProducts.
type TrendingConfig struct {
	// Window is the sliding window (windowing.Sliding); its size must be a multiple of its
	// period. The zero value is 1 h every 5 m.
	Window windowing.Window
	// Windowing says when rankings fire. Its accumulation mode does not change the rows: each
	// is the window's complete ranking.
	Windowing windowing.Trigger
	// TopN is how many products a ranking holds (default 10).
	TopN int
}

// Purchase is what one purchase adds to its product's window.
type Purchase struct {
	Category  string
	AmountUSD int64 // schemas.Decimal units
}

// ProductTotal is one product's purchases in one pane of one period: the input of the ranking.
type ProductTotal struct {
	ProductID  string
	Category   string
	Purchases  int64
	RevenueUSD schemas.Numeric // a sum of Decimals: wider than one
}

func encodeProductTotal(t ProductTotal) []byte {
	w := wire.Writer(make([]byte, 0, 32)).Str(t.ProductID).Str(t.Category).Int(t.Purchases)
	return t.RevenueUSD.AppendWire(w)
}

func decodeProductTotal(b []byte) (ProductTotal, error) {
	r := wire.NewReader(b)
	t := ProductTotal{ProductID: r.Str(), Category: r.Str(), Purchases: r.Int(), RevenueUSD: schemas.ReadNumeric(r)}
	return t, r.Done()
}

// Validate checks the window, the trigger and TopN; zero values stand for the defaults.
func (c TrendingConfig) Validate() error {
	if w := c.Window; w.Size != 0 || w.Period != 0 {
		switch {
		case w.Size <= 0 || w.Period < 0:
			return fmt.Errorf("window %v: sizes must be positive", w)
		case w.IsSliding() && (w.Period > w.Size || w.Size%w.Period != 0):
			return fmt.Errorf("window %v: the size must be a multiple of the period", w)
		}
	}
	if c.TopN < 0 {
		return fmt.Errorf("TopN %d is negative", c.TopN)
	}
	return c.Windowing.Validate()
}

// rankingKey is the one key of the ranking stage: all products of a window meet under it.
const rankingKey = "trending"

// TrendingProducts ranks products by purchases in sliding windows: one row per window and pane
// holding the top TopN products (purchases descending, then revenue descending, then product id
// ascending). Purchases marked late by decode are kept out and counted in trending.late_dropped.
//
// It takes two GroupByKeys. The first sums each product's purchases per period (fixed windows of
// one period, discarding panes: deltas), spread over products and touching each purchase once.
// The second brings all per-product deltas of a sliding window under one key: a GroupByKey
// emits at the end of its window, and since the size is a multiple of the period, a period's
// delta lands in exactly the sliding windows that contain that period. Its panes accumulate, so
// every ranking adds up all deltas seen so far: a complete ranking whatever --accumulation
// says. The row's pane is the second GroupByKey's.
//
// Keeping sliding windows out of the first stage matters on Prism v2.77, which holds a stage's
// watermark at its earliest pending element (engine/elementmanager.go,
// minPendingTimestampLocked) rather than at the end of that element's window: per-product
// sliding windows held the ranking stage back until the next overlapping window fired, so its
// ON_TIME ranking took in purchases that were late. Prism may also hold back the late firings
// of accumulating panes until the window closes (see windowing.Options): with an allowed
// lateness, a window's LATE ranking can come only at end + allowed lateness, with every late
// purchase in it. On-time and early rankings are not affected.
//
// It panics if cfg is invalid.
//
// TrendingProducts: PCollection<schemas.Event> -> PCollection<schemas.TrendingProducts>
func TrendingProducts(s beam.Scope, events beam.PCollection, cfg TrendingConfig) beam.PCollection {
	s = s.Scope("aggregate.TrendingProducts")
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("aggregate.TrendingProducts: invalid config: %v", err))
	}
	if cfg.Window.Size <= 0 {
		cfg.Window = windowing.Sliding(windowing.DefaultTrendingWindow, windowing.DefaultTrendingPeriod)
	}
	if cfg.TopN <= 0 {
		cfg.TopN = windowing.DefaultTrendingTopN
	}
	period := cfg.Window.Size
	if cfg.Window.IsSliding() {
		period = cfg.Window.Period
	}

	purchases := beam.ParDo(s, &purchaseKeyFn{Window: period, AllowedLateness: cfg.Windowing.AllowedLateness}, events)
	perPeriod := windowing.Into(s, windowing.Fixed(period), cfg.Windowing.WithAccumulation(windowing.Discarding), purchases)
	deltas := beam.ParDo(s, &productTotalFn{}, beam.GroupByKey(s, perPeriod))
	perWindow := windowing.Into(s, cfg.Window, cfg.Windowing.WithAccumulation(windowing.Accumulating), deltas)
	return beam.ParDo(s, &rankFn{TopN: cfg.TopN}, beam.GroupByKey(s, perWindow))
}

// purchaseKeyFn keys purchases by product. Window (the period) and AllowedLateness judge
// purchases that arrived behind the watermark.
type purchaseKeyFn struct {
	Window          time.Duration
	AllowedLateness time.Duration

	late, noProduct telemetry.Counter
}

func (fn *purchaseKeyFn) Setup() {
	fn.late = telemetry.NewCounter("trending.late_dropped")
	fn.noProduct = telemetry.NewCounter("trending.no_product")
}

func (fn *purchaseKeyFn) ProcessElement(ctx context.Context, e schemas.Event, emit func(string, Purchase)) {
	switch {
	case e.EventType != schemas.Purchase:
	case e.Late || e.ExpiredAt(fn.Window, fn.AllowedLateness):
		fn.late.Inc(ctx, 1)
	case e.ProductID == "": // decode rejects these; counted in case a later step produces one
		fn.noProduct.Inc(ctx, 1)
	default:
		emit(e.ProductID, Purchase{Category: e.Category, AmountUSD: int64(e.AmountUSD)})
	}
}

// productTotalFn sums one product's purchases of one pane.
type productTotalFn struct{}

func (fn *productTotalFn) ProcessElement(_ context.Context, product string, purchases func(*Purchase) bool,
	emit func(string, ProductTotal)) {
	t := ProductTotal{ProductID: product}
	var p Purchase
	for purchases(&p) {
		t.Purchases++
		t.RevenueUSD = t.RevenueUSD.AddDecimal(schemas.Decimal(p.AmountUSD))
		t.Category = betterCategory(t.Category, p.Category)
	}
	emit(rankingKey, t)
}

// rankFn ranks the products of one window from all deltas of its panes so far.
type rankFn struct {
	TopN int

	rows telemetry.Counter
}

func (fn *rankFn) Setup() { fn.rows = telemetry.NewCounter("trending.out") }

func (fn *rankFn) ProcessElement(ctx context.Context, pane beam.PaneInfo, w beam.Window, _ string,
	deltas func(*ProductTotal) bool, emit func(schemas.TrendingProducts)) {
	byProduct := map[string]*schemas.RankedProduct{}
	var d ProductTotal
	for deltas(&d) {
		p := byProduct[d.ProductID]
		if p == nil {
			p = &schemas.RankedProduct{ProductID: d.ProductID}
			byProduct[d.ProductID] = p
		}
		p.Purchases += d.Purchases
		p.RevenueUSD = p.RevenueUSD.Add(d.RevenueUSD)
		p.Category = betterCategory(p.Category, d.Category)
	}
	ranking := make([]schemas.RankedProduct, 0, len(byProduct))
	for _, p := range byProduct {
		ranking = append(ranking, *p)
	}
	slices.SortFunc(ranking, compareRanked)
	ranking = ranking[:min(len(ranking), fn.TopN)]
	for i := range ranking {
		ranking[i].Rank = int64(i + 1)
	}

	fn.rows.Inc(ctx, 1)
	emit(schemas.TrendingProducts{Pane: schemas.PaneOf(w, pane), Ranking: ranking})
}

// compareRanked orders by purchases (descending), revenue (descending), product id.
func compareRanked(a, b schemas.RankedProduct) int {
	if c := cmp.Compare(b.Purchases, a.Purchases); c != 0 {
		return c
	}
	if c := b.RevenueUSD.Cmp(a.RevenueUSD); c != 0 {
		return c
	}
	return cmp.Compare(a.ProductID, b.ProductID)
}

// betterCategory keeps a catalog category over an empty or "unknown" one, as product_metrics
// does; between two known ones it keeps the smaller, so the result does not depend on order.
func betterCategory(have, next string) string {
	switch {
	case next == "" || next == "unknown":
		if have == "" {
			return next
		}
		return have
	case have == "" || have == "unknown":
		return next
	}
	return min(have, next)
}
