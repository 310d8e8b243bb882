package fraud

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn6x1[context.Context, state.Provider, timers.Provider, string, purchase,
		func(beam.EventTime, schemas.FraudAlert), error](&detectFn{})
	register.Emitter2[beam.EventTime, schemas.FraudAlert]()
}

// evalGranularity rounds evaluation times up, so the purchases of a burst share one timer.
const evalGranularity = time.Second

// ttlTag tags the timer that clears an inactive user's state; evaluation timers are tagged
// "e" and their time in milliseconds. One family with tags: two timer families on one DoFn
// hang on Prism v2.77.
const ttlTag = "ttl"

// detectFn evaluates one user's purchases in event-time order.
//
// ProcessElement only appends the purchase to a bag (two state calls: length and bytes) and
// sets the timer of its evaluation time; it reads no state. OnTimer reads the bag and the
// history (two calls), evaluates the purchases that are due, and writes the history back and
// clears the bag (four calls).
type detectFn struct {
	Config // with its defaults applied

	Pending state.Bag[purchase]
	History state.Value[history]
	Timer   timers.EventTime

	multiplier                     *big.Rat
	out, late, duplicates, expired telemetry.Counter
	requests                       telemetry.Counter // state and timer calls, telemetry.StateRequests
}

// newDetectFn is the detector of cfg (its defaults applied), with its state and timer. Their ids
// ("pending", "history", "fraud") are what a running job's state is found by: keep them.
func newDetectFn(cfg Config) *detectFn {
	return &detectFn{
		Config:  cfg,
		Pending: state.MakeBagState[purchase]("pending"),
		History: state.MakeValueState[history]("history"),
		Timer:   timers.InEventTime("fraud"),
	}
}

func (fn *detectFn) Setup() {
	fn.multiplier = new(big.Rat).SetFloat64(fn.AnomalyMultiplier) // exact: M is compared, not rounded
	fn.out = telemetry.NewCounter("fraud.out")
	fn.late = telemetry.NewCounter("fraud.late_dropped")
	fn.duplicates = telemetry.NewCounter("fraud.duplicates")
	fn.expired = telemetry.NewCounter("fraud.expired")
	fn.requests = telemetry.NewCounter(telemetry.StateRequests)
}

func (fn *detectFn) ProcessElement(ctx context.Context, sp state.Provider, tp timers.Provider, user string,
	p purchase, _ func(beam.EventTime, schemas.FraudAlert)) error {
	// A state failure fails the bundle, so the input is retried rather than lost.
	fn.requests.Inc(ctx, 1)
	if err := fn.Pending.Add(sp, p); err != nil {
		return fmt.Errorf("fraud: buffering a purchase: %w", err)
	}
	due := roundUp(p.At+int64(fn.AllowedLateness), int64(evalGranularity))
	fn.requests.Inc(ctx, 1)
	fn.Timer.Set(tp, time.Unix(0, due), timers.WithTag("e"+strconv.FormatInt(due/int64(time.Millisecond), 10)))
	return nil
}

