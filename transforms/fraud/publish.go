package fraud

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function1x2[schemas.FraudAlert, schemas.Message, error](alertMessage)
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
