package bench

import (
	"context"
	"iter"
	"time"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/dedup"
	"github.com/tributary-dev/tributary/transforms/enrich"
)

// Reference is the plain-Go loop's output: the events table by event id, and the per-window,
// per-product counts of the product_metrics table.
type Reference struct {
	Events  map[string]bool            // event ids written to the events table
	Metrics map[MetricKey]ProductTotal // product_metrics, summed over panes
	Users   map[string]userTotal       // the sessions' and fraud rules' running state
	Dead    int64
}

// MetricKey is a product_metrics row's key.
type MetricKey struct {
	WindowStart time.Time
	ProductID   string
}

// ProductTotal is a product_metrics row's counts.
type ProductTotal struct {
	Events, Purchases int64
}

type userTotal struct {
	sessionStart, last time.Time
	sessions           int64
	purchases          []time.Time // within the velocity window
	alerts             int64
}

// ReferenceLoop does the core's work in plain Go on the same messages: decode (decode.Parse),
// dedup by event id over the horizon (a map, evicted as the clock passes), enrich
// (enrich.Reference), one-minute product windows, session gaps per user and the velocity rule.
func ReferenceLoop(msgs iter.Seq2[int64, schemas.Message], ref *enrich.Reference, window, gap, velocityWindow time.Duration, velocityCount int) Reference {
	out := Reference{Events: map[string]bool{}, Metrics: map[MetricKey]ProductTotal{}, Users: map[string]userTotal{}}
	seen := map[string]time.Time{} // event id -> expiry
	var lastEvict time.Time
	for _, m := range msgs {
		e, err := decode.Parse(m)
		if err != nil {
			out.Dead++
			continue
		}
		clock := m.PublishTime
		if clock.Sub(lastEvict) > time.Minute {
			for id, exp := range seen {
				if exp.Before(clock) {
					delete(seen, id)
				}
			}
			lastEvict = clock
		}
		if _, dup := seen[e.EventID]; dup {
			continue
		}
		seen[e.EventID] = maxTime(e.EventTime, m.PublishTime).Add(dedup.DefaultHorizon)
		ref.Apply(&e)
		out.Events[e.EventID] = true
		if e.ProductID != "" {
			k := MetricKey{e.EventTime.Truncate(window), e.ProductID}
			t := out.Metrics[k]
			t.Events++
			if e.EventType == schemas.Purchase {
				t.Purchases++
			}
			out.Metrics[k] = t
		}
		u := out.Users[e.UserID]
		if u.last.IsZero() || e.EventTime.Sub(u.last) > gap {
			u.sessionStart = e.EventTime
			u.sessions++
		}
		u.last = maxTime(u.last, e.EventTime)
		if e.EventType == schemas.Purchase {
			kept := u.purchases[:0]
			for _, p := range u.purchases {
				if e.EventTime.Sub(p) < velocityWindow {
					kept = append(kept, p)
				}
			}
			u.purchases = append(kept, e.EventTime)
			if len(u.purchases) >= velocityCount {
				u.alerts++
			}
		}
		out.Users[e.UserID] = u
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Messages are the messages the source emits for gen, with their sequence numbers.
func Messages(gen generate.Config) iter.Seq2[int64, schemas.Message] {
	return func(yield func(int64, schemas.Message) bool) {
		var n int64
		for m := range generate.Messages(gen) {
			msg := toMessage(gen, n, m)
			attributeTime(gen, &msg)
			if !yield(n, msg) {
				return
			}
			n++
		}
	}
}

// RunReference times ReferenceLoop on the run's messages, in the same process shape as RunCore.
func RunReference(sp Spec) (Result, error) {
	o, err := DefaultOptions("")
	if err != nil {
		return Result{}, err
	}
	ref, err := enrich.LoadReference(context.Background(), o.ProductCatalog, o.CurrencyRates)
	if err != nil {
		return Result{}, err
	}
	gen := sp.Generator(time.Now().UTC())
	gen.Rate = 0 // the loop's cost, not the clock's: it does not wait for the pacing
	return measure(sp, func() (map[string]int64, error) {
		r := ReferenceLoop(Messages(gen), ref, o.WindowDuration, o.SessionGap, o.FraudVelocityWindow, int(o.FraudVelocityCount))
		return map[string]int64{"events.out": int64(len(r.Events))}, nil
	})
}
