package schemas

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/internal/codertest"
)

// TestCoderGolden pins the bytes of the coders of the types that cross stage boundaries and sit
// in a running job's buffers: an update in place decodes them with the new job's coder.
func TestCoderGolden(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 34, 56, 789_000_000, time.UTC)
	codertest.Check(t, codertest.Case[Message]{
		Name: "schemas.Message",
		Value: Message{Data: []byte(`{"event_id":"e1"}`), Attributes: map[string]string{"a": "1", "ts": "2026-11-01T12:34:56Z"},
			PublishTime: at, MessageID: "m1", TimestampError: "unparsable", BehindWatermark: at.Add(-time.Minute)},
		Encode: func(m Message) ([]byte, error) { return m.AppendBinary(nil), nil },
		Decode: decodeMessage,
	})
	codertest.Check(t, codertest.Case[Event]{
		Name: "schemas.Event",
		Value: Event{EventID: "e1", EventType: "purchase", EventTime: at, UserID: "u1", SessionHint: "s1",
			ProductID: "p1", Quantity: 2, Amount: 1_250_000, Currency: "EUR", Device: Device{OS: "ios", Country: "FR"},
			Attributes: map[string]string{"a": "1", "b": "2"}, SchemaVersion: 1, Extra: json.RawMessage(`{"x":1}`),
			MessageID: "m1", PublishTime: at.Add(time.Second), Category: "books", ListPrice: 990_000,
			AmountUSD: 1_350_000, Late: true, BehindWatermark: at.Add(-time.Minute)},
		Encode: func(e Event) ([]byte, error) { return e.AppendBinary(nil), nil },
		Decode: decodeEvent,
	})
	codertest.Check(t, codertest.Case[DeadLetter]{
		Name: "schemas.DeadLetter",
		Value: DeadLetter{Step: "decode", Reason: "invalid_json", Error: "decode: invalid character", Payload: []byte("{oops"),
			PayloadSize: 5, Attributes: map[string]string{"a": "1"}, MessageID: "m1", PublishTime: at, Time: at.Add(time.Second)},
		Encode: func(d DeadLetter) ([]byte, error) { return d.AppendBinary(nil), nil },
		Decode: decodeDeadLetter,
	})
}
