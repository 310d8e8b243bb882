package sessions

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function1x2[schemas.Event, beam.EventTime, schemas.Event](atEventTime)
	register.DoFn2x0[context.Context, schemas.UserSession](&discardFn{})
}

// atEventTime stamps an event with its event time, as decode does.
func atEventTime(e schemas.Event) (beam.EventTime, schemas.Event) {
	return beam.EventTime(e.EventTime.UnixMilli()), e
}

type discardFn struct{}

func (discardFn) ProcessElement(context.Context, schemas.UserSession) {}

// benchEvents are n events of 500 users in four bursts 40 minutes apart, so each user has
// four sessions of about n/2000 events.
func benchEvents(n int) []schemas.Event {
	types := []string{schemas.PageView, schemas.PageView, schemas.AddToCart, schemas.Purchase}
	evs := make([]schemas.Event, n)
	for i := range evs {
		at := time.Duration(i)*100*time.Millisecond + time.Duration(i*4/n)*40*time.Minute
		evs[i] = schemas.Event{EventID: fmt.Sprint(i), EventType: types[i%len(types)], EventTime: t0.Add(at),
			UserID: fmt.Sprintf("u%d", i%500), ProductID: fmt.Sprintf("p%d", i%200), AmountUSD: 12 * schemas.DecimalScale}
	}
	return evs
}

// BenchmarkUserSessions measures the sessionizer on Prism: events/s through key, buffer and
// timers, with every session emitted once.
func BenchmarkUserSessions(b *testing.B) {
	const n = 20000
	evs := benchEvents(n)
	for b.Loop() {
		p, s := beam.NewPipelineWithRoot()
		events := beam.ParDo(s, atEventTime, beam.CreateList(s, evs))
		beam.ParDo0(s, &discardFn{}, UserSessions(s, events, Config{}))
		if err := ptest.Run(p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
}
