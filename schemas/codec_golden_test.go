package schemas

import (
	"encoding/hex"
	"encoding/json"
	"reflect"
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
		Encode: func(m Message) []byte { return m.AppendBinary(nil) },
		Decode: decodeMessage,
	})
	codertest.Check(t, codertest.Case[Event]{
		Name: "schemas.Event",
		Value: Event{EventID: "e1", EventType: "purchase", EventTime: at, UserID: "u1", SessionHint: "s1",
			ProductID: "p1", Quantity: 2, Amount: 1_250_000, Currency: "EUR", Device: Device{OS: "ios", Country: "FR"},
			Attributes: map[string]string{"a": "1", "b": "2"}, SchemaVersion: 2, Discount: 150_000_000, Channel: "app", Extra: json.RawMessage(`{"x":1}`),
			MessageID: "m1", PublishTime: at.Add(time.Second), Category: "books", ListPrice: 990_000,
			AmountUSD: 1_350_000, Late: true, BehindWatermark: at.Add(-time.Minute)},
		Encode: func(e Event) []byte { return e.AppendBinary(nil) },
		Decode: decodeEvent,
	})
	// A v1 event encodes as before v2 (the golden bytes of the v1 fixture, from before the v2
	// fields were added), so buffers written by a job without v2 still decode.
	v1 := Event{EventID: "e1", EventType: "purchase", EventTime: at, UserID: "u1", SessionHint: "s1",
		ProductID: "p1", Quantity: 2, Amount: 1_250_000, Currency: "EUR", Device: Device{OS: "ios", Country: "FR"},
		Attributes: map[string]string{"a": "1", "b": "2"}, SchemaVersion: 1, Extra: json.RawMessage(`{"x":1}`),
		MessageID: "m1", PublishTime: at.Add(time.Second), Category: "books", ListPrice: 990_000,
		AmountUSD: 1_350_000, Late: true, BehindWatermark: at.Add(-time.Minute)}
	if got, want := hex.EncodeToString(v1.AppendBinary(nil)), eventV1Hex; got != want {
		t.Errorf("v1 event encodes as\n%s\nwant (as before v2)\n%s", got, want)
	}
	if got, err := decodeEvent(v1.AppendBinary(nil)); err != nil || !reflect.DeepEqual(got, v1) {
		t.Errorf("decoding a v1 event: %+v, %v; want %+v", got, err, v1)
	}
	codertest.Check(t, codertest.Case[DeadLetter]{
		Name: "schemas.DeadLetter",
		Value: DeadLetter{Step: "decode", Reason: "invalid_json", Error: "decode: invalid character", Payload: []byte("{oops"),
			PayloadSize: 5, Attributes: map[string]string{"a": "1"}, MessageID: "m1", PublishTime: at, Time: at.Add(time.Second)},
		Encode: func(d DeadLetter) []byte { return d.AppendBinary(nil) },
		Decode: decodeDeadLetter,
	})
}

// eventV1Hex is testdata/golden/coders/schemas.Event.hex as it was before v2.
const eventV1Hex = "026531087075726368617365e0c7b9ae0d82bdb9f00502753102733102703104a0cb98010345555203696f7302465202016101310162013202087b2278223a317d026d31e2c7b9ae0d82bdb9f00505626f6f6b73e0ec78e0e5a40101e8c6b9ae0d82bdb9f005"
