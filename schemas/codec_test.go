package schemas

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/go-cmp/cmp"
)

var (
	instant  = time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.UTC)
	berlin   = time.FixedZone("CET", 3600)
	preEpoch = time.Date(1969, 7, 20, 20, 17, 40, 0, time.UTC)
)

// Times compare as instants (time.Time.Equal): the codec keeps the instant, not the zone.
var codecEvents = []struct {
	name string
	e    Event
}{
	{"zero", Event{}},
	{"page view", Event{EventID: "e-1", EventType: PageView, EventTime: instant, UserID: "u", Currency: "USD", SchemaVersion: 1}},
	{"full", Event{
		EventID: "e-2", EventType: Purchase, EventTime: instant.In(berlin), UserID: "u-ü", SessionHint: "s",
		ProductID: "p-0001", Quantity: 3, Amount: 5997 * DecimalScale / 100, Currency: "EUR",
		Device: Device{OS: "android", Country: "DE"}, Attributes: map[string]string{"b": "2", "a": "", "": "empty key"},
		SchemaVersion: 1, Extra: json.RawMessage(`{"coupon":"X"}`), MessageID: "m-1", PublishTime: instant.Add(time.Millisecond),
		Category: "toys", ListPrice: 1999 * DecimalScale / 100, AmountUSD: math.MaxInt64, Late: true,
		BehindWatermark: instant.Add(time.Hour),
	}},
	{"pre-epoch and epoch times", Event{EventTime: preEpoch, PublishTime: time.Unix(0, 0)}},
	{"empty extra is not nil", Event{Extra: json.RawMessage{}}},
	{"negative quantity survives", Event{Quantity: -7}},
}

func TestEventCodecRoundTrip(t *testing.T) {
	for _, tt := range codecEvents {
		t.Run(tt.name, func(t *testing.T) {
			checkRoundTrip(t, tt.e)
		})
	}
}

func TestEventCodecDeterministic(t *testing.T) {
	e := codecEvents[2].e
	want := e.AppendBinary(nil)
	for range 20 { // map iteration order varies between runs
		if got := e.AppendBinary(nil); !bytes.Equal(got, want) {
			t.Fatalf("encoding differs between calls:\n%x\n%x", want, got)
		}
	}
	// Appending keeps the prefix.
	if got := e.AppendBinary([]byte("prefix")); !bytes.Equal(got, append([]byte("prefix"), want...)) {
		t.Error("AppendBinary does not append")
	}
}

// An empty map decodes as nil: both encode to the same JSON (omitempty) and the same bytes.
func TestCodecEmptyMapDecodesNil(t *testing.T) {
	var e Event
	if err := e.UnmarshalBinary(Event{Attributes: map[string]string{}}.AppendBinary(nil)); err != nil {
		t.Fatal(err)
	}
	if e.Attributes != nil {
		t.Errorf("Attributes = %#v, want nil", e.Attributes)
	}
}

func TestMessageCodecRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		m    Message
	}{
		{"zero", Message{}},
		{"nil vs empty data", Message{Data: []byte{}, MessageID: "1"}},
		{"full", Message{Data: []byte(`{"event_id":"e"}`), Attributes: map[string]string{"k": "v", "x": "y"}, PublishTime: instant, MessageID: "123"}},
		{"binary data", Message{Data: []byte{0, 0xff, '\n', 0x80}, PublishTime: preEpoch}},
		{"source marks", Message{Data: []byte("x"), PublishTime: instant, MessageID: "9",
			TimestampError: "timestamp attribute event_time is 25h0m0s after the publish time", BehindWatermark: instant.Add(time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRoundTrip(t, tt.m)
		})
	}
}

func TestDeadLetterCodecRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    DeadLetter
	}{
		{"zero", DeadLetter{}},
		{"full", DeadLetter{
			Step: "decode", Reason: "invalid_json", Error: "invalid character '}'", Payload: []byte(`{"a":}`),
			Attributes: map[string]string{"origin": "web"}, MessageID: "m-9", PublishTime: instant, Time: instant.Add(time.Second),
		}},
		{"binary payload", DeadLetter{Step: "decode", Reason: "too_large", Payload: bytes.Repeat([]byte{0xfe}, 300), Time: preEpoch}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRoundTrip(t, tt.d)
		})
	}
}

// checkRoundTrip decodes want's encoding back and compares, then checks that every truncation
// of the encoding is refused and that Beam's coder for T round-trips want too.
func checkRoundTrip[T interface{ AppendBinary([]byte) []byte }, P interface {
	*T
	UnmarshalBinary([]byte) error
}](t *testing.T, want T) {
	t.Helper()
	var got T
	if err := P(&got).UnmarshalBinary(want.AppendBinary(nil)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	checkTruncations(t, want.AppendBinary(nil), func(b []byte) error { return P(new(T)).UnmarshalBinary(b) })
	checkBeamCoder(t, want)
}

// checkTruncations decodes every strict prefix of an encoding: each must fail, none may panic.
func checkTruncations(t *testing.T, enc []byte, decode func([]byte) error) {
	t.Helper()
	for n := range len(enc) {
		if err := decode(enc[:n]); err == nil {
			t.Errorf("decoding the first %d of %d bytes succeeded, want an error", n, len(enc))
		}
	}
}

// checkBeamCoder round-trips v through the coder Beam infers for its type, i.e. the registered one.
func checkBeamCoder[T any](t *testing.T, v T) {
	t.Helper()
	typ := reflect.TypeFor[T]()
	var buf bytes.Buffer
	if err := beam.NewElementEncoder(typ).Encode(v, &buf); err != nil {
		t.Fatalf("beam encode: %v", err)
	}
	got, err := beam.NewElementDecoder(typ).Decode(&buf)
	if err != nil {
		t.Fatalf("beam decode: %v", err)
	}
	if diff := cmp.Diff(v, got.(T)); diff != "" {
		t.Errorf("beam coder round trip (-want +got):\n%s", diff)
	}
}
