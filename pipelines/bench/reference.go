package bench

import (
	"cmp"
	"context"
	"iter"
	"math/big"
	"slices"
	"time"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/dedup"
	"github.com/tributary-dev/tributary/transforms/enrich"
	"github.com/tributary-dev/tributary/transforms/fraud"
)

// Reference is the plain-Go loop's output, in the shape of the core's tables: the events
// table by event id, the final product_metrics counts, the final trending_products rankings,
// the final user_sessions, the fraud_alerts by alert_id and the dead letters.
type Reference struct {
	Events   map[string]bool                                 // event ids written to the events table
	Metrics  map[MetricKey]ProductTotal                      // product_metrics: the last (accumulating) pane
	Trending map[time.Time][]schemas.RankedProduct           // trending_products: window start -> last pane's ranking
	Sessions map[string][]SessionTotal                       // user_sessions: each user's final sessions, by start
	Alerts   map[string]string                               // fraud_alerts: alert_id -> rule
	Dead     int64                                           // dead_letters rows
	users    map[MetricKey]map[string]bool                   // distinct users per product window
	periods  map[time.Time]map[string]*schemas.RankedProduct // trending: purchases per period and product
}

// MetricKey is a product_metrics row's key.
type MetricKey struct {
	WindowStart time.Time
	ProductID   string
}

// ProductTotal is a product_metrics row's counts.
type ProductTotal struct {
	Views, Carts, Purchases, Refunds, DistinctUsers int64
}

// SessionTotal is a final user_sessions row's start, end and event count.
type SessionTotal struct {
	Start, End time.Time
	Events     int64
}

// LoopConfig is what the loop needs of the core's options.
type LoopConfig struct {
	Window, Gap, LateBudget            time.Duration
	TrendingWindow, TrendingPeriod     time.Duration
	TrendingTopN                       int
	VelocityWindow, StateTTL           time.Duration
	VelocityCount, AnomalyMinPurchases int
	AnomalyMultiplier                  float64
	TimestampAttribute                 string
}

// LoopConfigOf takes the loop's settings from the pipeline's options.
func LoopConfigOf(o streaming.Options) LoopConfig {
	return LoopConfig{Window: o.WindowDuration, Gap: o.SessionGap, LateBudget: o.MaxOutOfOrderness + o.AllowedLateness,
		TrendingWindow: o.TrendingWindow, TrendingPeriod: o.TrendingPeriod, TrendingTopN: int(o.TrendingTopN),
		VelocityWindow: o.FraudVelocityWindow, StateTTL: o.FraudStateTTL, VelocityCount: int(o.FraudVelocityCount),
		AnomalyMinPurchases: int(o.FraudAnomalyMinPurchases), AnomalyMultiplier: o.FraudAnomalyMultiplier,
		TimestampAttribute: o.TimestampAttribute}
}

// user is one user's running session and fraud state in the loop.
type user struct {
	sessions []SessionTotal
	recent   []schemas.AlertPurchase // purchases within the velocity window
	last     time.Time               // the last purchase evaluated
	disarmed bool
	usdCount int64
	usdSum   *big.Int
}

// ReferenceLoop does the core's work in plain Go on the same messages, in arrival order: decode
// (decode.Parse, decode's lateness rule), dedup by event id over the horizon (a map, evicted as
// the clock passes), enrich (enrich.Reference), per-window product counts, the trending ranking
// of every sliding window (transforms/aggregate's rule), a session gap per user and both fraud
// rules. It is exact for input whose on-time events arrive in event-time order,
// as the bench source's do (late events are kept out of the windowed, session and fraud
// tables by decode's rule): out-of-order input would need the sessions' merging and the
// detector's evaluation order, which the loop leaves out.
func ReferenceLoop(msgs iter.Seq2[int64, schemas.Message], ref *enrich.Reference, cfg LoopConfig) Reference {
	out := Reference{Events: map[string]bool{}, Metrics: map[MetricKey]ProductTotal{}, Sessions: map[string][]SessionTotal{},
		Alerts: map[string]string{}, users: map[MetricKey]map[string]bool{}, Trending: map[time.Time][]schemas.RankedProduct{},
		periods: map[time.Time]map[string]*schemas.RankedProduct{}}
	users := map[string]*user{}
	multiplier := new(big.Rat).SetFloat64(cfg.AnomalyMultiplier)
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
		if elementTime(m, cfg.TimestampAttribute).UnixMilli()-e.EventTime.UnixMilli() > cfg.LateBudget.Milliseconds() {
			continue // decode marks it Late: in events only
		}
		if e.ProductID != "" {
			out.metric(e, cfg.Window)
			if e.EventType == schemas.Purchase {
				out.purchase(e, cfg.TrendingPeriod)
			}
		}
		u := users[e.UserID]
		if u == nil {
			u = &user{usdSum: new(big.Int)}
			users[e.UserID] = u
		}
		if n := len(u.sessions); n == 0 || !e.EventTime.Before(u.sessions[n-1].End.Add(cfg.Gap)) {
			u.sessions = append(u.sessions, SessionTotal{Start: e.EventTime})
		}
		sess := &u.sessions[len(u.sessions)-1]
		sess.End, sess.Events = e.EventTime, sess.Events+1
		if e.EventType == schemas.Purchase {
			out.fraud(e, u, cfg, multiplier)
		}
	}
	for id, u := range users {
		out.Sessions[id] = u.sessions
	}
	for k, us := range out.users {
		t := out.Metrics[k]
		t.DistinctUsers = int64(len(us))
		out.Metrics[k] = t
	}
	out.rank(cfg)
	return out
}

// windowStart is the start of the epoch-aligned window of size d holding t, as Beam's.
func windowStart(t time.Time, d time.Duration) time.Time {
	ms, size := t.UnixMilli(), d.Milliseconds()
	return time.UnixMilli(ms - ((ms%size)+size)%size).UTC()
}

