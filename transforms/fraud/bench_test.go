package fraud

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
	register.DoFn2x0[context.Context, schemas.FraudAlert](&discardFn{})
}

// atEventTime stamps an event with its event time, as decode does.
func atEventTime(e schemas.Event) (beam.EventTime, schemas.Event) {
	return beam.EventTime(e.EventTime.UnixMilli()), e
}

type discardFn struct{}

func (discardFn) ProcessElement(context.Context, schemas.FraudAlert) {}

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
	const n = 20000
	for _, bc := range []struct {
		name  string
		every int
	}{{"purchases", 1}, {"quarter_purchases", 4}} {
		b.Run(bc.name, func(b *testing.B) {
			evs := benchEvents(n, bc.every)
			for b.Loop() {
				p, s := beam.NewPipelineWithRoot()
				events := beam.ParDo(s, atEventTime, beam.CreateList(s, evs))
				beam.ParDo0(s, &discardFn{}, Detect(s, events, Config{}))
				if err := ptest.Run(p); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
