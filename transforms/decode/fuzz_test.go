package decode_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/decode"
)

// FuzzParse checks that Parse never panics, accepts only valid JSON, that what it accepts
// follows the schema and agrees with encoding/json, and that its reasons are right.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		benchPurchase,
		pv(""),
		purchase(`"quantity":0,"currency":"GBP","device":{"os":"android","x":[1,{"y":null}]},"attributes":{}`),
		pv(`"z" : { "a" : [1, 2.5e3, "x y", true, null] , "b":{}} , "a\u00e9":"s \"q\"", "n":null`),
		`{"event\u005fid":"e\u00e9\n\t\/\\\"\ud83d\ude00","event_type":"page_\u0076iew","event_time":"2024-05-01T14:30:00.5+02:30","user_id":"ü1"}`,
		strings.Replace(purchase(""), `"amount":1`, `"amount":1.123456789e1`, 1),
		pv(`"schema_version":2`),
		pv(`"schema_version":2,"discount":1.5,"channel":"app","x":1`),
		pv(`"discount":1.5,"channel":"app","schema_version":1`),
		pv(`"discount":-1,"schema_version":2`),
		pv(`"user_id":"u2"`),
		pv(`"quantity":-1`),
		pv(`"a":"\ud800"`),
		pv("\"a\":\"\xff\""),
		pv(`"a":[[[[[[[[]]]]]]]]`),
		`[{"event_id":"e1"}]`,
		`{"a":}`,
		"",
		"null",
		// The extremes of item 12: the bounds, and the times that broke sessions and the sinks.
		strings.Replace(pv(""), "2024-05-01T12:00:00Z", "2199-12-31T23:59:59.999999999Z", 1),
		strings.Replace(pv(""), "2024-05-01T12:00:00Z", "1700-01-01T00:00:00Z", 1),
		strings.Replace(pv(""), "2024-05-01T12:00:00Z", "2300-01-01T00:00:00Z", 1),
		strings.Replace(pv(""), "2024-05-01T12:00:00Z", "9999-12-31T23:59:59Z", 1),
		// And of item 11: the largest amount.
		strings.Replace(purchase(""), `"amount":1`, `"amount":9223372036.854775807`, 1),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// Parse reads the payload in place: results must not change when its bytes are reused.
		buf := bytes.Clone(data)
		ev, err := decode.Parse(schemas.Message{Data: buf, MessageID: "m1", PublishTime: publishTime})
		if !bytes.Equal(buf, data) {
			t.Fatalf("Parse changed its input")
		}
		var before schemas.Event
		if err := before.UnmarshalBinary(ev.AppendBinary(nil)); err != nil { // a deep copy
			t.Fatal(err)
		}
		var errBefore string
		if err != nil {
			errBefore = fmt.Sprintf("%#v", err)
		}
		for i := range buf {
			buf[i] = 0
		}
		if diff := cmp.Diff(before, ev, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Parse(%q): event changed with the payload bytes (-before +after):\n%s", data, diff)
		}
		if err != nil && fmt.Sprintf("%#v", err) != errBefore {
			t.Fatalf("Parse(%q): error changed with the payload bytes: %s, now %#v", data, errBefore, err)
		}
		if err != nil {
			checkRejected(t, data, err)
			return
		}
		checkAccepted(t, data, ev)
	})
}

func checkRejected(t *testing.T, data []byte, err error) {
	var e *decode.Error
	if !errors.As(err, &e) || e.Msg == "" {
		t.Fatalf("Parse(%q) error %#v is not a *decode.Error with a message", data, err)
	}
	switch e.Reason {
	case deadletter.ReasonTooLarge:
		if len(data) <= decode.MaxPayload {
			t.Fatalf("Parse(%q): too_large for %d bytes", data, len(data))
		}
	case deadletter.ReasonAmountOutOfRange, deadletter.ReasonEventTimeOutOfRange:
		if !json.Valid(data) {
			t.Fatalf("Parse(%q): %s (%v) for invalid JSON", data, e.Reason, err)
		}
		if want := map[string]string{deadletter.ReasonAmountOutOfRange: "amount",
			deadletter.ReasonEventTimeOutOfRange: "event_time"}[e.Reason]; e.Field != want {
			t.Fatalf("Parse(%q): %s names field %q", data, e.Reason, e.Field)
		}
	case deadletter.ReasonInvalidSchema:
		if !json.Valid(data) {
			t.Fatalf("Parse(%q): invalid_schema (%v) for invalid JSON", data, err)
		}
		if e.Field == "" {
			t.Fatalf("Parse(%q): invalid_schema (%v) names no field", data, err)
		}
	case deadletter.ReasonInvalidJSON:
		// Beyond encoding/json, Parse rejects invalid UTF-8 and unpaired surrogates (possible
		// only through \u escapes) as invalid JSON.
		trimmed := bytes.TrimLeft(data, " \t\r\n")
		if json.Valid(data) && utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) &&
			len(trimmed) > 0 && trimmed[0] == '{' {
			t.Fatalf("Parse(%q): invalid_json (%v) for a valid JSON object", data, err)
		}
	default:
		t.Fatalf("Parse(%q): unknown reason %q", data, e.Reason)
	}
}

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// known are the envelope's top-level fields; the others go to Extra.
var known = map[string]bool{
	"event_id": true, "event_type": true, "event_time": true, "user_id": true, "session_hint": true,
	"product_id": true, "quantity": true, "amount": true, "currency": true, "device": true,
	"attributes": true, "schema_version": true,
}