// purchase adds purchase e to its product's total of its trending period.
func (out *Reference) purchase(e schemas.Event, period time.Duration) {
	k := windowStart(e.EventTime, period)
	ps := out.periods[k]
	if ps == nil {
		ps = map[string]*schemas.RankedProduct{}
		out.periods[k] = ps
	}
	p := ps[e.ProductID]
	if p == nil {
		p = &schemas.RankedProduct{ProductID: e.ProductID}
		ps[e.ProductID] = p
	}
	p.Purchases++
	p.RevenueUSD = p.RevenueUSD.AddDecimal(e.AmountUSD)
	p.Category = betterCategory(p.Category, e.Category)
}

// rank ranks every sliding window holding a period with purchases: the sum of its periods'
// totals, top TrendingTopN by purchases and revenue (descending), then product id, as
// aggregate.TrendingProducts ranks them.
func (out *Reference) rank(cfg LoopConfig) {
	for p := range out.periods {
		for s := p; s.After(p.Add(-cfg.TrendingWindow)); s = s.Add(-cfg.TrendingPeriod) {
			out.Trending[s] = nil
		}
	}
	for s := range out.Trending {
		byProduct := map[string]*schemas.RankedProduct{}
		for p := s; p.Before(s.Add(cfg.TrendingWindow)); p = p.Add(cfg.TrendingPeriod) {
			for id, d := range out.periods[p] {
				t := byProduct[id]
				if t == nil {
					t = &schemas.RankedProduct{ProductID: id}
					byProduct[id] = t
				}
				t.Purchases += d.Purchases
				t.RevenueUSD = t.RevenueUSD.Add(d.RevenueUSD)
				t.Category = betterCategory(t.Category, d.Category)
			}
		}
		ranking := make([]schemas.RankedProduct, 0, len(byProduct))
		for _, t := range byProduct {
			ranking = append(ranking, *t)
		}
		slices.SortFunc(ranking, func(a, b schemas.RankedProduct) int {
			if c := cmp.Compare(b.Purchases, a.Purchases); c != 0 {
				return c
			}
			if c := b.RevenueUSD.Cmp(a.RevenueUSD); c != 0 {
				return c
			}
			return cmp.Compare(a.ProductID, b.ProductID)
		})
		ranking = ranking[:min(len(ranking), cfg.TrendingTopN)]
		for i := range ranking {
			ranking[i].Rank = int64(i + 1)
		}
		out.Trending[s] = ranking
	}
}

// betterCategory is aggregate's rule: a catalog category over an empty or "unknown" one,
// between two known ones the smaller.
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

func (out *Reference) metric(e schemas.Event, window time.Duration) {
	k := MetricKey{windowStart(e.EventTime, window), e.ProductID}
	t := out.Metrics[k]
	switch e.EventType {
	case schemas.PageView:
		t.Views++
	case schemas.AddToCart:
		t.Carts++
	case schemas.Purchase:
		t.Purchases++
	case schemas.Refund:
		t.Refunds++
	}
	out.Metrics[k] = t
	if out.users[k] == nil {
		out.users[k] = map[string]bool{}
	}
	out.users[k][e.UserID] = true
}

// fraud applies the velocity and amount-anomaly rules of transforms/fraud to purchase e.
func (out *Reference) fraud(e schemas.Event, u *user, cfg LoopConfig, multiplier *big.Rat) {
	if !u.last.IsZero() && e.EventTime.Sub(u.last) >= cfg.StateTTL {
		*u = user{sessions: u.sessions, usdSum: new(big.Int)}
	}
	u.last = e.EventTime
	p := schemas.AlertPurchase{EventID: e.EventID, EventTime: e.EventTime.UTC(), AmountUSD: e.AmountUSD}
	kept := u.recent[:0]
	for _, q := range append(u.recent, p) {
		if q.EventTime.After(e.EventTime.Add(-cfg.VelocityWindow)) {
			kept = append(kept, q)
		}
	}
	u.recent = kept
	if len(u.recent) > cfg.VelocityCount {
		if !u.disarmed {
			out.Alerts[fraud.AlertID(e.UserID, schemas.RuleVelocity, u.recent)] = schemas.RuleVelocity
			u.disarmed = true
		}
	} else {
		u.disarmed = false
	}
	if e.AmountUSD == 0 && e.Amount != 0 {
		return // currency unknown to enrich: counts for velocity only
	}
	if u.usdCount >= int64(cfg.AnomalyMinPurchases) {
		lhs := new(big.Rat).SetInt(new(big.Int).Mul(big.NewInt(int64(e.AmountUSD)), big.NewInt(u.usdCount)))
		if lhs.Cmp(new(big.Rat).Mul(multiplier, new(big.Rat).SetInt(u.usdSum))) > 0 {
			out.Alerts[fraud.AlertID(e.UserID, schemas.RuleAmountAnomaly, []schemas.AlertPurchase{p})] = schemas.RuleAmountAnomaly
		}
	}
	u.usdCount++
	u.usdSum.Add(u.usdSum, big.NewInt(int64(e.AmountUSD)))
}

// elementTime is the element timestamp the source gives m: its timestamp attribute, else its
// publish time.
func elementTime(m schemas.Message, attr string) time.Time {
	if attr == "" {
		attr = generate.DefaultTimestampAttribute
	}
	if ts, err := time.Parse(time.RFC3339Nano, m.Attributes[attr]); err == nil {
		return ts.Truncate(time.Millisecond)
	}
	return m.PublishTime
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
		r := ReferenceLoop(Messages(gen), ref, LoopConfigOf(o))
		return map[string]int64{"events.out": int64(len(r.Events))}, nil
	})
}
