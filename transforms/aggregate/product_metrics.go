package aggregate

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Contribution)(nil)).Elem())
	register.DoFn3x0[context.Context, schemas.Event, func(string, Contribution)](&productKeyFn{})
	register.DoFn6x0[context.Context, beam.PaneInfo, beam.Window, string, func(*Contribution) bool, func(schemas.ProductMetric)](&productMetricFn{})
	register.Emitter2[string, Contribution]()
	register.Emitter1[schemas.ProductMetric]()
	register.Iter1[Contribution]()
}

// DefaultWindow is product_metrics' default fixed window.
const DefaultWindow = time.Minute

// Config configures ProductMetrics.
type Config struct {
	// WindowDuration is the fixed window size.
	WindowDuration time.Duration
	// Windowing says when panes fire and whether they accumulate; the zero value fires one
	// ON_TIME pane per window and key.
	Windowing windowing.Trigger
}

// Contribution is what one event adds to its product's window: only the fields the metrics
// need cross the shuffle.
type Contribution struct {
	EventType string
	UserID    string
	Category  string
	AmountUSD int64 // schemas.Decimal units
}

// ProductMetrics counts views, carts, purchases, refunds, USD revenue and distinct users per
// product in fixed windows, one row per product and pane (see the package doc for how panes
// relate). Events marked late by decode, and events that arrived behind the source's watermark
// after their window closed (schemas.Event.ExpiredAt), are kept out (a runner would drop them
// silently at the GroupByKey) and counted in late.dropped; events without a product are counted in
// product_metrics.no_product.
//
// It panics if cfg.Windowing is invalid.
//
// ProductMetrics: PCollection<schemas.Event> -> PCollection<schemas.ProductMetric>
func ProductMetrics(s beam.Scope, events beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("aggregate.ProductMetrics")
	if err := cfg.Windowing.Validate(); err != nil {
		panic(fmt.Sprintf("aggregate.ProductMetrics: invalid config: %v", err))
	}
	if cfg.WindowDuration <= 0 {
		cfg.WindowDuration = DefaultWindow
	}
	keyed := beam.ParDo(s, &productKeyFn{Window: cfg.WindowDuration, AllowedLateness: cfg.Windowing.AllowedLateness}, events)
	windowed := windowing.Into(s, windowing.Fixed(cfg.WindowDuration), cfg.Windowing, keyed)
	return beam.ParDo(s, &productMetricFn{}, beam.GroupByKey(s, windowed))
}

// productKeyFn keys events by product. Window and AllowedLateness are the windows', to judge
// events that arrived behind the watermark.
type productKeyFn struct {
	Window          time.Duration
	AllowedLateness time.Duration

	late, noProduct telemetry.Counter
}

func (fn *productKeyFn) Setup() {
	fn.late = telemetry.NewCounter("late.dropped")
	fn.noProduct = telemetry.NewCounter("product_metrics.no_product")
}

func (fn *productKeyFn) ProcessElement(ctx context.Context, e schemas.Event, emit func(string, Contribution)) {
	switch {
	case e.Late || e.ExpiredAt(fn.Window, fn.AllowedLateness):
		fn.late.Inc(ctx, 1)
	case e.ProductID == "":
		fn.noProduct.Inc(ctx, 1)
	default:
		emit(e.ProductID, Contribution{EventType: e.EventType, UserID: e.UserID, Category: e.Category, AmountUSD: int64(e.AmountUSD)})
	}
}

type productMetricFn struct {
	rows telemetry.Counter
}

func (fn *productMetricFn) Setup() { fn.rows = telemetry.NewCounter("aggregate.out") }

func (fn *productMetricFn) ProcessElement(ctx context.Context, pane beam.PaneInfo, w beam.Window, product string,
	values func(*Contribution) bool, emit func(schemas.ProductMetric)) {
	row := schemas.ProductMetric{Pane: schemas.PaneOf(w, pane), ProductID: product}
	users := map[string]struct{}{}
	var c Contribution
	for values(&c) {
		if row.Category == "" || row.Category == "unknown" {
			row.Category = c.Category
		}
		switch c.EventType {
		case schemas.PageView:
			row.Views++
		case schemas.AddToCart:
			row.Carts++
		case schemas.Purchase:
			row.Purchases++
			row.RevenueUSD = row.RevenueUSD.AddDecimal(schemas.Decimal(c.AmountUSD))
		case schemas.Refund:
			row.Refunds++
			row.RefundsUSD = row.RefundsUSD.AddDecimal(schemas.Decimal(c.AmountUSD))
		}
		users[c.UserID] = struct{}{}
	}
	row.DistinctUsers = int64(len(users))
	fn.rows.Inc(ctx, 1)
	emit(row)
}
