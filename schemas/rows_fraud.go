package schemas

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func init() {
	beam.RegisterCoder(reflect.TypeOf(FraudAlert{}), encodeFraudAlert, decodeFraudAlert)
}

// Fraud rules as written to the rule column.
const (
	RuleVelocity      = "velocity"       // more than K purchases within T
	RuleAmountAnomaly = "amount_anomaly" // a purchase above M × the user's running mean
)

// FraudAlert is one row of fraud_alerts (and one message on the alerts topic): one firing of
// one rule for one user. Every field is a function of the events alone, so replaying the same
// events gives the same rows, alert_id included.
type FraudAlert struct {
	AlertID       string          `json:"alert_id"`
	UserID        string          `json:"user_id"`
	Rule          string          `json:"rule"`
	DetectedAt    time.Time       `json:"detected_at"`
	EvidenceStart time.Time       `json:"evidence_start"`
	EvidenceEnd   time.Time       `json:"evidence_end"`
	Purchases     []AlertPurchase `json:"purchases"`
	TotalUSD      Numeric         `json:"total_usd"`
	// The anomaly rule's baseline: the user's purchases before the outlier and their mean.
	BaselinePurchases int64   `json:"baseline_purchases,omitzero"`
	BaselineMeanUSD   Numeric `json:"baseline_mean_usd,omitzero"`
	Details           string  `json:"details"`
}

// AlertPurchase is one purchase event that triggered an alert.
type AlertPurchase struct {
	EventID   string    `json:"event_id"`
	EventTime time.Time `json:"event_time"`
	AmountUSD Decimal   `json:"amount_usd"`
}

func encodeFraudAlert(v FraudAlert) ([]byte, error) { return json.Marshal(v) }

func decodeFraudAlert(b []byte) (FraudAlert, error) {
	var v FraudAlert
	return v, json.Unmarshal(b, &v)
}
