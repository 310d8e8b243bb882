package schemas

import (
	"encoding/json"
	"reflect"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas/wire"
)

// Beam coders for the types that cross stage boundaries. Beam's schema coder cannot encode
// time.Time and its JSON fallback is slow, so these use a compact length-prefixed binary form.
func init() {
	beam.RegisterCoder(reflect.TypeOf(Message{}), func(m Message) []byte { return m.AppendBinary(nil) }, decodeMessage)
	beam.RegisterCoder(reflect.TypeOf(Event{}), func(e Event) []byte { return e.AppendBinary(nil) }, decodeEvent)
	beam.RegisterCoder(reflect.TypeOf(DeadLetter{}), func(d DeadLetter) []byte { return d.AppendBinary(nil) }, decodeDeadLetter)
	// Output rows are few (aggregates) and already JSON-shaped for BigQuery.
	// Beam names coder functions without their type arguments, so each type gets its own
	// non-generic pair.
	beam.RegisterCoder(reflect.TypeOf(ProductMetric{}), encodeProductMetric, decodeProductMetric)
	beam.RegisterCoder(reflect.TypeOf(DeadLetterRow{}), encodeDeadLetterRow, decodeDeadLetterRow)
}

func encodeProductMetric(v ProductMetric) ([]byte, error) { return json.Marshal(v) }

func decodeProductMetric(b []byte) (ProductMetric, error) {
	var v ProductMetric
	return v, json.Unmarshal(b, &v)
}

func encodeDeadLetterRow(v DeadLetterRow) ([]byte, error) { return json.Marshal(v) }

func decodeDeadLetterRow(b []byte) (DeadLetterRow, error) {
	var v DeadLetterRow
	return v, json.Unmarshal(b, &v)
}

func decodeMessage(b []byte) (Message, error) {
	var m Message
	return m, m.UnmarshalBinary(b)
}

func decodeEvent(b []byte) (Event, error) {
	var e Event
	return e, e.UnmarshalBinary(b)
}

func decodeDeadLetter(b []byte) (DeadLetter, error) {
	var d DeadLetter
	return d, d.UnmarshalBinary(b)
}

// writer and reader add the encodings of the schemas' own types (nil-preserving bytes, times,
// sorted string maps) to the wire primitives.
type writer struct{ wire.Writer }

func (w writer) str(s string) writer { return writer{w.Str(s)} }
func (w writer) int(v int64) writer  { return writer{w.Int(v)} }
func (w writer) bool(v bool) writer  { return writer{w.Bool(v)} }

// bytes writes the length plus one, so that nil and empty stay distinct.
func (w writer) bytes(b []byte) writer {
	if b == nil {
		return writer{w.Uint(0)}
	}
	return writer{append(w.Uint(uint64(len(b))+1), b...)}
}

// time writes seconds and nanoseconds plus one, so that the zero time stays distinct.
func (w writer) time(t time.Time) writer {
	if t.IsZero() {
		return w.int(0).int(0)
	}
	return w.int(t.Unix()).int(int64(t.Nanosecond()) + 1)
}

func (w writer) strMap(m map[string]string) writer {
	w = writer{w.Uint(uint64(len(m)))}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic bytes: equal values encode equally
	for _, k := range keys {
		w = w.str(k).str(m[k])
	}
	return w
}

type reader struct{ *wire.Reader }

func newReader(b []byte) reader { return reader{wire.NewReader(b)} }

func (r reader) bytes() []byte {
	n := r.Uint()
	if n == 0 {
		return nil
	}
	return append([]byte{}, r.Take(n-1)...)
}

func (r reader) time() time.Time {
	sec, nsec := r.Int(), r.Int()
	if nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, nsec-1).UTC()
}

func (r reader) strMap() map[string]string {
	n := r.Count(2) // an entry takes at least two bytes
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for range n {
		k := r.Str()
		m[k] = r.Str()
	}
	return m
}

// AppendBinary appends the binary encoding of m to b.
func (m Message) AppendBinary(b []byte) []byte {
	return writer{b}.bytes(m.Data).strMap(m.Attributes).time(m.PublishTime).str(m.MessageID).
		str(m.TimestampError).time(m.BehindWatermark).Writer
}

// UnmarshalBinary decodes what AppendBinary wrote.
func (m *Message) UnmarshalBinary(b []byte) error {
	r := newReader(b)
	*m = Message{Data: r.bytes(), Attributes: r.strMap(), PublishTime: r.time(), MessageID: r.Str(),
		TimestampError: r.Str(), BehindWatermark: r.time()}
	return r.Err()
}

// AppendBinary appends the binary encoding of e to b.
func (e Event) AppendBinary(b []byte) []byte {
	w := writer{b}.str(e.EventID).str(e.EventType).time(e.EventTime).str(e.UserID).
		str(e.SessionHint).str(e.ProductID).int(e.Quantity).int(int64(e.Amount)).str(e.Currency).
		str(e.Device.OS).str(e.Device.Country).strMap(e.Attributes).int(e.SchemaVersion).
		bytes(e.Extra).str(e.MessageID).time(e.PublishTime).str(e.Category).
		int(int64(e.ListPrice)).int(int64(e.AmountUSD)).bool(e.Late).time(e.BehindWatermark)
	// The v2 fields go last, and only when set: a v1 event encodes exactly as before v2, so a
	// job updated in place decodes the old job's buffers, and theirs the new one's v1 events.
	if e.Discount != 0 || e.Channel != "" {
		w = w.int(int64(e.Discount)).str(e.Channel)
	}
	return w.Writer
}

// UnmarshalBinary decodes what AppendBinary wrote.
func (e *Event) UnmarshalBinary(b []byte) error {
	r := newReader(b)
	*e = Event{
		EventID: r.Str(), EventType: r.Str(), EventTime: r.time(), UserID: r.Str(),
		SessionHint: r.Str(), ProductID: r.Str(), Quantity: r.Int(), Amount: Decimal(r.Int()),
		Currency: r.Str(), Device: Device{OS: r.Str(), Country: r.Str()}, Attributes: r.strMap(),
		SchemaVersion: r.Int(), Extra: r.bytes(), MessageID: r.Str(), PublishTime: r.time(),
		Category: r.Str(), ListPrice: Decimal(r.Int()), AmountUSD: Decimal(r.Int()), Late: r.Bool(),
		BehindWatermark: r.time(),
	}
	if r.Done() == wire.ErrTrailing { // bytes left: the v2 fields
		e.Discount, e.Channel = Decimal(r.Int()), r.Str()
	}
	return r.Err()
}

// AppendBinary appends the binary encoding of d to b.
func (d DeadLetter) AppendBinary(b []byte) []byte {
	return writer{b}.str(d.Step).str(d.Reason).str(d.Error).bytes(d.Payload).
		strMap(d.Attributes).str(d.MessageID).time(d.PublishTime).time(d.Time).int(d.PayloadSize).Writer
}

// UnmarshalBinary decodes what AppendBinary wrote.
func (d *DeadLetter) UnmarshalBinary(b []byte) error {
	r := newReader(b)
	*d = DeadLetter{Step: r.Str(), Reason: r.Str(), Error: r.Str(), Payload: r.bytes(),
		Attributes: r.strMap(), MessageID: r.Str(), PublishTime: r.time(), Time: r.time(), PayloadSize: r.Int()}
	return r.Err()
}
