package aggregate_test

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/aggregate"
)

// ProductMetrics counts per product and one-minute window; with the zero Windowing each
// (window, product) fires one ON_TIME pane, which is final.
func ExampleProductMetrics() {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	ev := func(id, typ, user, product string, at time.Duration, usd int64) schemas.Event {
		return schemas.Event{EventID: id, EventType: typ, EventTime: t0.Add(at), UserID: user, ProductID: product,
			Amount: schemas.Decimal(usd * schemas.DecimalScale), Currency: "USD", AmountUSD: schemas.Decimal(usd * schemas.DecimalScale)}
	}
	evs := []schemas.Event{
		ev("e1", schemas.PageView, "u1", "p1", 5*time.Second, 0),
		ev("e2", schemas.PageView, "u2", "p1", 20*time.Second, 0),
		ev("e3", schemas.Purchase, "u2", "p1", 40*time.Second, 25),
		ev("e4", schemas.PageView, "u1", "p2", 50*time.Second, 0),
		ev("e5", schemas.Purchase, "u1", "p1", 70*time.Second, 10), // the next window
	}

	p, s := beam.NewPipelineWithRoot()
	rows := aggregate.ProductMetrics(s, beamtest.Events(s, evs), aggregate.Config{WindowDuration: time.Minute})
	beamtest.Collect(s, "ExampleProductMetrics", rows)
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	var lines []string
	for _, r := range beamtest.Collected[schemas.ProductMetric]("ExampleProductMetrics") {
		lines = append(lines, fmt.Sprintf("%s %s %s views=%d purchases=%d revenue=%s users=%d %s final=%t",
			r.WindowStart.Format("15:04"), r.WindowEnd.Format("15:04"), r.ProductID, r.Views, r.Purchases,
			r.RevenueUSD, r.DistinctUsers, r.PaneTiming, r.IsFinal))
	}
	slices.Sort(lines)
	fmt.Println(strings.Join(lines, "\n"))
	// Output:
	// 12:00 12:01 p1 views=2 purchases=1 revenue=25 users=2 ON_TIME final=true
	// 12:00 12:01 p2 views=1 purchases=0 revenue=0 users=1 ON_TIME final=true
	// 12:01 12:02 p1 views=0 purchases=1 revenue=10 users=1 ON_TIME final=true
}
