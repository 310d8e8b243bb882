package schemas

import (
	"encoding/json"
	"time"
)

// Event types accepted by the v1 envelope.
const (
	PageView  = "page_view"
	AddToCart = "add_to_cart"
	Purchase  = "purchase"
	Refund    = "refund"
)

// Message is a Pub/Sub message as received: the unit the source emits, decode reads and the raw
// archive stores (one JSON line per message).
type Message struct {
	Data        []byte            `json:"data"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	PublishTime time.Time         `json:"publish_time"`
	MessageID   string            `json:"message_id"`
}

// Device describes the client that produced an event.
type Device struct {
	OS      string `json:"os,omitempty"`
	Country string `json:"country,omitempty"`
}

// Event is a valid, typed commerce event. The fields up to Extra come from the payload; the rest
// are filled in by the pipeline (source metadata, enrichment, lateness).
type Event struct {
	EventID       string            `json:"event_id"`
	EventType     string            `json:"event_type"`
	EventTime     time.Time         `json:"event_time"`
	UserID        string            `json:"user_id"`
	SessionHint   string            `json:"session_hint,omitempty"`
	ProductID     string            `json:"product_id,omitempty"`
	Quantity      int64             `json:"quantity"`
	Amount        Decimal           `json:"amount,omitzero"`
	Currency      string            `json:"currency"`
	Device        Device            `json:"device"`
	Attributes    map[string]string `json:"attributes,omitempty"`
	SchemaVersion int64             `json:"schema_version"`
	// Extra holds the payload's unknown top-level fields as a JSON object (nil if none), so
	// producers can add fields before the schema does.
	Extra json.RawMessage `json:"extra,omitempty"`

	// Source metadata.
	MessageID   string    `json:"message_id,omitempty"`
	PublishTime time.Time `json:"publish_time,omitzero"`

	// Enrichment.
	Category  string  `json:"category,omitempty"`
	ListPrice Decimal `json:"list_price,omitzero"`
	AmountUSD Decimal `json:"amount_usd,omitzero"`

	// Late is set by decode when the payload time is older than the source timestamp by more
	// than the lateness budget: the event is written to events and the archive, but kept out
	// of windowed aggregates (a runner would drop it there silently). Not a table column.
	Late bool `json:"-"`
}

// DeadLetter is one failed input from any step. It carries everything needed to replay or
// diagnose the input: the original bytes and attributes, the step and the error.
type DeadLetter struct {
	Step        string            // the step that failed, e.g. "decode"
	Reason      string            // a short, metric-friendly reason, e.g. "invalid_json"
	Error       string            // the full error message
	Payload     []byte            // the original bytes as received, cut to deadletter.MaxPayload
	PayloadSize int64             // the original payload's size in bytes (0: len(Payload))
	Attributes  map[string]string // the original attributes
	MessageID   string
	PublishTime time.Time
	Time        time.Time // when the failure was recorded
}
