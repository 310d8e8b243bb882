package decode_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/decode"
)

var (
	publishTime = time.Date(2024, 5, 1, 12, 0, 1, 0, time.UTC)
	eventTime   = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
)

// benchPurchase is a realistic purchase event: ~300 bytes with device and two attributes.
const benchPurchase = `{"event_id":"9f1c2e7a-4b3d-4e8f-a1b2-c3d4e5f60718","event_type":"purchase",` +
	`"event_time":"2024-05-01T12:00:00.123Z","user_id":"u-000123456","session_hint":"s-7781",` +
	`"product_id":"sku-004211","quantity":2,"amount":59.98,"currency":"EUR",` +
	`"device":{"os":"ios","country":"DE"},"attributes":{"campaign":"spring-sale","ab":"b"},"schema_version":1}`

// event returns the event Parse should produce for a payload with the required fields of a
// page_view plus whatever change sets.
func event(change func(*schemas.Event)) schemas.Event {
	e := schemas.Event{
		EventID: "e1", EventType: schemas.PageView, EventTime: eventTime, UserID: "u1",
		Currency: "USD", SchemaVersion: 1, MessageID: "m1", PublishTime: publishTime,
	}
	if change != nil {
		change(&e)
	}
	return e
}

// pv returns a page_view payload with the required fields followed by more, which is
// inserted verbatim (with a leading comma when not empty).
func pv(more string) string {
	s := `{"event_id":"e1","event_type":"page_view","event_time":"2024-05-01T12:00:00Z","user_id":"u1"`
	if more != "" {
		s += "," + more
	}
	return s + "}"
}

// purchase is like pv for a purchase, with product_id "p1" and amount 1.
func purchase(more string) string {
	return strings.Replace(pv(`"product_id":"p1","amount":1`+prefixComma(more)), "page_view", "purchase", 1)
}

