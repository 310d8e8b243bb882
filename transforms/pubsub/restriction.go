package pubsub

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"

	"github.com/tributary-dev/tributary/schemas/wire"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*Restriction)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*tracker)(nil)))
	beam.RegisterCoder(reflect.TypeOf((*Restriction)(nil)).Elem(), encodeRestriction, decodeRestriction)
}

// Restriction is one round of the reader. The ack ids a round read travel in its residual and
// are acked when the residual starts, after the round's bundle is committed: see ack.go.
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
	// ID names the round, fresh for every residual: a runner retries a failed bundle with the same
	// restriction, and the retry then nacks what the failed attempt held in this process (the SDK
	// tells the source nothing when a bundle fails after its ProcessElement returned).
	ID uint64
	// Reader is the index of the reader the round belongs to (ReadConfig.NumReaders), fixed for
	// the reader's life.
	Reader int
}

// newRoundID returns a fresh Restriction.ID.
func newRoundID() uint64 { return rand.Uint64() }

func encodeRestriction(r Restriction) []byte {
	w := wire.Writer(nil).Int(r.Read).Int(r.LastMessageMillis).Bool(r.Stopping).Uint(uint64(len(r.PendingAcks)))
	for _, id := range r.PendingAcks {
		w = w.Str(id)
	}
	w = w.Uint(r.ID)
	if r.Reader != 0 { // reader 0 encodes as before readers existed
		w = w.Uint(uint64(r.Reader))
	}
	return w
}

var errBadRestriction = errors.New("pubsub: malformed restriction encoding")

func decodeRestriction(b []byte) (Restriction, error) {
	rd := wire.NewReader(b)
	r := Restriction{Read: rd.Int(), LastMessageMillis: rd.Int(), Stopping: rd.Bool()}
	if n := rd.Count(1); n > 0 {
		r.PendingAcks = make([]string, n)
		for i := range r.PendingAcks {
			r.PendingAcks[i] = rd.Str()
		}
	}
	if rd.Err() != nil {
		return r, errBadRestriction
	}
	if rd.Done() == nil {
		return r, nil // encoded before rounds had an ID
	}
	r.ID = rd.Uint()
	if rd.Done() == nil {
		return r, nil
	}
	reader := rd.Uint()
	if rd.Done() != nil || reader == 0 || reader >= MaxReaders {
		return r, errBadRestriction
	}
	r.Reader = int(reader)
	return r, nil
}

// tracker claims ack ids during one round. Whenever the round is split at fraction 0 (the reader's
// own checkpoint at the end of the round, or a runner's checkpoint in the middle of it), the
// residual carries every id claimed so far and the counters including them, so a split at any
// point loses no ack and resets no --maxMessages/--idleTimeout count; the primary is then done
// and the reader stops claiming. Splits at any other fraction are refused: a Pub/Sub subscription
// has no positions to divide, and Prism (which asks for 0.5 when a bundle looks slow) schedules a
// split's residual at once (engine.ReturnResiduals), before the primary's bundle is committed, so
// its acks would precede the commit.
type tracker struct {
	rest       Restriction
	claimed    []string
	lastMillis int64 // processing time of the last claim, or rest.LastMessageMillis
	stopping   bool  // the residual is the final round: it only acks
	done       bool
	err        error
	now        func() time.Time
}

func newTracker(r Restriction) *tracker {
	return &tracker{rest: r, lastMillis: r.LastMessageMillis, stopping: r.Stopping, now: time.Now}
}

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
	t.lastMillis = t.now().UnixMilli()
	return true
}

// residual is what the next round needs: the ids claimed so far (their bundle is committed when
// the residual runs) and the counters with this round's messages in them.
func (t *tracker) residual() Restriction {
	return Restriction{
		PendingAcks:       slices.Clone(t.claimed),
		Read:              t.rest.Read + int64(len(t.claimed)),
		LastMessageMillis: t.lastMillis,
		Stopping:          t.stopping,
		ID:                newRoundID(),
		Reader:            t.rest.Reader,
	}
}

func (t *tracker) GetError() error { return t.err }

// TrySplit at fraction 0 ends the round: the primary keeps only the acks it owed when it started
// (a retried primary acks them again, harmlessly, and reads nothing), the residual takes the rest.
func (t *tracker) TrySplit(fraction float64) (primary, residual any, err error) {
	if t.done || fraction != 0 {
		return t.rest, nil, nil
	}
	t.done = true
	p := t.rest
	p.Stopping = true
	return p, t.residual(), nil
}

// GetProgress reports the round's work: done is the messages claimed so far, remaining the
// messages the round is expected to read still. A subscription tells a puller nothing of its
// backlog, so the expectation is the previous round's count (expectedRound): a reader that read
// a full round last time is behind a backlog and will read about as much again. Runners use it to
// choose split points (this tracker refuses all but 0) and to weigh the work left.
func (t *tracker) GetProgress() (done, remaining float64) {
	done = float64(len(t.claimed))
	if t.done {
		return done, 0
	}
	return done, max(expectedRound(t.rest)-done, 1)
}

// expectedRound is the messages a round of r is expected to read: as many as the round before
// it (r.PendingAcks), at least 1 while the reader goes on, none in the final round.
func expectedRound(r Restriction) float64 {
	if r.Stopping {
		return 0
	}
	return max(float64(len(r.PendingAcks)), 1)
}

func (t *tracker) IsDone() bool { return t.done }

func (t *tracker) GetRestriction() any { return t.rest }

// IsBounded reports false: a subscription never ends by itself.
func (t *tracker) IsBounded() bool { return false }

// The reader's side of the tracker. LockRTracker only locks the RTracker methods, and a runner
// may split from another goroutine at any time, so these lock rt.Mu themselves.

// trackerOf returns the reader's tracker inside rt.
func trackerOf(rt *sdf.LockRTracker) *tracker { return rt.Rt.(*tracker) }

// claimedIDs returns a copy of the ids claimed so far.
func claimedIDs(rt *sdf.LockRTracker) []string {
	rt.Mu.Lock()
	defer rt.Mu.Unlock()
	return slices.Clone(trackerOf(rt).claimed)
}

// lastMessage returns when the round last claimed a message (or the restriction's time of the
// last message, or start when there was none).
func lastMessage(rt *sdf.LockRTracker, start time.Time) time.Time {
	rt.Mu.Lock()
	defer rt.Mu.Unlock()
	if ms := trackerOf(rt).lastMillis; ms != 0 {
		return time.UnixMilli(ms)
	}
	return start
}

// endRound is the reader's last word on a round. stopping asks for the final round; lastMessage
// is recorded for --idleTimeout. It returns the ids the residual will ack, and finished=true when
// there is no residual: the round read nothing and is stopping, or a runner split already took
// the residual.
func endRound(rt *sdf.LockRTracker, stopping bool, last time.Time) (pending []string, finished bool) {
	rt.Mu.Lock()
	defer rt.Mu.Unlock()
	t := trackerOf(rt)
	if t.done {
		return nil, true
	}
	if t.lastMillis == 0 {
		t.lastMillis = last.UnixMilli()
	}
	if stopping && len(t.claimed) == 0 {
		t.done, t.stopping = true, true
		return nil, true
	}
	t.stopping = t.stopping || stopping
	return slices.Clone(t.claimed), false
}

// finalRound reports whether the round is the reader's last: it stops with no residual to
// follow, or its residual only acks. A round a runner split is not: the reader goes on in the
// residual.
func finalRound(rt *sdf.LockRTracker) bool {
	rt.Mu.Lock()
	defer rt.Mu.Unlock()
	return trackerOf(rt).stopping
}
