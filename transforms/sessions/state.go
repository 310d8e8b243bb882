package sessions

import (
	"encoding/binary"
	"errors"
	"hash/fnv"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
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
	RevenueUSD                          int64
	FirstAt, LastAt                     int64 // times of the first and last event naming a product
	FirstID, LastID                     uint64
	FirstProduct, LastProduct           string
	IDs                                 []uint64 // event ids seen, to drop repeats

	Version int64   // pane_index of the last row emitted; -1 before the first
	Dirty   bool    // changed since the last row
	Emitted []int64 // starts of the rows emitted for it or for sessions it absorbed
}

// userState is everything kept for one user between timer firings.
type userState struct {
	// Horizon is the largest timer time seen: the watermark was at least this then.
	Horizon  int64
	Sessions []session // sorted by Start, disjoint
}

var errShort = errors.New("sessions: truncated state encoding")

type writer []byte

func (w writer) int(v int64) writer   { return binary.AppendVarint(w, v) }
func (w writer) uint(v uint64) writer { return binary.AppendUvarint(w, v) }
func (w writer) fixed(v uint64) writer {
	return binary.LittleEndian.AppendUint64(w, v)
}
func (w writer) str(s string) writer { return append(w.uint(uint64(len(s))), s...) }
func (w writer) bool(b bool) writer {
	if b {
		return append(w, 1)
	}
	return append(w, 0)
}

type reader struct {
	b   []byte
	err error
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
func (r *reader) fixed() uint64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}
func (r *reader) str() string {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
func (r *reader) byte() uint8 {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// count reads a length and checks it against the bytes left (each item takes at least min).
func (r *reader) count(min int) int {
	n := r.uint()
	if n > uint64(len(r.b)/min) {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

func encodeEventRecord(e eventRecord) []byte {
	return writer(make([]byte, 0, 32)).int(e.At).fixed(e.ID).uint(uint64(e.Kind)).str(e.ProductID).int(e.AmountUSD)
}

func decodeEventRecord(b []byte) (eventRecord, error) {
	r := &reader{b: b}
	e := eventRecord{At: r.int(), ID: r.fixed(), Kind: uint8(r.uint()), ProductID: r.str(), AmountUSD: r.int()}
	return e, r.err
}

func encodeUserState(u userState) []byte {
	w := writer(nil).int(u.Horizon).uint(uint64(len(u.Sessions)))
	for _, s := range u.Sessions {
		w = w.int(s.Start).int(s.Last).int(s.Events).int(s.PageViews).int(s.Carts).int(s.Purchases).
			int(s.RevenueUSD).int(s.FirstAt).int(s.LastAt).fixed(s.FirstID).fixed(s.LastID).
			str(s.FirstProduct).str(s.LastProduct).int(s.Version).bool(s.Dirty)
		w = w.uint(uint64(len(s.IDs)))
		for _, id := range s.IDs {
			w = w.fixed(id)
		}
		w = w.uint(uint64(len(s.Emitted)))
		for _, e := range s.Emitted {
			w = w.int(e)
		}
	}
	return w
}

func decodeUserState(b []byte) (userState, error) {
	r := &reader{b: b}
	u := userState{Horizon: r.int()}
	n := r.count(20)
	u.Sessions = make([]session, 0, n)
	for range n {
		s := session{Start: r.int(), Last: r.int(), Events: r.int(), PageViews: r.int(), Carts: r.int(),
			Purchases: r.int(), RevenueUSD: r.int(), FirstAt: r.int(), LastAt: r.int(), FirstID: r.fixed(),
			LastID: r.fixed(), FirstProduct: r.str(), LastProduct: r.str(), Version: r.int(), Dirty: r.byte() == 1}
		s.IDs = make([]uint64, r.count(8))
		for i := range s.IDs {
			s.IDs[i] = r.fixed()
		}
		s.Emitted = make([]int64, r.count(1))
		for i := range s.Emitted {
			s.Emitted[i] = r.int()
		}
		u.Sessions = append(u.Sessions, s)
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errors.New("sessions: trailing bytes in state encoding")
	}
	return u, r.err
}

// end is the exclusive end of the session's window: its last event plus the gap.
func (s *session) end(gap int64) int64 { return s.Last + gap }

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
		s.RevenueUSD = e.AmountUSD
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
	s.RevenueUSD += o.RevenueUSD
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
