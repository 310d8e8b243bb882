package schemas

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
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

var errShortBuffer = errors.New("schemas: truncated binary encoding")

type writer []byte

func (w writer) str(s string) writer {
	w = binary.AppendUvarint(w, uint64(len(s)))
	return append(w, s...)
}
func (w writer) bytes(b []byte) writer {
	if b == nil {
		return binary.AppendUvarint(w, 0)
	}
	w = binary.AppendUvarint(w, uint64(len(b))+1)
	return append(w, b...)
}
func (w writer) int(v int64) writer { return binary.AppendVarint(w, v) }
func (w writer) time(t time.Time) writer {
	if t.IsZero() {
		return w.int(0).int(0)
	}
	return w.int(t.Unix()).int(int64(t.Nanosecond()) + 1)
}
func (w writer) bool(v bool) writer {
	if v {
		return append(w, 1)
	}
	return append(w, 0)
}
func (w writer) strMap(m map[string]string) writer {
	w = binary.AppendUvarint(w, uint64(len(m)))
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

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShortBuffer
		return 0
	}
	r.b = r.b[n:]
	return v
}
func (r *reader) int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShortBuffer
		return 0
	}
	r.b = r.b[n:]
	return v
}
func (r *reader) take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = errShortBuffer
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}
func (r *reader) str() string { return string(r.take(r.uvarint())) }
func (r *reader) bytes() []byte {
	n := r.uvarint()
	if n == 0 {
		return nil
	}
	return append([]byte{}, r.take(n-1)...)
}
func (r *reader) time() time.Time {
	sec, nsec := r.int(), r.int()
	if nsec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, nsec-1).UTC()
}
func (r *reader) bool() bool {
	b := r.take(1)
	return len(b) == 1 && b[0] == 1
}
func (r *reader) strMap() map[string]string {
	n := r.uvarint()
	if n == 0 || r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) { // each entry takes at least two bytes
		r.err = errShortBuffer
		return nil
	}
	m := make(map[string]string, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

// AppendBinary appends the binary encoding of m to b.
func (m Message) AppendBinary(b []byte) []byte {
	return []byte(writer(b).bytes(m.Data).strMap(m.Attributes).time(m.PublishTime).str(m.MessageID))
}

// UnmarshalBinary decodes what AppendBinary wrote.
func (m *Message) UnmarshalBinary(b []byte) error {
	r := &reader{b: b}
	*m = Message{Data: r.bytes(), Attributes: r.strMap(), PublishTime: r.time(), MessageID: r.str()}
	return r.err
}

// AppendBinary appends the binary encoding of e to b.
func (e Event) AppendBinary(b []byte) []byte {
	w := writer(b).str(e.EventID).str(e.EventType).time(e.EventTime).str(e.UserID).
		str(e.SessionHint).str(e.ProductID).int(e.Quantity).int(int64(e.Amount)).str(e.Currency).
		str(e.Device.OS).str(e.Device.Country).strMap(e.Attributes).int(e.SchemaVersion).
		bytes(e.Extra).str(e.MessageID).time(e.PublishTime).str(e.Category).
		int(int64(e.ListPrice)).int(int64(e.AmountUSD)).bool(e.Late)
	return []byte(w)
}

// UnmarshalBinary decodes what AppendBinary wrote.
func (e *Event) UnmarshalBinary(b []byte) error {
	r := &reader{b: b}
	*e = Event{
		EventID: r.str(), EventType: r.str(), EventTime: r.time(), UserID: r.str(),
		SessionHint: r.str(), ProductID: r.str(), Quantity: r.int(), Amount: Decimal(r.int()),
		Currency: r.str(), Device: Device{OS: r.str(), Country: r.str()}, Attributes: r.strMap(),
		SchemaVersion: r.int(), Extra: r.bytes(), MessageID: r.str(), PublishTime: r.time(),
		Category: r.str(), ListPrice: Decimal(r.int()), AmountUSD: Decimal(r.int()), Late: r.bool(),
	}
	return r.err
}

// AppendBinary appends the binary encoding of d to b.
func (d DeadLetter) AppendBinary(b []byte) []byte {
	return []byte(writer(b).str(d.Step).str(d.Reason).str(d.Error).bytes(d.Payload).
		strMap(d.Attributes).str(d.MessageID).time(d.PublishTime).time(d.Time))
}

// UnmarshalBinary decodes what AppendBinary wrote.
func (d *DeadLetter) UnmarshalBinary(b []byte) error {
	r := &reader{b: b}
	*d = DeadLetter{Step: r.str(), Reason: r.str(), Error: r.str(), Payload: r.bytes(),
		Attributes: r.strMap(), MessageID: r.str(), PublishTime: r.time(), Time: r.time()}
	return r.err
}
