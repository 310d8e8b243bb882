package fraud_test

import (
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/fraud"
)

// Detect fires the velocity rule once per burst: with at most 2 purchases a minute, u1's
// three purchases within 40 s give one alert naming all three; u2's two do not.
func ExampleDetect() {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	buy := func(id, user string, at time.Duration) schemas.Event {
		usd := schemas.Decimal(20 * schemas.DecimalScale)
		return schemas.Event{EventID: id, EventType: schemas.Purchase, EventTime: t0.Add(at), UserID: user,
			ProductID: "p1", Amount: usd, Currency: "USD", AmountUSD: usd}
	}
	evs := []schemas.Event{
		buy("e1", "u1", 0), buy("e2", "u1", 20*time.Second), buy("e3", "u1", 40*time.Second),
		buy("e4", "u2", 0), buy("e5", "u2", 30*time.Second),
	}

	p, s := beam.NewPipelineWithRoot()
	alerts := fraud.Detect(s, beamtest.Events(s, evs), fraud.Config{VelocityCount: 2, VelocityWindow: time.Minute})
	beamtest.Collect(s, "ExampleDetect", alerts)
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range beamtest.Collected[schemas.FraudAlert]("ExampleDetect") {
		var ids []string
		for _, pu := range a.Purchases {
			ids = append(ids, pu.EventID)
		}
		fmt.Println(a.UserID, a.Rule, a.DetectedAt.Format("15:04:05"), ids, a.TotalUSD, a.Details)
	}
	// Output:
	// u1 velocity 12:00:40 [e1 e2 e3] 60 3 purchases within 1m0s, more than the limit of 2
}