func prefixComma(s string) string {
	if s == "" {
		return ""
	}
	return "," + s
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    schemas.Event
	}{
		{
			name:    "page_view with only the required fields",
			payload: pv(""),
			want:    event(nil),
		},
		{
			name:    "purchase with every field",
			payload: benchPurchase,
			want: schemas.Event{
				EventID: "9f1c2e7a-4b3d-4e8f-a1b2-c3d4e5f60718", EventType: schemas.Purchase,
				EventTime: time.Date(2024, 5, 1, 12, 0, 0, 123e6, time.UTC), UserID: "u-000123456",
				SessionHint: "s-7781", ProductID: "sku-004211", Quantity: 2, Amount: 59_980_000_000,
				Currency: "EUR", Device: schemas.Device{OS: "ios", Country: "DE"},
				Attributes:    map[string]string{"campaign": "spring-sale", "ab": "b"},
				SchemaVersion: 1, MessageID: "m1", PublishTime: publishTime,
			},
		},
		{
			name: "refund with a zone offset, a fraction and amount 0",
			payload: `{"event_id":"e1","event_type":"refund","event_time":"2024-05-01T14:30:00.5+02:30",` +
				`"user_id":"u1","product_id":"p1","amount":0}`,
			want: event(func(e *schemas.Event) {
				e.EventType, e.ProductID = schemas.Refund, "p1"
				e.EventTime = time.Date(2024, 5, 1, 12, 0, 0, 5e8, time.UTC)
			}),
		},
		{
			name: "add_to_cart needs no amount; negative offset",
			payload: `{"event_id":"e1","event_type":"add_to_cart","event_time":"2024-05-01T07:00:00-05:00",` +
				`"user_id":"u1","product_id":"p1","quantity":3}`,
			want: event(func(e *schemas.Event) { e.EventType, e.ProductID, e.Quantity = schemas.AddToCart, "p1", 3 }),
		},
		{
			name:    "fraction digits beyond nanoseconds are truncated",
			payload: strings.Replace(pv(""), "12:00:00Z", "12:00:00.1234567899Z", 1),
			want:    event(func(e *schemas.Event) { e.EventTime = eventTime.Add(123456789) }),
		},
		{
			name:    "leap day",
			payload: strings.Replace(pv(""), "2024-05-01", "2024-02-29", 1),
			want:    event(func(e *schemas.Event) { e.EventTime = time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC) }),
		},
		{
			name:    "unknown fields are kept, compacted, in payload order",
			payload: pv(`"z" : { "a" : [1, 2.5e3, "x y", true, null] , "b":{}} , "a\u00e9":"s \"q\"", "n":null`),
			want: event(func(e *schemas.Event) {
				e.Extra = json.RawMessage(`{"z":{"a":[1,2.5e3,"x y",true,null],"b":{}},"a\u00e9":"s \"q\"","n":null}`)
			}),
		},
		{
			name:    "escapes in values and keys",
			payload: `{"event\u005fid":"e\u00e9\n\t\/\\\"\ud83d\ude00","event_type":"page_\u0076iew","event_time":"2024-05-01T12:00:00Z","user_id":"ü1"}`,
			want: event(func(e *schemas.Event) {
				e.EventID, e.UserID = "eé\n\t/\\\"😀", "ü1"
			}),
		},
		{
			name: "null is absent for optional fields",
			payload: pv(`"session_hint":null,"product_id":null,"quantity":null,"amount":null,"currency":null,` +
				`"device":null,"attributes":null,"schema_version":null`),
			want: event(nil),
		},
		{
			name:    "device: unknown keys ignored, null os absent",
			payload: pv(`"device":{"os":null,"model":{"x":[1]},"country":"FR"}`),
			want:    event(func(e *schemas.Event) { e.Device.Country = "FR" }),
		},
		{
			name:    "empty device and attributes",
			payload: pv(`"device":{},"attributes":{ }`),
			want:    event(nil),
		},
		{
			name:    "amount in exponent form, trailing zeros past 9 digits, quantity -0",
			payload: strings.Replace(purchase(`"quantity":-0`), `"amount":1`, `"amount":1.50000000000e2`, 1),
			want: event(func(e *schemas.Event) {
				e.EventType, e.ProductID, e.Amount = schemas.Purchase, "p1", 150*schemas.DecimalScale
			}),
		},
		{
			name:    "largest amount",
			payload: strings.Replace(purchase(""), `"amount":1`, `"amount":9223372036.854775807`, 1),
			want: event(func(e *schemas.Event) {
				e.EventType, e.ProductID, e.Amount = schemas.Purchase, "p1", 9223372036854775807
			}),
		},
		{
			name:    "whitespace everywhere JSON allows it",
			payload: " \t\r\n{ \"event_id\" : \"e1\" ,\n\"event_type\":\"page_view\",\"event_time\":\"2024-05-01T12:00:00Z\",\"user_id\":\"u1\" } \n",
			want:    event(nil),
		},
		{
			name:    "event_id of 128 characters in 256 bytes",
			payload: strings.Replace(pv(""), `"e1"`, `"`+strings.Repeat("é", 128)+`"`, 1),
			want:    event(func(e *schemas.Event) { e.EventID = strings.Repeat("é", 128) }),
		},
		{
			name:    "payload of exactly 1 MiB",
			payload: pv("") + strings.Repeat(" ", decode.MaxPayload-len(pv(""))),
			want:    event(nil),
		},
		{
			name:    "v2 with discount and channel",
			payload: pv(`"discount":2.50,"channel":"marketplace","promo":{"code":"X"},"schema_version":2`),
			want: event(func(e *schemas.Event) {
				e.SchemaVersion, e.Discount, e.Channel, e.Extra = 2, 2_500_000_000, schemas.ChannelMarketplace, json.RawMessage(`{"promo":{"code":"X"}}`)
			}),
		},
		{
			name:    "v2 with escaped channel and null discount",
			payload: pv(`"schema_version":2,"channel":"w\u0065b","discount":null`),
			want:    event(func(e *schemas.Event) { e.SchemaVersion, e.Channel = 2, schemas.ChannelWeb }),
		},
		{
			name:    "v2 without the new fields",
			payload: pv(`"schema_version":2`),
			want:    event(func(e *schemas.Event) { e.SchemaVersion = 2 }),
		},
		{
			name:    "v1 keeps discount and channel as unknown fields, unvalidated",
			payload: pv(`"discount":"ten","channel":"fax","schema_version":1`),
			want: event(func(e *schemas.Event) {
				e.Extra = json.RawMessage(`{"discount":"ten","channel":"fax"}`)
			}),
		},
		{
			name:    "schema_version 1 and a currency",
			payload: pv(`"schema_version":1,"currency":"JPY","session_hint":""`),
			want:    event(func(e *schemas.Event) { e.Currency = "JPY" }),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode.Parse(schemas.Message{Data: []byte(tt.payload), MessageID: "m1", PublishTime: publishTime})
			if err != nil {
				t.Fatalf("Parse(%q) failed: %v", tt.payload, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.payload, diff)
			}
			if !json.Valid([]byte(tt.payload)) {
				t.Errorf("Parse accepted invalid JSON %q", tt.payload)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	const (
		tooLarge = deadletter.ReasonTooLarge
		badJSON  = deadletter.ReasonInvalidJSON
		badSchem = deadletter.ReasonInvalidSchema

		amountRange = deadletter.ReasonAmountOutOfRange
		timeRange   = deadletter.ReasonEventTimeOutOfRange
	)
	nested := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name    string
		payload string
		reason  string
		field   string
		msg     string // a substring of Error()
	}{
		{"over 1 MiB", pv("") + strings.Repeat(" ", decode.MaxPayload-len(pv(""))+1), tooLarge, "", "over the 1048576-byte limit"},
		{"empty", "", badJSON, "", "empty payload"},
		{"only whitespace", " \n", badJSON, "", "empty payload"},
		{"not JSON", "hello", badJSON, "", "not a JSON object"},
		{"JSON array", `[{"event_id":"e1"}]`, badJSON, "", "not a JSON object (it starts with '[')"},
		{"JSON string", `"x"`, badJSON, "", "not a JSON object"},
		{"JSON null", `null`, badJSON, "", "not a JSON object"},
		{"truncated", pv("")[:40], badJSON, "", "unterminated string"},
		{"truncated after a member", `{"a":1`, badJSON, "", "unexpected end of input after an object member"},
		{"trailing data", pv("") + " x", badJSON, "", "after the top-level object"},
		{"two objects", pv("") + pv(""), badJSON, "", "after the top-level object"},
		{"trailing comma", pv(`"a":1,`), badJSON, "", "where an object key was expected"},
		{"single quotes", `{'a':1}`, badJSON, "", "where an object key was expected"},
		{"missing colon", `{"a" 1}`, badJSON, "", "after an object key"},
		{"leading zero", pv(`"a":01`), badJSON, "", "after an object member"},
		{"bare point", pv(`"a":1.`), badJSON, "", "a digit must follow the decimal point"},
		{"empty exponent", pv(`"a":1e+`), badJSON, "", "the exponent has no digits"},
		{"plus sign", pv(`"a":+1`), badJSON, "", "unexpected '+'"},
		{"NaN", pv(`"a":NaN`), badJSON, "", "unexpected 'N'"},
		{"bad literal", pv(`"a":tru`), badJSON, "", "where a value was expected"},
		{"control character", pv("\"a\":\"x\ty\""), badJSON, "", "control character byte 0x09"},
		{"invalid escape", pv(`"a":"\x"`), badJSON, "", "invalid escape 'x'"},
		{"short unicode escape", pv(`"a":"\u12"`), badJSON, "", `invalid \u escape`},
		{"lone high surrogate", pv(`"a":"\ud800x"`), badJSON, "", "unpaired surrogate"},
		{"lone low surrogate", pv(`"a":"\udc00"`), badJSON, "", "unpaired surrogate"},
		{"invalid UTF-8", pv("\"a\":\"\xff\""), badJSON, "", "invalid UTF-8"},
		{"invalid UTF-8 after an escape", pv("\"a\":\"\\n\xc3\""), badJSON, "", "invalid UTF-8"},
		{"unclosed array", pv(`"a":[1,2`), badJSON, "", "after an array element"},
		{"array cut short", `{"a":[1,`, badJSON, "", "unexpected end of input where a value was expected"},
		{"nested too deep", pv(`"a":` + nested(10000)), badJSON, "", "nested deeper than 10000 levels"},
		{"schema error before a syntax error", `{"event_type":"foo","a":}`, badJSON, "", "where a value was expected"},

		{"missing event_id", `{"event_type":"page_view","event_time":"2024-05-01T12:00:00Z","user_id":"u1"}`, badSchem, "event_id", "event_id: required"},
		{"event_id null", strings.Replace(pv(""), `"e1"`, `null`, 1), badSchem, "event_id", "must be a string, got null"},
		{"event_id empty", strings.Replace(pv(""), `"e1"`, `""`, 1), badSchem, "event_id", "must not be empty"},
		{"event_id number", strings.Replace(pv(""), `"e1"`, `12`, 1), badSchem, "event_id", "must be a string, got number"},
		{"event_id of 129 characters", strings.Replace(pv(""), `"e1"`, `"`+strings.Repeat("é", 129)+`"`, 1), badSchem, "event_id", "is 129 characters long, over the limit of 128"},
		{"event_type not in the enum", strings.Replace(pv(""), "page_view", "foo", 1), badSchem, "event_type",
			`event_type: "foo" is not one of page_view, add_to_cart, purchase, refund`},
		{"event_type in the wrong case", strings.Replace(pv(""), "page_view", "PAGE_VIEW", 1), badSchem, "event_type", `"PAGE_VIEW" is not one of`},
		{"event_type missing", `{"event_id":"e1","event_time":"2024-05-01T12:00:00Z","user_id":"u1"}`, badSchem, "event_type", "required"},
		{"event_time missing", `{"event_id":"e1","event_type":"page_view","user_id":"u1"}`, badSchem, "event_time", "required"},
		{"event_time without zone", strings.Replace(pv(""), "00Z", "00", 1), badSchem, "event_time", `"2024-05-01T12:00:00" is not an RFC 3339 time`},
		{"event_time date only", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "2024-05-01", 1), badSchem, "event_time", "not an RFC 3339 time"},
		{"event_time lower-case t", strings.Replace(pv(""), "T12", "t12", 1), badSchem, "event_time", "not an RFC 3339 time"},
		{"event_time month 13", strings.Replace(pv(""), "05-01", "13-01", 1), badSchem, "event_time", "not an RFC 3339 time"},
		{"event_time February 30", strings.Replace(pv(""), "05-01", "02-30", 1), badSchem, "event_time", "not an RFC 3339 time"},
		{"event_time leap second", strings.Replace(pv(""), "12:00:00Z", "23:59:60Z", 1), badSchem, "event_time", "not an RFC 3339 time"},
		{"event_time offset hour 24", strings.Replace(pv(""), "00Z", "00+24:00", 1), badSchem, "event_time", "not an RFC 3339 time"},
		{"event_time before year 1 in UTC", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "0001-01-01T00:00:00+01:00", 1), badSchem, "event_time", "years 0001-9999"},
		{"event_time as a number", strings.Replace(pv(""), `"2024-05-01T12:00:00Z"`, "1714564800", 1), badSchem, "event_time", "must be a string, got number"},
		{"user_id empty", strings.Replace(pv(""), `"u1"`, `""`, 1), badSchem, "user_id", "must not be empty"},
		{"user_id missing", `{"event_id":"e1","event_type":"page_view","event_time":"2024-05-01T12:00:00Z"}`, badSchem, "user_id", "required"},
		{"user_id object", strings.Replace(pv(""), `"u1"`, `{"id":"u1"}`, 1), badSchem, "user_id", "must be a string, got object"},
		{"session_hint number", pv(`"session_hint":1`), badSchem, "session_hint", "must be a string, got number"},
		{"product_id missing for add_to_cart", strings.Replace(pv(""), "page_view", "add_to_cart", 1), badSchem, "product_id", "required for add_to_cart events"},
		{"product_id empty", pv(`"product_id":""`), badSchem, "product_id", "must not be empty"},
		{"product_id null for purchase", strings.Replace(purchase(""), `"p1"`, "null", 1), badSchem, "product_id", "required for purchase events"},
		{"quantity negative", pv(`"quantity":-1`), badSchem, "quantity", "-1 must be ≥ 0"},
		{"quantity fraction", pv(`"quantity":1.5`), badSchem, "quantity", "1.5 is not an integer"},
		{"quantity exponent", pv(`"quantity":1e2`), badSchem, "quantity", "is not an integer"},
		{"quantity string", pv(`"quantity":"2"`), badSchem, "quantity", "must be a number, got string"},
		{"quantity out of range", pv(`"quantity":9223372036854775808`), badSchem, "quantity", "is out of range"},
		{"amount missing for purchase", strings.Replace(purchase(""), `,"amount":1`, "", 1), badSchem, "amount", "required for purchase events"},
		{"amount null for refund", strings.Replace(strings.Replace(purchase(""), `"amount":1`, `"amount":null`, 1), "purchase", "refund", 1), badSchem, "amount", "required for refund events"},
		{"amount negative", pv(`"amount":-0.01`), badSchem, "amount", "-0.01 must be ≥ 0"},
		{"amount with 10 decimals", pv(`"amount":1.1234567891`), badSchem, "amount", `"1.1234567891" is not an exact decimal: more than 9 fractional digits`},
		{"amount as a string", pv(`"amount":"19.99"`), badSchem, "amount", "must be a number, got string"},
		{"amount out of range", pv(`"amount":9223372036.854775808`), amountRange, "amount", "9223372036.854775808 is above 9223372036.854775807, the per-event limit"},
		{"amount at NUMERIC's maximum", pv(`"amount":99999999999999999999999999999.999999999`), amountRange, "amount", "is above 9223372036.854775807"},
		{"amount above NUMERIC's maximum", pv(`"amount":1e30`), amountRange, "amount", "1e30 is above"},
		{"event_time on 9999-12-31", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "9999-12-31T23:59:59Z", 1), timeRange, "event_time",
			`"9999-12-31T23:59:59Z" is outside 1700-01-01T00:00:00Z to 2200-01-01T00:00:00Z`},
		{"event_time in 2300 (past int64 nanoseconds)", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "2300-01-01T00:00:00Z", 1), timeRange, "event_time", "is outside"},
		{"event_time at the upper bound", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "2200-01-01T00:00:00Z", 1), timeRange, "event_time", "is outside"},
		{"event_time in 1600 (before int64 nanoseconds)", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "1600-01-01T00:00:00Z", 1), timeRange, "event_time", "is outside"},
		{"event_time just below the lower bound", strings.Replace(pv(""), "2024-05-01T12:00:00Z", "1700-01-01T00:30:00+01:00", 1), timeRange, "event_time", "is outside"},
		{"currency lower case", pv(`"currency":"usd"`), badSchem, "currency", `"usd" is not an ISO 4217 code`},
		{"currency too long", pv(`"currency":"EURO"`), badSchem, "currency", "not an ISO 4217 code"},
		{"currency number", pv(`"currency":978`), badSchem, "currency", "must be a string, got number"},
		{"device array", pv(`"device":["ios"]`), badSchem, "device", "must be an object, got array"},
		{"device.os number", pv(`"device":{"os":1}`), badSchem, "device.os", "must be a string, got number"},
		{"device.os twice", pv(`"device":{"os":"a","os":"b"}`), badSchem, "device.os", "duplicate key"},
		{"attribute value number", pv(`"attributes":{"a":"x","b":2}`), badSchem, "attributes", `the value of "b" must be a string, got number`},
		{"attribute value null", pv(`"attributes":{"b":null}`), badSchem, "attributes", "must be a string, got null"},
		{"attributes array", pv(`"attributes":[]`), badSchem, "attributes", "must be an object, got array"},
		{"attribute twice", pv(`"attributes":{"a":"x","a":"y"}`), badSchem, "attributes", `duplicate key "a"`},
		{"schema_version 3", pv(`"schema_version":3`), badSchem, "schema_version", "version 3 is not supported"},
		{"v2 negative discount", pv(`"discount":-0.5,"schema_version":2`), badSchem, "discount", "must be ≥ 0"},
		{"v2 discount string", pv(`"schema_version":2,"discount":"1"`), badSchem, "discount", "must be a number, got string"},
		{"v2 discount too precise", pv(`"schema_version":2,"discount":0.0000000001`), badSchem, "discount", "not an exact decimal"},
		{"v2 discount too large", pv(`"schema_version":2,"discount":9223372037`), amountRange, "discount", "per-event limit"},
		{"v2 channel unknown", pv(`"schema_version":2,"channel":"fax"`), badSchem, "channel", `"fax" is not one of`},
		{"v2 channel number", pv(`"schema_version":2,"channel":1`), badSchem, "channel", "must be a string, got number"},
		{"v2 duplicate channel", pv(`"schema_version":2,"channel":"web","channel":"app"`), badSchem, "channel", "duplicate key"},
		{"schema_version string", pv(`"schema_version":"1"`), badSchem, "schema_version", "must be a number, got string"},
		{"schema_version fraction", pv(`"schema_version":1.5`), badSchem, "schema_version", "is not an integer"},
		{"duplicate key", pv(`"user_id":"u2"`), badSchem, "user_id", "duplicate key"},
		{"duplicate key through an escape", pv(`"user\u005fid":"u2"`), badSchem, "user_id", "duplicate key"},
		{"duplicate null key", pv(`"quantity":null,"quantity":1`), badSchem, "quantity", "duplicate key"},
		{"duplicate unknown key", pv(`"x":1,"y":2,"x":3`), badSchem, "x", "duplicate key"},
		{"duplicate unknown key past the inline ones", pv(`"k1":1,"k2":1,"k3":1,"k4":1,"k5":1,"k6":1,"k7":1,"k8":1,"k9":1,"k10":1,"k3":2`), badSchem, "k3", "duplicate key"},
		{"duplicate empty key", `{"":1,"":2}`, badSchem, `""`, `"": duplicate key`},
		{"first violation wins", pv(`"quantity":-1,"currency":"x"`), badSchem, "quantity", "must be ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode.Parse(schemas.Message{Data: []byte(tt.payload)})
			if err == nil {
				t.Fatalf("Parse(%.200q) succeeded, want a %s error", tt.payload, tt.reason)
			}
			e, ok := err.(*decode.Error)
			if !ok {
				t.Fatalf("Parse error %v is a %T, want *decode.Error", err, err)
			}
			if e.Reason != tt.reason || e.Field != tt.field || !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("Parse(%.200q) = reason %q, field %q, error %q; want reason %q, field %q, error containing %q",
					tt.payload, e.Reason, e.Field, e.Error(), tt.reason, tt.field, tt.msg)
			}
		})
	}
}

