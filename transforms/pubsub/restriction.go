package pubsub

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Restriction)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*tracker)(nil)))
	beam.RegisterCoder(reflect.TypeOf((*Restriction)(nil)).Elem(), encodeRestriction, decodeRestriction)
}

// Restriction is one round of the reader. Beam Go v2.77 calls bundle-finalization callbacks only
// for the first bundle of a plan (core/runtime/exec/plan.go: Plan.Finalize swaps p.bf while the
// ParDo units keep the original), so acks cannot wait for a callback. Instead the ack ids read in
// a round travel in the residual restriction: a runner schedules a residual only after the bundle
// that produced it is committed, so acking them when the residual starts is acking after commit.
type Restriction struct {
	// PendingAcks are the ack ids emitted by the previous round; its bundle is committed.
	PendingAcks []string
	// Read counts the messages emitted by every earlier round (for --maxMessages).
	Read int64
	// LastMessageMillis is the processing time of the last message read (or of the first round),
	// in Unix milliseconds (for --idleTimeout).
	LastMessageMillis int64
	// Stopping marks the final round: ack PendingAcks, then finish.
	Stopping bool
}

func encodeRestriction(r Restriction) []byte {
	b := binary.AppendVarint(nil, r.Read)
	b = binary.AppendVarint(b, r.LastMessageMillis)
	if r.Stopping {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(r.PendingAcks)))
	for _, id := range r.PendingAcks {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
	}
	return b
}

var errBadRestriction = errors.New("pubsub: malformed restriction encoding")

func decodeRestriction(b []byte) (Restriction, error) {
	var r Restriction
	var n int
	if r.Read, n = binary.Varint(b); n <= 0 {
		return r, errBadRestriction
	}
	b = b[n:]
	if r.LastMessageMillis, n = binary.Varint(b); n <= 0 || len(b) < n+1 {
		return r, errBadRestriction
	}
	r.Stopping = b[n] == 1
	b = b[n+1:]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return r, errBadRestriction
	}
	b = b[n:]
	if count > 0 {
		r.PendingAcks = make([]string, 0, count)
	}
	for i := uint64(0); i < count; i++ {
		l, n := binary.Uvarint(b)
		if n <= 0 || l > uint64(len(b)-n) {
			return r, errBadRestriction
		}
		r.PendingAcks = append(r.PendingAcks, string(b[n:n+int(l)]))
		b = b[n+int(l):]
	}
	return r, nil
}

// tracker claims ack ids during one round. A checkpoint (TrySplit(0)) hands the claimed ids and
// the updated counters to the residual; the primary is then done. Splits at any other fraction
// are refused: a Pub/Sub subscription has no positions to divide.
type tracker struct {
	rest    Restriction
	claimed []string
	next    Restriction // the residual to hand over at checkpoint, set by the reader
	done    bool
	err     error
}

func newTracker(r Restriction) *tracker { return &tracker{rest: r} }

// TryClaim claims an ack id (a string); it fails once the round is done.
func (t *tracker) TryClaim(pos any) bool {
	if t.done {
		return false
	}
	id, ok := pos.(string)
	if !ok {
		t.err = fmt.Errorf("pubsub tracker: claim of %T, want an ack id string", pos)
		return false
	}
	t.claimed = append(t.claimed, id)
	return true
}

// handOver sets what the residual carries when the round checkpoints.
func (t *tracker) handOver(next Restriction) { t.next = next }

// finish marks the round complete with no residual (the source is stopping).
func (t *tracker) finish() { t.done = true }

func (t *tracker) GetError() error { return t.err }

func (t *tracker) TrySplit(fraction float64) (primary, residual any, err error) {
	if t.done || fraction != 0 {
		return t.rest, nil, nil
	}
	t.done = true
	return Restriction{Read: t.rest.Read, LastMessageMillis: t.rest.LastMessageMillis, Stopping: true}, t.next, nil
}

func (t *tracker) GetProgress() (done, remaining float64) {
	if t.done {
		return float64(len(t.claimed)), 0
	}
	return float64(len(t.claimed)), 1
}

func (t *tracker) IsDone() bool { return t.done }

func (t *tracker) GetRestriction() any { return t.rest }

// IsBounded reports false: a subscription never ends by itself.
func (t *tracker) IsBounded() bool { return false }
