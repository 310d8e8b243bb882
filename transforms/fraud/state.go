package fraud

import (
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/schemas/wire"
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
	USDCount      int64
	USDSum        schemas.Numeric // a sum of Decimals: wider than one
	BaselineStart int64
	// Deferred are purchases read from the buffer whose evaluation time has not come yet.
	Deferred []purchase
}

func appendPurchase(w wire.Writer, p purchase) wire.Writer {
	return w.Int(p.At).Str(p.EventID).Int(p.AmountUSD).Bool(p.HasUSD)
}

func appendPurchases(w wire.Writer, ps []purchase) wire.Writer {
	w = w.Uint(uint64(len(ps)))
	for _, p := range ps {
		w = appendPurchase(w, p)
	}
	return w
}

func readPurchase(r *wire.Reader) purchase {
	return purchase{At: r.Int(), EventID: r.Str(), AmountUSD: r.Int(), HasUSD: r.Bool()}
}

func readPurchases(r *wire.Reader) []purchase {
	n := r.Count(4) // a purchase takes at least 4 bytes
	ps := make([]purchase, 0, n)
	for range n {
		ps = append(ps, readPurchase(r))
	}
	return ps
}

func encodePurchase(p purchase) []byte { return appendPurchase(make([]byte, 0, 32), p) }

func decodePurchase(b []byte) (purchase, error) {
	r := wire.NewReader(b)
	p := readPurchase(r)
	return p, r.Done()
}

func encodeHistory(h history) []byte {
	w := appendPurchase(wire.Writer(nil).Bool(h.Evaluated), h.Cursor)
	w = appendPurchases(w, h.Recent).Bool(h.Disarmed).Int(h.USDCount)
	w = h.USDSum.AppendWire(w).Int(h.BaselineStart)
	return appendPurchases(w, h.Deferred)
}

func decodeHistory(b []byte) (history, error) {
	r := wire.NewReader(b)
	h := history{Evaluated: r.Bool(), Cursor: readPurchase(r), Recent: readPurchases(r), Disarmed: r.Bool(),
		USDCount: r.Int(), USDSum: schemas.ReadNumeric(r), BaselineStart: r.Int(), Deferred: readPurchases(r)}
	return h, r.Done()
}
