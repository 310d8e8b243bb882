// Package fraud builds fraud_alerts: a stateful DoFn keyed by user applies two rules to each
// user's purchases, in event-time order, and emits one alert per rule firing.
//
//   - velocity: more than K purchases within T (K+1 purchases less than T apart). It fires once
//     per burst, on the purchase that first takes the count over K, and re-arms at the first
//     later purchase whose window (T back from it) holds K purchases or fewer: K+2 quick
//     purchases give one alert, and a second burst after a pause gives a second.
//   - amount_anomaly: a purchase whose USD amount is above M × the mean of the user's earlier
//     purchases, once there are at least S of them. The mean includes earlier outliers. A
//     purchase whose currency enrich did not know (a USD amount of 0 for a non-zero amount)
//     counts for velocity but is neither judged nor part of the mean (fraud.no_usd_amount).
//
// # Order and determinism
//
// A purchase is evaluated when the watermark passes its event time + the allowed lateness
// (rounded up to the next second, so a burst is evaluated together), in (event time,
// event id) order: a purchase arriving out of order within the allowed lateness is evaluated
// exactly where it belongs, so the alerts do not depend on arrival order and a backfill of the
// same events gives the same alerts, alert_id and detected_at included. Evaluating on arrival
// would alert sooner but let arrival order change the answer (a late purchase could complete a
// burst whose alert should have named it, or shift a mean an outlier was judged against), and
// alerts cannot be taken back. The cost is latency: an alert leaves when the watermark passes
// its purchase + allowed lateness. A purchase that arrives after later ones were evaluated is
// counted in fraud.late_dropped, as are purchases decode marked Late (they are still in the
// events table). A repeated event id is counted in fraud.duplicates and evaluated once.
//
// # State
//
// Per user: the purchases within T of the last one, the anomaly baseline (count, sum, first
// time) and purchases buffered for evaluation. A purchase StateTTL or more after the user's
// previous one starts afresh, and a timer at the last purchase + StateTTL clears the state, so
// it is bounded by the active users.
//
// AlertMessages shapes alerts for a Pub/Sub topic (written with pubsub.Write).
package fraud

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x0[context.Context, schemas.Event, func(string, purchase)](&keyFn{})
	register.Emitter2[string, purchase]()
	register.Function1x2[schemas.FraudAlert, schemas.Message, error](alertMessage)
}

// Defaults of Config's zero fields.
const (
	DefaultVelocityCount       = 5
	DefaultVelocityWindow      = time.Minute
	DefaultAnomalyMultiplier   = 3.0
	DefaultAnomalyMinPurchases = 3
	DefaultStateTTL            = 24 * time.Hour
)

// Config configures Detect. A zero field takes its default.
type Config struct {
	// VelocityCount is K: more than K purchases within VelocityWindow fire the velocity rule.
	VelocityCount int
	// VelocityWindow is T.
	VelocityWindow time.Duration
	// AnomalyMultiplier is M: a purchase above M × the user's mean fires the anomaly rule.
	AnomalyMultiplier float64
	// AnomalyMinPurchases is S: the purchases needed before the anomaly rule judges one.
	AnomalyMinPurchases int
	// StateTTL is the inactivity after which a user's state is cleared.
	StateTTL time.Duration
	// AllowedLateness is how long after the watermark a purchase is still evaluated in order;
	// it delays every alert by as much.
	AllowedLateness time.Duration
}

// FieldError is an invalid Config field, named by its Go name (a pipeline maps it to its flag).
type FieldError struct {
	Field string // e.g. "VelocityCount"
	Msg   string // phrased to follow the field, e.g. "must be > 0"
}

func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.Msg }

// Fields lists the fields this package owns, in the order Validate checks them; Validate checks
// the shared AllowedLateness last.
var Fields = []string{"VelocityCount", "VelocityWindow", "AnomalyMultiplier", "AnomalyMinPurchases", "StateTTL"}