func TestParseCopiesSourceMetadata(t *testing.T) {
	msg := schemas.Message{Data: []byte(pv("")), MessageID: "m-42", PublishTime: publishTime, Attributes: map[string]string{"k": "v"}}
	got, err := decode.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if got.MessageID != "m-42" || !got.PublishTime.Equal(publishTime) {
		t.Errorf("Parse kept message id %q and publish time %v, want m-42 and %v", got.MessageID, got.PublishTime, publishTime)
	}
}

// Parse reads the payload in place; nothing it returns may share its memory, which the runner
// may reuse once the element is processed.
func TestParseDoesNotAliasThePayload(t *testing.T) {
	for _, payload := range []string{
		strings.Replace(benchPurchase, `"schema_version":1`, `"x":{"y":[1, "z"]},"w":"\u00e9"`, 1),
		strings.Replace(benchPurchase, `"ab":"b"`, `"ab":"b","ab":"c"`, 1), // invalid_schema
		pv(`"a b":1,"a b":2`),     // invalid_schema, the key in Field
		pv(`"product_id":"x\ty"`), // an escape: decoded separately
	} {
		want, wantErr := decode.Parse(schemas.Message{Data: []byte(payload)})
		data := []byte(payload)
		got, err := decode.Parse(schemas.Message{Data: data})
		for i := range data {
			data[i] = '#'
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("event of %s changed with its payload (-want +got):\n%s", payload, diff)
		}
		if diff := cmp.Diff(wantErr, err); diff != "" {
			t.Errorf("error of %s changed with its payload (-want +got):\n%s", payload, diff)
		}
	}
}

func TestErrorMessageIsBounded(t *testing.T) {
	_, err := decode.Parse(schemas.Message{Data: []byte(strings.Replace(pv(""), "page_view", strings.Repeat("x", 10000), 1))})
	if err == nil || len(err.Error()) > 200 {
		t.Errorf("Parse error %q: want an error of at most 200 bytes", err)
	}
}

func BenchmarkParse(b *testing.B) {
	msg := schemas.Message{Data: []byte(benchPurchase), MessageID: "m1", PublishTime: publishTime}
	b.SetBytes(int64(len(msg.Data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode.Parse(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseBaseline puts Parse next to what encoding/json alone costs on the same payload
// (unmarshal into a struct, with no validation at all), so a run reports a ratio, not a timing
// that swings with the machine's load.
func BenchmarkParseBaseline(b *testing.B) {
	data := []byte(benchPurchase)
	b.Run("decode.Parse", func(b *testing.B) {
		msg := schemas.Message{Data: data, MessageID: "m1", PublishTime: publishTime}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decode.Parse(msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e schemas.Event
			if err := json.Unmarshal(data, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
