package schemas

import (
	"encoding/json"
	"time"
)

// Event types accepted by the envelope (v1 and v2).
const (
	PageView  = "page_view"
	AddToCart = "add_to_cart"
	Purchase  = "purchase"
	Refund    = "refund"
)

// Sales channels of the v2 envelope's channel field.
const (
	ChannelWeb         = "web"
	ChannelApp         = "app"
	ChannelStore       = "store"
	ChannelMarketplace = "marketplace"
)

// Envelope versions Parse accepts: a v1 event means what it always meant, and v2 adds the
// optional discount and channel fields.
const (
	SchemaV1      = 1
	SchemaV2      = 2
	LatestVersion = SchemaV2
)

// Message is a Pub/Sub message as received: the unit the source emits, decode reads and the raw
// archive stores (one JSON line per message).
type Message struct {
	Data        []byte            `json:"data"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	PublishTime time.Time         `json:"publish_time"`
	MessageID   string            `json:"message_id"`
	// TimestampError says why the source refused the message's timestamp attribute (unparsable
	// or outside the band around the publish time); the message then carries its publish time
	// as element timestamp and decode dead-letters it. It names the problem, never the value.
	TimestampError string `json:"timestamp_error,omitempty"`
	// BehindWatermark is the watermark the source had already reported when it read this
	// message, set only when the message's timestamp was behind it (zero otherwise): a window
	// that closed before it will not take the event.
	BehindWatermark time.Time `json:"behind_watermark,omitzero"`
}

// Device describes the client that produced an event.
type Device struct {
	OS      string `json:"os,omitempty"`
	Country string `json:"country,omitempty"`
}

// Event is a valid, typed commerce event. The fields up to Extra, and the v2 fields, come from
// the payload; the rest are filled in by the pipeline (source metadata, enrichment, lateness).
// The v2 fields come after enrichment's, since a table gains a new column as its last.
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

	// Envelope v2 (zero in a v1 event).
	// Discount is the price reduction granted, in Currency; Amount is still what was paid.
	Discount Decimal `json:"discount,omitzero"`
	// Channel is where the event happened, one of the Channel constants, or empty.
	Channel string `json:"channel,omitempty"`

	// Late is set by decode when the payload time is older than the source timestamp by more
	// than the lateness budget: the event is written to events and the archive, but kept out
	// of windowed aggregates (a runner would drop it there silently). Not a table column.
	Late bool `json:"-"`
	// BehindWatermark is the source's mark (schemas.Message.BehindWatermark): the watermark
	// already reported when the event's message arrived behind it, zero otherwise. A windowed
	// step counts the event as late when its window had closed by then (ExpiredAt). Not a
	// table column.
	BehindWatermark time.Time `json:"-"`
}

// ExpiredAt reports whether the fixed window of size d (aligned to the epoch, as Beam's
// FixedWindows) that holds the event had closed, with allowed lateness al, by the watermark
// the source reported when the event arrived: a runner drops an element when its window's
// maximum timestamp plus the allowed lateness is before the watermark, and would drop this
// event silently.
func (e Event) ExpiredAt(d, al time.Duration) bool {
	if e.BehindWatermark.IsZero() || d <= 0 {
		return false
	}
	ms, size := e.EventTime.UnixMilli(), d.Milliseconds() // Beam's resolution; no overflow in range
	start := ms - ((ms%size)+size)%size
	return start+size-1+al.Milliseconds() < e.BehindWatermark.UnixMilli()
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
