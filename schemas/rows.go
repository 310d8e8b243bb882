package schemas

import (
	"slices"
	"time"
	"unicode/utf8"
)

// ProductMetric is one row of product_metrics: one product in one fixed window.
type ProductMetric struct {
	Pane
	ProductID     string  `json:"product_id"`
	Category      string  `json:"category"`
	Views         int64   `json:"views"`
	Carts         int64   `json:"carts"`
	Purchases     int64   `json:"purchases"`
	Refunds       int64   `json:"refunds"`
	RevenueUSD    Numeric `json:"revenue_usd"`
	RefundsUSD    Numeric `json:"refunds_usd"`
	DistinctUsers int64   `json:"distinct_users"`
}

// KeyValue is one attribute in Google's dead-letter table format.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// DeadLetterRow is one row of dead_letters, in the format of Google-provided templates
// (timestamp, payloadString, payloadBytes, attributes, errorMessage, stacktrace) plus the step,
// the reason and the payload's original size. The payload is stored once: in payloadString when
// it is valid UTF-8 (the text humans read), otherwise in payloadBytes, so a row is never twice
// its payload.
type DeadLetterRow struct {
	Timestamp        time.Time  `json:"timestamp"`
	PayloadString    string     `json:"payloadString,omitempty"`
	PayloadBytes     []byte     `json:"payloadBytes,omitempty"`
	Attributes       []KeyValue `json:"attributes"`
	ErrorMessage     string     `json:"errorMessage"`
	Stacktrace       string     `json:"stacktrace,omitempty"`
	Step             string     `json:"step"`
	Reason           string     `json:"reason"`
	MessageID        string     `json:"message_id,omitempty"`
	PublishTime      time.Time  `json:"publish_time,omitzero"`
	PayloadSize      int64      `json:"payload_size,omitempty"`
	PayloadTruncated bool       `json:"payload_truncated,omitempty"`
	// DeadLetterID and RunID are set by the table sinks (transforms/bigquery): the row's key
	// and the run that wrote it.
	DeadLetterID string `json:"dead_letter_id,omitempty"`
	RunID        string `json:"run_id,omitempty"`
}

// Payload returns the stored payload bytes, from whichever column holds them (both are null
// for an empty payload).
func (r DeadLetterRow) Payload() []byte {
	if r.PayloadBytes != nil {
		return r.PayloadBytes
	}
	return []byte(r.PayloadString)
}

// Row converts a dead letter to its table row: the payload as stored in the dead letter (cut
// to deadletter.MaxPayload there), its original size, and whether it was cut.
func (d DeadLetter) Row() DeadLetterRow {
	r := DeadLetterRow{
		Timestamp:        d.Time,
		Attributes:       []KeyValue{},
		ErrorMessage:     d.Error,
		Step:             d.Step,
		Reason:           d.Reason,
		MessageID:        d.MessageID,
		PublishTime:      d.PublishTime,
		PayloadSize:      max(d.PayloadSize, int64(len(d.Payload))),
		PayloadTruncated: d.PayloadSize > int64(len(d.Payload)),
	}
	if utf8.Valid(d.Payload) {
		r.PayloadString = string(d.Payload)
	} else {
		r.PayloadBytes = d.Payload
	}
	for _, k := range sortedKeys(d.Attributes) {
		r.Attributes = append(r.Attributes, KeyValue{Key: k, Value: d.Attributes[k]})
	}
	return r
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
