package fraud

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

// benchEvents are n events of 500 users, 100 ms apart; every every-th is a purchase.
func benchEvents(n, every int) []schemas.Event {
	evs := make([]schemas.Event, n)
	for i := range evs {
		evs[i] = buy(fmt.Sprint(i), fmt.Sprintf("u%d", i%500), time.Duration(i)*100*time.Millisecond, int64(10+i%7))
		if i%every != 0 {
			evs[i].EventType = schemas.PageView
		}
	}
	return evs
}

// BenchmarkDetect measures the detector on Prism: events/s through key, buffer, timers and
// both rules, for a stream of purchases only and for one where a quarter are purchases.
func BenchmarkDetect(b *testing.B) {
	for _, bc := range []struct {
		name  string
		every int
	}{{"purchases", 1}, {"quarter_purchases", 4}} {
		b.Run(bc.name, func(b *testing.B) {
			beamtest.Bench(b, benchEvents(20000, bc.every), func(s beam.Scope, events beam.PCollection) beam.PCollection {
				return Detect(s, events, Config{})
			})
		})
	}
}