// OnTimer evaluates the purchases due, or clears the state of an inactive user. Both timers
// hold the output watermark at their own firing time, which holds nothing back (the input
// watermark stays below a timer until it fires) and is how OnTimer learns that time: the Go
// SDK passes it the hold, not the firing time.
func (fn *detectFn) OnTimer(ctx context.Context, ts beam.EventTime, sp state.Provider, tp timers.Provider, user string,
	tc timers.Context, emit func(beam.EventTime, schemas.FraudAlert)) error {
	fn.requests.Inc(ctx, 1)
	pending, _, err := fn.Pending.Read(sp)
	if err != nil {
		return fmt.Errorf("fraud: reading buffered purchases: %w", err)
	}
	fn.requests.Inc(ctx, 1)
	h, held, err := fn.History.Read(sp)
	if err != nil {
		return fmt.Errorf("fraud: reading history: %w", err)
	}
	now := ts.ToTime().UnixNano() // the watermark has reached the timer's time
	if tc.Tag == ttlTag {
		// Clear only an idle user: nothing buffered, and the last purchase a TTL ago.
		if held && len(pending) == 0 && len(h.Deferred) == 0 && h.Cursor.At+int64(fn.StateTTL) <= now {
			fn.expired.Inc(ctx, 1)
			fn.requests.Inc(ctx, 1)
			return fn.History.Clear(sp)
		}
		return nil
	}

	seen := map[string]bool{}
	for _, p := range h.Recent {
		seen[p.EventID] = true
	}
	candidates := append(h.Deferred, pending...)
	slices.SortFunc(candidates, func(a, b purchase) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	h.Deferred = nil
	evaluated := false
	for _, p := range candidates {
		switch {
		case seen[p.EventID]:
			fn.duplicates.Inc(ctx, 1)
		case h.Evaluated && p.before(h.Cursor):
			// Later purchases were evaluated already: too late to take its place.
			fn.late.Inc(ctx, 1)
		case p.At+int64(fn.AllowedLateness) > now:
			h.Deferred = append(h.Deferred, p) // its own timer comes later
		default:
			for _, a := range fn.evaluate(user, &h, p) {
				fn.out.Inc(ctx, 1)
				emit(ts, a)
			}
			evaluated = true
		}
		seen[p.EventID] = true
	}

	if len(pending) > 0 {
		fn.requests.Inc(ctx, 1)
		if err := fn.Pending.Clear(sp); err != nil {
			return fmt.Errorf("fraud: clearing buffered purchases: %w", err)
		}
	}
	if !evaluated && len(pending) == 0 {
		return nil // a timer whose purchases were evaluated with an earlier one
	}
	if !h.Evaluated && len(h.Deferred) == 0 {
		if held {
			fn.requests.Inc(ctx, 1)
			return fn.History.Clear(sp)
		}
		return nil
	}
	fn.requests.Inc(ctx, 1)
	if err := fn.History.Write(sp, h); err != nil {
		return fmt.Errorf("fraud: writing history: %w", err)
	}
	if evaluated {
		expiry := roundUp(h.Cursor.At+int64(fn.StateTTL), int64(time.Millisecond)) // Beam's precision
		fn.requests.Inc(ctx, 1)
		fn.Timer.Set(tp, time.Unix(0, expiry), timers.WithTag(ttlTag))
	}
	return nil
}

// evaluate applies the rules to p, the next purchase in event-time order, updates h and
// returns the alerts it fires.
func (fn *detectFn) evaluate(user string, h *history, p purchase) []schemas.FraudAlert {
	if h.Evaluated && p.At-h.Cursor.At >= int64(fn.StateTTL) {
		*h = history{Deferred: h.Deferred} // idle for a TTL: start afresh, as if the state had been cleared
	}
	h.Evaluated, h.Cursor = true, p

	var alerts []schemas.FraudAlert
	window := int64(fn.VelocityWindow)
	h.Recent = append(h.Recent, p)
	first := 0
	for first < len(h.Recent) && h.Recent[first].At <= p.At-window {
		first++
	}
	h.Recent = slices.Delete(h.Recent, 0, first)
	if len(h.Recent) > fn.VelocityCount {
		if !h.Disarmed {
			alerts = append(alerts, fn.velocityAlert(user, h.Recent))
			h.Disarmed = true
		}
	} else {
		h.Disarmed = false
	}

	if p.HasUSD {
		if h.USDCount >= int64(fn.AnomalyMinPurchases) && fn.exceeds(p.AmountUSD, h.USDSum, h.USDCount) {
			alerts = append(alerts, fn.anomalyAlert(user, h, p))
		}
		if h.USDCount == 0 {
			h.BaselineStart = p.At
		}
		h.USDCount++
		h.USDSum = h.USDSum.AddDecimal(schemas.Decimal(p.AmountUSD))
	}
	return alerts
}

// exceeds reports amount > M × sum / count, exactly.
func (fn *detectFn) exceeds(amount int64, sum schemas.Numeric, count int64) bool {
	lhs := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(amount), big.NewInt(count)), big.NewInt(1))
	rhs := new(big.Rat).Mul(fn.multiplier, new(big.Rat).SetInt(sum.Units()))
	return lhs.Cmp(rhs) > 0
}

func (fn *detectFn) velocityAlert(user string, recent []purchase) schemas.FraudAlert {
	last := recent[len(recent)-1]
	a := schemas.FraudAlert{
		UserID:        user,
		Rule:          schemas.RuleVelocity,
		DetectedAt:    nanos(last.At),
		EvidenceStart: nanos(recent[0].At),
		EvidenceEnd:   nanos(last.At),
		Details: fmt.Sprintf("%d purchases within %v, more than the limit of %d",
			len(recent), fn.VelocityWindow, fn.VelocityCount),
	}
	for _, p := range recent {
		a.Purchases = append(a.Purchases, alertPurchase(p))
		a.TotalUSD = a.TotalUSD.AddDecimal(schemas.Decimal(p.AmountUSD))
	}
	a.AlertID = AlertID(user, a.Rule, a.Purchases)
	return a
}

func (fn *detectFn) anomalyAlert(user string, h *history, p purchase) schemas.FraudAlert {
	mean := h.USDSum.Div(h.USDCount)
	a := schemas.FraudAlert{
		UserID:            user,
		Rule:              schemas.RuleAmountAnomaly,
		DetectedAt:        nanos(p.At),
		EvidenceStart:     nanos(h.BaselineStart),
		EvidenceEnd:       nanos(p.At),
		Purchases:         []schemas.AlertPurchase{alertPurchase(p)},
		TotalUSD:          schemas.NumericOf(schemas.Decimal(p.AmountUSD)),
		BaselinePurchases: h.USDCount,
		BaselineMeanUSD:   mean,
		Details: fmt.Sprintf("%s USD is more than %v times the mean of %s USD over %d earlier purchases",
			schemas.Decimal(p.AmountUSD), fn.AnomalyMultiplier, mean, h.USDCount),
	}
	a.AlertID = AlertID(user, a.Rule, a.Purchases)
	return a
}

func alertPurchase(p purchase) schemas.AlertPurchase {
	return schemas.AlertPurchase{EventID: p.EventID, EventTime: nanos(p.At), AmountUSD: schemas.Decimal(p.AmountUSD)}
}

// AlertID is the deterministic id of an alert: the first 16 bytes of SHA-256 over the user,
// the rule and the triggering event ids, in hex.
func AlertID(user, rule string, purchases []schemas.AlertPurchase) string {
	h := sha256.New()
	h.Write([]byte(user))
	for _, s := range append([]string{rule}, eventIDs(purchases)...) {
		h.Write([]byte{0})
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func eventIDs(ps []schemas.AlertPurchase) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.EventID
	}
	return ids
}

func nanos(ns int64) time.Time { return time.Unix(0, ns).UTC() }

// roundUp rounds ns up to a multiple of unit.
func roundUp(ns, unit int64) int64 {
	r := ns % unit
	switch {
	case r == 0:
		return ns
	case r > 0:
		return ns - r + unit
	default:
		return ns - r
	}
}
