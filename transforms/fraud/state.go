package fraud

import (
	"encoding/binary"
	"errors"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// What the detector keeps per user, in a compact binary form: every state call is a round trip
// to the runner, and the state of every active user sits in the runner's memory.
func init() {
	beam.RegisterCoder(reflect.TypeOf(purchase{}), encodePurchase, decodePurchase)
	beam.RegisterCoder(reflect.TypeOf(history{}), encodeHistory, decodeHistory)
}

// purchase is what the rules need of one purchase event.
type purchase struct {
	At        int64 // event time, Unix nanoseconds
	EventID   string
	AmountUSD int64 // schemas.Decimal units
	HasUSD    bool  // false when the currency was unknown to enrich
}

// before orders purchases by event time, then event id: the order the rules see them in.
func (p purchase) before(q purchase) bool {
	return p.At < q.At || (p.At == q.At && p.EventID < q.EventID)
}

// history is everything kept for one user between timer firings.
type history struct {
	// Cursor is the last purchase evaluated; Evaluated is false until there is one.
	Evaluated bool
	Cursor    purchase
	// Recent are the purchases evaluated within the velocity window of the cursor.
	Recent []purchase
	// Disarmed is set once the velocity rule fired, until a purchase finds the window at or
	// under the limit again.
	Disarmed bool
	// The anomaly baseline: purchases with a USD amount, their sum and the time of the first.
	USDCount, USDSum, BaselineStart int64
	// Deferred are purchases read from the buffer whose evaluation time has not come yet.
	Deferred []purchase
}

var errShort = errors.New("fraud: truncated state encoding")

func appendPurchase(b []byte, p purchase) []byte {
	b = binary.AppendVarint(b, p.At)
	b = binary.AppendUvarint(b, uint64(len(p.EventID)))
	b = append(b, p.EventID...)
	b = binary.AppendVarint(b, p.AmountUSD)
	if p.HasUSD {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendPurchases(b []byte, ps []purchase) []byte {
	b = binary.AppendUvarint(b, uint64(len(ps)))
	for _, p := range ps {
		b = appendPurchase(b, p)
	}
	return b
}

type reader struct {
	b   []byte
	err error
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

func (r *reader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bool() bool {
	if len(r.b) < 1 {
		r.fail()
		return false
	}
	v := r.b[0] == 1
	r.b = r.b[1:]
	return v
}

func (r *reader) purchase() purchase {
	p := purchase{At: r.int()}
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail()
		return p
	}
	p.EventID = string(r.b[:n])
	r.b = r.b[n:]
	p.AmountUSD = r.int()
	p.HasUSD = r.bool()
	return p
}

func (r *reader) purchases() []purchase {
	n := r.uint()
	if n > uint64(len(r.b)/4) { // a purchase takes at least 4 bytes
		r.fail()
		return nil
	}
	ps := make([]purchase, 0, n)
	for range n {
		ps = append(ps, r.purchase())
	}
	return ps
}

func encodePurchase(p purchase) []byte { return appendPurchase(make([]byte, 0, 32), p) }

func decodePurchase(b []byte) (purchase, error) {
	r := &reader{b: b}
	p := r.purchase()
	return p, r.done()
}

func encodeHistory(h history) []byte {
	var b []byte
	if h.Evaluated {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendPurchase(b, h.Cursor)
	b = appendPurchases(b, h.Recent)
	if h.Disarmed {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendVarint(b, h.USDCount)
	b = binary.AppendVarint(b, h.USDSum)
	b = binary.AppendVarint(b, h.BaselineStart)
	return appendPurchases(b, h.Deferred)
}

func decodeHistory(b []byte) (history, error) {
	r := &reader{b: b}
	h := history{Evaluated: r.bool(), Cursor: r.purchase(), Recent: r.purchases(), Disarmed: r.bool(),
		USDCount: r.int(), USDSum: r.int(), BaselineStart: r.int(), Deferred: r.purchases()}
	return h, r.done()
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		return errors.New("fraud: trailing bytes in state encoding")
	}
	return r.err
}