func checkAccepted(t *testing.T, data []byte, ev schemas.Event) {
	if !json.Valid(data) {
		t.Fatalf("Parse accepted invalid JSON %q", data)
	}
	if !utf8.Valid(data) {
		t.Fatalf("Parse accepted invalid UTF-8 %q", data)
	}
	// The schema's rules, on the event alone.
	switch {
	case ev.EventID == "" || utf8.RuneCountInString(ev.EventID) > 128:
		t.Fatalf("Parse(%q): event_id %q", data, ev.EventID)
	case ev.EventType != schemas.PageView && ev.EventType != schemas.AddToCart &&
		ev.EventType != schemas.Purchase && ev.EventType != schemas.Refund:
		t.Fatalf("Parse(%q): event_type %q", data, ev.EventType)
	case ev.EventTime.Location() != time.UTC || ev.EventTime.Before(decode.MinEventTime) || !ev.EventTime.Before(decode.MaxEventTime):
		t.Fatalf("Parse(%q): event_time %v", data, ev.EventTime)
	case ev.UserID == "":
		t.Fatalf("Parse(%q): empty user_id", data)
	case ev.ProductID == "" && ev.EventType != schemas.PageView:
		t.Fatalf("Parse(%q): no product_id for %s", data, ev.EventType)
	case ev.Quantity < 0 || ev.Amount < 0:
		t.Fatalf("Parse(%q): quantity %d, amount %v", data, ev.Quantity, ev.Amount)
	case !currencyCode.MatchString(ev.Currency):
		t.Fatalf("Parse(%q): currency %q", data, ev.Currency)
	case ev.SchemaVersion != schemas.SchemaV1 && ev.SchemaVersion != schemas.SchemaV2:
		t.Fatalf("Parse(%q): schema_version %d", data, ev.SchemaVersion)
	case ev.MessageID != "m1" || !ev.PublishTime.Equal(publishTime) || ev.Late:
		t.Fatalf("Parse(%q): source metadata %q %v late=%v", data, ev.MessageID, ev.PublishTime, ev.Late)
	}

	// encoding/json must read the same fields from the payload.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("Parse accepted %q, encoding/json cannot decode it into a map: %v", data, err)
	}
	str := func(key, def string) string {
		if v, ok := m[key].(string); ok {
			return v
		}
		if m[key] != nil {
			t.Fatalf("Parse accepted %q whose %s is %T", data, key, m[key])
		}
		return def
	}
	for _, c := range []struct{ field, got, want string }{
		{"event_id", ev.EventID, str("event_id", "")},
		{"event_type", ev.EventType, str("event_type", "")},
		{"user_id", ev.UserID, str("user_id", "")},
		{"session_hint", ev.SessionHint, str("session_hint", "")},
		{"product_id", ev.ProductID, str("product_id", "")},
		{"currency", ev.Currency, str("currency", "USD")},
	} {
		if c.got != c.want {
			t.Fatalf("Parse(%q): %s = %q, encoding/json reads %q", data, c.field, c.got, c.want)
		}
	}
	if want, err := time.Parse(time.RFC3339Nano, str("event_time", "")); err != nil || !want.Equal(ev.EventTime) {
		t.Fatalf("Parse(%q): event_time %v, time.Parse gives %v, %v", data, ev.EventTime, want, err)
	}
	if n, ok := m["quantity"].(json.Number); ok {
		if q, err := n.Int64(); err != nil || q != ev.Quantity {
			t.Fatalf("Parse(%q): quantity %d, encoding/json reads %s", data, ev.Quantity, n)
		}
	} else if ev.Quantity != 0 || m["quantity"] != nil {
		t.Fatalf("Parse(%q): quantity %d from %#v", data, ev.Quantity, m["quantity"])
	}
	if n, ok := m["amount"].(json.Number); ok {
		if d, err := schemas.ParseDecimal(n.String()); err != nil || d != ev.Amount {
			t.Fatalf("Parse(%q): amount %v, encoding/json reads %s", data, ev.Amount, n)
		}
	} else if ev.Amount != 0 || m["amount"] != nil || ev.EventType == schemas.Purchase || ev.EventType == schemas.Refund {
		t.Fatalf("Parse(%q): amount %v from %#v for %s", data, ev.Amount, m["amount"], ev.EventType)
	}
	if v := m["schema_version"]; v != nil && v != json.Number("1") && v != json.Number("2") {
		t.Fatalf("Parse(%q): schema_version %v accepted", data, v)
	}
	// v2 reads discount and channel; in v1 they are unknown fields.
	v2 := ev.SchemaVersion == schemas.SchemaV2
	if n, ok := m["discount"].(json.Number); ok && v2 {
		if d, err := schemas.ParseDecimal(n.String()); err != nil || d != ev.Discount {
			t.Fatalf("Parse(%q): discount %v, encoding/json reads %s", data, ev.Discount, n)
		}
	} else if ev.Discount != 0 || v2 && m["discount"] != nil {
		t.Fatalf("Parse(%q): discount %v from %#v in v%d", data, ev.Discount, m["discount"], ev.SchemaVersion)
	}
	if c, ok := m["channel"].(string); ok && v2 {
		if c != ev.Channel {
			t.Fatalf("Parse(%q): channel %q, encoding/json reads %q", data, ev.Channel, c)
		}
	} else if ev.Channel != "" || v2 && m["channel"] != nil {
		t.Fatalf("Parse(%q): channel %q from %#v in v%d", data, ev.Channel, m["channel"], ev.SchemaVersion)
	}
	var device schemas.Device
	if d, ok := m["device"].(map[string]any); ok {
		device.OS, _ = d["os"].(string)
		device.Country, _ = d["country"].(string)
	}
	if device != ev.Device {
		t.Fatalf("Parse(%q): device %+v, encoding/json reads %+v", data, ev.Device, device)
	}
	attrs := map[string]string{}
	if a, ok := m["attributes"].(map[string]any); ok {
		for k, v := range a {
			attrs[k] = v.(string)
		}
	}
	if !maps.Equal(attrs, ev.Attributes) && !(len(attrs) == 0 && len(ev.Attributes) == 0) {
		t.Fatalf("Parse(%q): attributes %v, encoding/json reads %v", data, ev.Attributes, attrs)
	}
	wantExtra := map[string]any{}
	for k, v := range m {
		if !known[k] && !(v2 && (k == "discount" || k == "channel")) {
			wantExtra[k] = v
		}
	}
	if gotExtra := decodeExtra(t, ev.Extra); !reflect.DeepEqual(gotExtra, wantExtra) {
		t.Fatalf("Parse(%q): extra %s, encoding/json reads %v", data, ev.Extra, wantExtra)
	}
	if len(wantExtra) == 0 && ev.Extra != nil {
		t.Fatalf("Parse(%q): extra %q for no unknown field", data, ev.Extra)
	}
	if ev.Extra != nil {
		var compact bytes.Buffer
		if err := json.Compact(&compact, ev.Extra); err != nil || !bytes.Equal(compact.Bytes(), ev.Extra) {
			t.Fatalf("Parse(%q): extra %q is not compact JSON (%v)", data, ev.Extra, err)
		}
	}

	// The event survives its JSON form (BigQuery rows, the archive) and its Beam coder.
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatalf("Parse(%q): json.Marshal(event): %v", data, err)
	}
	var back schemas.Event
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("Parse(%q): unmarshalling %s: %v", data, b, err)
	}
	// Marshal re-escapes Extra (e.g. < as \u003c), so it is compared as what it means.
	opts := cmp.Options{cmpopts.EquateEmpty(), cmpopts.IgnoreFields(schemas.Event{}, "Extra")}
	if diff := cmp.Diff(ev, back, opts); diff != "" {
		t.Fatalf("Parse(%q): event changed through JSON (-parsed +unmarshalled):\n%s", data, diff)
	}
	if diff := cmp.Diff(decodeExtra(t, ev.Extra), decodeExtra(t, back.Extra)); diff != "" {
		t.Fatalf("Parse(%q): extra changed through JSON (-parsed +unmarshalled):\n%s", data, diff)
	}
	var decoded schemas.Event
	if err := decoded.UnmarshalBinary(ev.AppendBinary(nil)); err != nil {
		t.Fatalf("Parse(%q): Beam coder: %v", data, err)
	}
	if diff := cmp.Diff(ev, decoded, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Parse(%q): event changed through its Beam coder (-parsed +decoded):\n%s", data, diff)
	}
	checkDownstream(t, data, ev)
}

