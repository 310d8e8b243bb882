package sessions

import (
	"hash/fnv"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/schemas/wire"
)

// What the sessionizer keeps per user. Every state call is a round trip to the runner, and
// the state of every active user sits in the runner's memory, so both records are compact
// binary: an event is ~30 bytes, a session a summary plus 8 bytes per event id.
func init() {
	beam.RegisterCoder(reflect.TypeOf(eventRecord{}), encodeEventRecord, decodeEventRecord)
	beam.RegisterCoder(reflect.TypeOf(userState{}), encodeUserState, decodeUserState)
}

// Event kinds as stored (one byte instead of the type name).
const (
	kindOther uint8 = iota
	kindPageView
	kindCart
	kindPurchase
)

// eventRecord is what the sessionizer needs of one event.
type eventRecord struct {
	At        int64  // event time, Unix nanoseconds
	ID        uint64 // FNV-64a of event_id: dedup and a deterministic tie-break
	Kind      uint8
	ProductID string
	AmountUSD int64 // schemas.Decimal units
}

func eventID(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(id))
	return h.Sum64()
}

// session is the mergeable summary of a run of events of one user, with what is needed to
// version its rows.
type session struct {
	Start, Last                         int64 // first and last event time, Unix ns
	Events, PageViews, Carts, Purchases int64
	RevenueUSD                          schemas.Numeric // a sum of Decimals: wider than one
	FirstAt, LastAt                     int64           // times of the first and last event naming a product
	FirstID, LastID                     uint64
	FirstProduct, LastProduct           string
	IDs                                 []uint64 // event ids seen, to drop repeats

	Version int64   // pane_index of the last row emitted; -1 before the first
	Dirty   bool    // changed since the last row
	Emitted []int64 // starts of the rows emitted for it or for sessions it absorbed
}

// userState is everything kept for one user between timer firings.
type userState struct {
	// Horizon is the largest timer time seen minus TimestampSkew: the sessionizer's clock.
	// The watermark was at least Horizon + TimestampSkew then, so every event still to come
	// that is not marked Late is at Horizon or later.
	Horizon  int64
	Sessions []session // sorted by Start, disjoint
}

func encodeEventRecord(e eventRecord) []byte {
	return wire.Writer(make([]byte, 0, 32)).Int(e.At).Fixed(e.ID).Uint(uint64(e.Kind)).Str(e.ProductID).Int(e.AmountUSD)
}

func decodeEventRecord(b []byte) (eventRecord, error) {
	r := wire.NewReader(b)
	e := eventRecord{At: r.Int(), ID: r.Fixed(), Kind: uint8(r.Uint()), ProductID: r.Str(), AmountUSD: r.Int()}
	return e, r.Err()
}

func encodeUserState(u userState) []byte {
	w := wire.Writer(nil).Int(u.Horizon).Uint(uint64(len(u.Sessions)))
	for _, s := range u.Sessions {
		w = w.Int(s.Start).Int(s.Last).Int(s.Events).Int(s.PageViews).Int(s.Carts).Int(s.Purchases)
		w = s.RevenueUSD.AppendWire(w).Int(s.FirstAt).Int(s.LastAt).Fixed(s.FirstID).Fixed(s.LastID).
			Str(s.FirstProduct).Str(s.LastProduct).Int(s.Version).Bool(s.Dirty)
		w = w.Uint(uint64(len(s.IDs)))
		for _, id := range s.IDs {
			w = w.Fixed(id)
		}
		w = w.Uint(uint64(len(s.Emitted)))
		for _, e := range s.Emitted {
			w = w.Int(e)
		}
	}
	return w
}

func decodeUserState(b []byte) (userState, error) {
	r := wire.NewReader(b)
	u := userState{Horizon: r.Int()}
	n := r.Count(20)
	u.Sessions = make([]session, 0, n)
	for range n {
		s := session{Start: r.Int(), Last: r.Int(), Events: r.Int(), PageViews: r.Int(), Carts: r.Int(),
			Purchases: r.Int(), RevenueUSD: schemas.ReadNumeric(r), FirstAt: r.Int(), LastAt: r.Int(), FirstID: r.Fixed(),
			LastID: r.Fixed(), FirstProduct: r.Str(), LastProduct: r.Str(), Version: r.Int(), Dirty: r.Bool()}
		s.IDs = make([]uint64, r.Count(8))
		for i := range s.IDs {
			s.IDs[i] = r.Fixed()
		}
		s.Emitted = make([]int64, r.Count(1))
		for i := range s.Emitted {
			s.Emitted[i] = r.Int()
		}
		u.Sessions = append(u.Sessions, s)
	}
	return u, r.Done()
}

// end is the exclusive end of the session's window: its last event plus the gap, or its cap,
// start + maxDuration, if that is earlier.
func (s *session) end(gap, maxDuration int64) int64 { return min(s.Last+gap, s.Start+maxDuration) }

// newSession is the session of one event.
func newSession(e eventRecord) session {
	s := session{Start: e.At, Last: e.At, Events: 1, IDs: []uint64{e.ID}, Version: -1, Dirty: true}
	switch e.Kind {
	case kindPageView:
		s.PageViews = 1
	case kindCart:
		s.Carts = 1
	case kindPurchase:
		s.Purchases = 1
		s.RevenueUSD = schemas.NumericOf(schemas.Decimal(e.AmountUSD))
	}
	if e.ProductID != "" {
		s.FirstAt, s.LastAt, s.FirstID, s.LastID = e.At, e.At, e.ID, e.ID
		s.FirstProduct, s.LastProduct = e.ProductID, e.ProductID
	}
	return s
}

// absorb merges o into s. The result is dirty: it differs from whatever either reported.
func (s *session) absorb(o session) {
	s.Start, s.Last = min(s.Start, o.Start), max(s.Last, o.Last)
	s.Events += o.Events
	s.PageViews += o.PageViews
	s.Carts += o.Carts
	s.Purchases += o.Purchases
	s.RevenueUSD = s.RevenueUSD.Add(o.RevenueUSD)
	if o.FirstProduct != "" && (s.FirstProduct == "" || before(o.FirstAt, o.FirstID, s.FirstAt, s.FirstID)) {
		s.FirstAt, s.FirstID, s.FirstProduct = o.FirstAt, o.FirstID, o.FirstProduct
	}
	if o.LastProduct != "" && (s.LastProduct == "" || before(s.LastAt, s.LastID, o.LastAt, o.LastID)) {
		s.LastAt, s.LastID, s.LastProduct = o.LastAt, o.LastID, o.LastProduct
	}
	s.IDs = append(s.IDs, o.IDs...)
	s.Version = max(s.Version, o.Version)
	for _, e := range o.Emitted {
		if !slices.Contains(s.Emitted, e) {
			s.Emitted = append(s.Emitted, e)
		}
	}
	s.Dirty = true
}

// before orders events by time, then id, so ties resolve the same way on every run.
func before(at1 int64, id1 uint64, at2 int64, id2 uint64) bool {
	return at1 < at2 || (at1 == at2 && id1 < id2)
}
