package sessions

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

// benchEvents are n events of 500 users in four bursts 40 minutes apart, so each user has
// four sessions of about n/2000 events.
func benchEvents(n int) []schemas.Event {
	types := []string{schemas.PageView, schemas.PageView, schemas.AddToCart, schemas.Purchase}
	evs := make([]schemas.Event, n)
	for i := range evs {
		at := time.Duration(i)*100*time.Millisecond + time.Duration(i*4/n)*40*time.Minute
		evs[i] = schemas.Event{EventID: fmt.Sprint(i), EventType: types[i%len(types)], EventTime: beamtest.T0.Add(at),
			UserID: fmt.Sprintf("u%d", i%500), ProductID: fmt.Sprintf("p%d", i%200), AmountUSD: 12 * schemas.DecimalScale}
	}
	return evs
}

// BenchmarkUserSessions measures the sessionizer on Prism: events/s through key, buffer and
// timers, with every session emitted once.
func BenchmarkUserSessions(b *testing.B) {
	beamtest.Bench(b, benchEvents(20000), func(s beam.Scope, events beam.PCollection) beam.PCollection {
		return UserSessions(s, events, Config{})
	})
}