// stageSpan is the most any configuration adds to an event time on its way through the
// pipeline: product_metrics and trending windows, session gap and maximum duration (each at
// most 24h), plus allowed lateness, out-of-orderness, dedup horizon and the fraud velocity
// window and state TTL (each at most decode.MaxStageDuration).
const stageSpan = 4*24*time.Hour + 5*decode.MaxStageDuration

// checkDownstream carries an accepted event through what later stages compute from it: the
// windows and timers around its time in Beam's milliseconds and in the int64 nanoseconds of
// sessions and fraud, sums with the largest other event, and every output row's JSON.
func checkDownstream(t *testing.T, data []byte, ev schemas.Event) {
	t.Helper()
	for _, at := range []time.Time{ev.EventTime.Add(-stageSpan), ev.EventTime, ev.EventTime.Add(stageSpan)} {
		if back := time.Unix(0, at.UnixNano()).UTC(); !back.Equal(at) {
			t.Fatalf("Parse(%q): %v is %v in Unix nanoseconds (sessions, fraud)", data, at, back)
		}
		if ms := at.UnixMilli(); ms < int64(mtime.MinTimestamp) || ms > int64(mtime.EndOfGlobalWindowTime) {
			t.Fatalf("Parse(%q): %v is outside Beam's timestamps", data, at)
		}
	}
	// A window of 24h around the event, ending (with every margin) far inside year 9999.
	start := ev.EventTime.Truncate(24 * time.Hour)
	pane := schemas.Pane{WindowStart: start, WindowEnd: start.Add(stageSpan), PaneTiming: schemas.PaneLate}
	amount := schemas.NumericOf(ev.Amount).AddDecimal(schemas.MaxDecimal) // with the largest other event
	if amount.Cmp(schemas.NumericOf(ev.Amount)) < 0 || amount.Cmp(schemas.NumericOf(schemas.MaxDecimal)) < 0 {
		t.Fatalf("Parse(%q): %s + %s = %s wrapped", data, ev.Amount, schemas.MaxDecimal, amount)
	}
	if usd, ok := ev.Amount.MulChecked(schemas.DecimalScale); !ok || usd != ev.Amount {
		t.Fatalf("Parse(%q): %s × 1 = %s, %v", data, ev.Amount, usd, ok)
	}
	rows := []any{
		schemas.ProductMetric{Pane: pane, ProductID: ev.ProductID, Purchases: 2, RevenueUSD: amount, RefundsUSD: amount},
		schemas.TrendingProducts{Pane: pane, Ranking: []schemas.RankedProduct{{Rank: 1, ProductID: ev.ProductID, Purchases: 2, RevenueUSD: amount}}},
		schemas.UserSession{Pane: pane, UserID: ev.UserID, SessionStart: ev.EventTime, SessionEnd: ev.EventTime.Add(stageSpan), RevenueUSD: amount},
		schemas.FraudAlert{UserID: ev.UserID, DetectedAt: ev.EventTime.Add(stageSpan), EvidenceStart: ev.EventTime.Add(-stageSpan),
			EvidenceEnd: ev.EventTime, TotalUSD: amount, BaselineMeanUSD: amount.Div(2),
			Purchases: []schemas.AlertPurchase{{EventID: ev.EventID, EventTime: ev.EventTime, AmountUSD: ev.Amount}}},
	}
	for _, row := range rows {
		b, err := json.Marshal(row)
		if err != nil {
			t.Fatalf("Parse(%q): the %T row of this event cannot be written: %v", data, row, err)
		}
		back := reflect.New(reflect.TypeOf(row))
		if err := json.Unmarshal(b, back.Interface()); err != nil {
			t.Fatalf("Parse(%q): the %T row %s does not read back: %v", data, row, b, err)
		}
		if diff := cmp.Diff(row, back.Elem().Interface(), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Parse(%q): the %T row changed through JSON (-want +got):\n%s", data, row, diff)
		}
	}
}

// decodeExtra reads an Extra object, numbers as json.Number; nil reads as an empty map.
func decodeExtra(t *testing.T, raw json.RawMessage) map[string]any {
	out := map[string]any{}
	if raw == nil {
		return out
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("extra %q: %v", raw, err)
	}
	return out
}
