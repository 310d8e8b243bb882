package fraud

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	pubsubio "github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn2x1[context.Context, schemas.FraudAlert, error](&publishFn{})
}

// PublishConfig configures PublishAlerts.
type PublishConfig struct {
	// Topic is projects/<project>/topics/<topic>.
	Topic string
	// Endpoint (host:port) targets an emulator or test server; empty uses Google's endpoint,
	// or PUBSUB_EMULATOR_HOST when set.
	Endpoint string
}

// PublishAlerts publishes each alert to a Pub/Sub topic: the data is the alert as JSON (the
// fraud_alerts row), the attributes alert_id, rule, user_id and detected_at (RFC 3339). A
// bundle finishes only when the server has acknowledged all its alerts, and fails when one
// publish fails, so the runner retries it: delivery is at least once, and consumers drop
// repeats by alert_id. Counted in fraud.published.
//
// PublishAlerts: PCollection<schemas.FraudAlert> -> Pub/Sub
func PublishAlerts(s beam.Scope, alerts beam.PCollection, cfg PublishConfig) {
	s = s.Scope("fraud.PublishAlerts")
	beam.ParDo0(s, &publishFn{Topic: cfg.Topic, Endpoint: cfg.Endpoint}, alerts)
}

type publishFn struct {
	Topic    string
	Endpoint string

	client    *pubsub.Client
	publisher *pubsub.Publisher
	pending   []pendingAlert
	published telemetry.Counter
}

type pendingAlert struct {
	id  string
	res *pubsub.PublishResult
}

func (fn *publishFn) Setup(ctx context.Context) error {
	c, err := pubsubio.NewClient(ctx, fn.Topic, fn.Endpoint)
	if err != nil {
		return fmt.Errorf("fraud: alerts topic: %w", err)
	}
	fn.client = c
	fn.publisher = c.Publisher(fn.Topic)
	fn.published = telemetry.NewCounter("fraud.published")
	return nil
}

func (fn *publishFn) StartBundle(context.Context) { fn.pending = fn.pending[:0] }

func (fn *publishFn) ProcessElement(ctx context.Context, a schemas.FraudAlert) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("fraud: encoding alert %s: %w", a.AlertID, err)
	}
	res := fn.publisher.Publish(ctx, &pubsub.Message{Data: data, Attributes: map[string]string{
		"alert_id":    a.AlertID,
		"rule":        a.Rule,
		"user_id":     a.UserID,
		"detected_at": a.DetectedAt.UTC().Format(time.RFC3339Nano),
	}})
	fn.pending = append(fn.pending, pendingAlert{a.AlertID, res})
	return nil
}

// FinishBundle waits for every publish of the bundle: the bundle commits only once Pub/Sub has
// the alerts.
func (fn *publishFn) FinishBundle(ctx context.Context) error {
	defer func() { fn.pending = fn.pending[:0] }()
	for _, p := range fn.pending {
		if _, err := p.res.Get(ctx); err != nil {
			return fmt.Errorf("fraud: publishing alert %s to %s: %w", p.id, fn.Topic, err)
		}
		fn.published.Inc(ctx, 1)
	}
	return nil
}

func (fn *publishFn) Teardown() {
	if fn.publisher != nil {
		fn.publisher.Stop()
	}
	if fn.client != nil {
		fn.client.Close()
	}
}
