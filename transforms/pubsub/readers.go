package pubsub

// Readers. With ReadConfig.NumReaders > 1, Read starts that many independent readers of the
// subscription: an impulse fans out into one element per reader, a Reshuffle lets the runner
// spread them over its workers, and each element has its own restriction (Restriction.Reader),
// rounds, acks, leases, write-ahead-log files and watermark estimate. Pub/Sub hands each pull
// what no other reader holds, so the readers never share a message.
//
// The stage's watermark must be the minimum of the readers' estimates. The Beam model gives
// each residual its own output watermark and a runner holds the stage to the least of them
// (Dataflow and Flink keep one watermark hold per residual; not verifiable here). Prism v2.77
// does not: it takes the minimum over the residuals of the last bundle it persisted only
// (runners/prism/internal/engine/elementmanager.go, PersistBundle: stage.estimatedOutput), so a
// reader that runs in its own bundle would set the stage's watermark alone. So the readers of
// one process also publish their estimates to a readerGroup, and each reports the minimum of
// its own and those of the group's live members: on Prism, where all readers share the
// process, every reported watermark is the stage's minimum; elsewhere it is only more cautious.
//
// A reader that reads nothing must not stop the others' windows from closing: with more than
// one reader, a reader with no recent timestamps and nothing pending advances to processing time
// − MaxOutOfOrderness (observeRound), the most the estimate ever reaches.

import (
	"strconv"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
)

func init() {
	register.DoFn2x0[[]byte, func([]byte)](&readerKeysFn{})
	register.Emitter1[[]byte]()
}

// MaxReaders bounds ReadConfig.NumReaders.
const MaxReaders = 1000

// staleReader is how long a member of a readerGroup counts without a round: a restriction that
// a runner moved to another worker stops holding this process's readers back after it.
const staleReader = 5 * time.Minute

// readerKeysFn emits one element per reader: the reader's index in decimal (readerOf).
type readerKeysFn struct {
	N int
}

func (fn *readerKeysFn) ProcessElement(_ []byte, emit func([]byte)) {
	for i := range fn.N {
		emit([]byte(strconv.Itoa(i)))
	}
}

// readerOf is the reader index an element names; the impulse's empty element is reader 0.
func readerOf(elem []byte) int {
	n, err := strconv.Atoi(string(elem))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// readerGroup holds the latest watermark estimate of each reader of one Read in this process.
type readerGroup struct {
	mu      sync.Mutex
	members map[int]member
	seen    map[int]bool // every reader that ever ran here (tests)
}

type member struct {
	watermarkMillis int64 // unsetMillis before its first estimate
	at              time.Time
}

var groups struct {
	sync.Mutex
	m map[uint64]*readerGroup
}

// groupOf returns the process's group of a Read (readFn.Group), creating it on first use.
func groupOf(id uint64) *readerGroup {
	groups.Lock()
	defer groups.Unlock()
	g := groups.m[id]
	if g == nil {
		g = &readerGroup{members: map[int]member{}, seen: map[int]bool{}}
		if groups.m == nil {
			groups.m = map[uint64]*readerGroup{}
		}
		groups.m[id] = g
	}
	return g
}

// update records reader's own estimate at now.
func (g *readerGroup) update(reader int, watermarkMillis int64, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.members[reader] = member{watermarkMillis: watermarkMillis, at: now}
	g.seen[reader] = true
}

// leave removes a reader that has finished: it holds nothing back any more.
func (g *readerGroup) leave(reader int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.members, reader)
}

// min returns the least estimate of the live members at now (unsetMillis if one has none yet),
// and false when there is no live member.
func (g *readerGroup) min(now time.Time) (int64, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	least, any := int64(0), false
	for _, m := range g.members {
		if now.Sub(m.at) > staleReader {
			continue
		}
		if !any || m.watermarkMillis < least {
			least = m.watermarkMillis
		}
		any = true
	}
	return least, any
}

// readers returns how many readers ever ran in this process.
func (g *readerGroup) readers() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}