// Rules returns one check per field of Fields, each returning what is wrong ("" when fine), for
// a pipeline's options validation; AllowedLateness is shared and checked by the pipeline.
func (c Config) Rules() map[string]func() string {
	d := c.withDefaults()
	return map[string]func() string{
		"VelocityCount": func() string {
			if c.VelocityCount < 0 || c.VelocityCount > 100_000 {
				return "must be between 1 and 100000 (0 uses the default, 5)"
			}
			return ""
		},
		"VelocityWindow": func() string {
			if c.VelocityWindow < 0 || (c.VelocityWindow > 0 && c.VelocityWindow < time.Millisecond) {
				return "must be at least 1ms (0 uses the default, 1m)"
			}
			return ""
		},
		"AnomalyMultiplier": func() string {
			m := c.AnomalyMultiplier
			if math.IsNaN(m) || (m != 0 && (m < 1 || m > 1e6)) {
				return "must be between 1 and 1000000 (0 uses the default, 3)"
			}
			return ""
		},
		"AnomalyMinPurchases": func() string {
			if c.AnomalyMinPurchases < 0 {
				return "must be at least 1 (0 uses the default, 3)"
			}
			return ""
		},
		"StateTTL": func() string {
			switch {
			case c.StateTTL < 0:
				return "must be > 0 (0 uses the default, 24h)"
			case d.StateTTL < d.VelocityWindow:
				// A shorter TTL would forget purchases the velocity window still counts.
				return fmt.Sprintf("%v must be at least VelocityWindow (%v)", d.StateTTL, d.VelocityWindow)
			}
			return ""
		},
	}
}

// Validate returns a *FieldError naming the first invalid field.
func (c Config) Validate() error {
	rules := c.Rules()
	for _, f := range Fields {
		if msg := rules[f](); msg != "" {
			return &FieldError{Field: f, Msg: msg}
		}
	}
	if c.AllowedLateness < 0 {
		return &FieldError{Field: "AllowedLateness", Msg: "must be >= 0"}
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.VelocityCount = cmp.Or(c.VelocityCount, DefaultVelocityCount)
	c.VelocityWindow = cmp.Or(c.VelocityWindow, DefaultVelocityWindow)
	c.AnomalyMultiplier = cmp.Or(c.AnomalyMultiplier, DefaultAnomalyMultiplier)
	c.AnomalyMinPurchases = cmp.Or(c.AnomalyMinPurchases, DefaultAnomalyMinPurchases)
	c.StateTTL = cmp.Or(c.StateTTL, DefaultStateTTL)
	return c
}

// Detect applies the velocity and amount-anomaly rules to each user's purchases and emits one
// alert per firing. It panics on an
// invalid cfg, as Beam's own transforms do at construction; call Validate first to report it.
//
// Detect: PCollection<schemas.Event> -> PCollection<schemas.FraudAlert>
func Detect(s beam.Scope, events beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("fraud.Detect")
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("fraud.Detect: %v", err))
	}
	cfg = cfg.withDefaults()
	keyed := beam.ParDo(s, &keyFn{}, events)
	return beam.ParDo(s, newDetectFn(cfg), keyed)
}

// keyFn keys purchases by user and keeps only what the rules need.
type keyFn struct {
	in, late, noUSD telemetry.Counter
}

func (fn *keyFn) Setup() {
	fn.in = telemetry.NewCounter("fraud.in")
	fn.late = telemetry.NewCounter("fraud.late_dropped")
	fn.noUSD = telemetry.NewCounter("fraud.no_usd_amount")
}

func (fn *keyFn) ProcessElement(ctx context.Context, e schemas.Event, emit func(string, purchase)) {
	if e.EventType != schemas.Purchase {
		return // the rules look at purchases only
	}
	fn.in.Inc(ctx, 1)
	if e.Late {
		fn.late.Inc(ctx, 1)
		return
	}
	p := purchase{At: e.EventTime.UnixNano(), EventID: e.EventID, AmountUSD: int64(e.AmountUSD),
		HasUSD: e.AmountUSD != 0 || e.Amount == 0}
	if !p.HasUSD {
		fn.noUSD.Inc(ctx, 1)
	}
	emit(e.UserID, p)
}

// AlertMessages turns alerts into the Pub/Sub messages of an alerts topic, for pubsub.Write: the
// data is the alert as JSON (the fraud_alerts row), the attributes alert_id, rule, user_id and
// detected_at (RFC 3339). Delivery through pubsub.Write is at least once; consumers drop repeats
// by alert_id.
//
// AlertMessages: PCollection<schemas.FraudAlert> -> PCollection<schemas.Message>
func AlertMessages(s beam.Scope, alerts beam.PCollection) beam.PCollection {
	s = s.Scope("fraud.AlertMessages")
	return beam.ParDo(s, alertMessage, alerts)
}

func alertMessage(a schemas.FraudAlert) (schemas.Message, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return schemas.Message{}, fmt.Errorf("fraud: encoding alert %s: %w", a.AlertID, err)
	}
	return schemas.Message{Data: data, MessageID: a.AlertID, Attributes: map[string]string{
		"alert_id":    a.AlertID,
		"rule":        a.Rule,
		"user_id":     a.UserID,
		"detected_at": a.DetectedAt.UTC().Format(time.RFC3339Nano),
	}}, nil
}
