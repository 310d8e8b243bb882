package pubsub

import (
	"errors"
	"math"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"

	"github.com/tributary-dev/tributary/schemas/wire"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*WatermarkState)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*watermarkEstimator)(nil)))
	beam.RegisterCoder(reflect.TypeOf((*WatermarkState)(nil)).Elem(), encodeWatermarkState, decodeWatermarkState)
}

// DefaultSamplePeriod is how long a round's oldest timestamp keeps holding the watermark, as in
// Beam Java's PubsubUnboundedSource (SAMPLE_PERIOD): Pub/Sub delivers out of order, so the
// watermark must follow the minimum of what was read recently, never the maximum.
const DefaultSamplePeriod = time.Minute

// unsetMillis marks a watermark that has not been estimated yet.
const unsetMillis = math.MinInt64

// Sample is the oldest event timestamp read in one round and when that round ran.
type Sample struct {
	AtMillis  int64 // processing time of the round
	MinMillis int64 // oldest timestamp observed in it
}

// WatermarkState is the source's watermark estimator state; it travels with each residual.
type WatermarkState struct {
	WatermarkMillis int64    // the output watermark, monotone; unsetMillis before the first estimate
	MaxSeenMillis   int64    // newest timestamp observed so far
	Samples         []Sample // rounds within the sample period that observed timestamps
	// LastAttributeMillis is when a round last observed a timestamp attribute (0: never).
	LastAttributeMillis int64
}

func encodeWatermarkState(s WatermarkState) []byte {
	w := wire.Writer(nil).Int(s.WatermarkMillis).Int(s.MaxSeenMillis).Uint(uint64(len(s.Samples)))
	for _, x := range s.Samples {
		w = w.Int(x.AtMillis).Int(x.MinMillis)
	}
	return w.Int(s.LastAttributeMillis)
}

var errBadWatermarkState = errors.New("pubsub: malformed watermark state encoding")

func decodeWatermarkState(b []byte) (WatermarkState, error) {
	r := wire.NewReader(b)
	s := WatermarkState{WatermarkMillis: r.Int(), MaxSeenMillis: r.Int()}
	if n := r.Count(2); n > 0 {
		s.Samples = make([]Sample, n)
		for i := range s.Samples {
			s.Samples[i] = Sample{AtMillis: r.Int(), MinMillis: r.Int()}
		}
	}
	s.LastAttributeMillis = r.Int()
	if r.Done() != nil {
		return s, errBadWatermarkState
	}
	return s, nil
}

// watermarkEstimator is a manual estimator: the reader updates it once per round with
// observeRound, from the timestamp attributes it read.
type watermarkEstimator struct {
	state WatermarkState
	// group and reader are set by a reader of a Read with more than one (readers.go): the
	// estimator then reports the minimum of its own estimate and the group's.
	group  *readerGroup
	reader int
	clock  func() time.Time // time.Now when nil (tests set it)
}

// reportedMillis is the watermark the estimator reports: its own estimate or, in a group, the
// least of the group's live estimates if that is lower; unsetMillis before any estimate.
func (e *watermarkEstimator) reportedMillis() int64 {
	w := e.state.WatermarkMillis
	if e.group != nil {
		now := time.Now
		if e.clock != nil {
			now = e.clock
		}
		if m, ok := e.group.min(now()); ok && m < w {
			w = m
		}
	}
	return w
}

// CurrentWatermark implements sdf.WatermarkEstimator.
func (e *watermarkEstimator) CurrentWatermark() time.Time {
	w := e.reportedMillis()
	if w == unsetMillis {
		return mtime.MinTimestamp.ToTime()
	}
	return time.UnixMilli(w)
}

// reported returns the watermark already reported, if any: a message whose timestamp is
// behind it may find its windows closed.
func (e *watermarkEstimator) reported() (time.Time, bool) {
	w := e.reportedMillis()
	if w == unsetMillis {
		return time.Time{}, false
	}
	return time.UnixMilli(w).UTC(), true
}

// join makes the estimator a member of a reader group (at the start of every round of a Read
// with more than one reader); the reader counts in the group's minimum from now on.
func (e *watermarkEstimator) join(g *readerGroup, reader int, now time.Time) {
	e.group, e.reader = g, reader
	g.update(reader, e.state.WatermarkMillis, now)
}

// span is the oldest and newest of the timestamps observed (any: there was one).
type span struct {
	min, max time.Time
	any      bool
}

func (p *span) observe(ts time.Time) {
	if !p.any || ts.Before(p.min) {
		p.min = ts
	}
	if !p.any || ts.After(p.max) {
		p.max = ts
	}
	p.any = true
}

// round collects the timestamps a round observes for the estimate: valid attributes (its own
// span) and the publish times of messages without one, not those behind the watermark or invalid.
type round struct {
	span
	pub span // publish times of messages without the attribute
}

func (r *round) observePublish(ts time.Time) { r.pub.observe(ts) }

// observeRound folds one round into the estimate; pending reports whether read messages are
// still unacknowledged.
//
// The watermark is the minimum over the rounds of the last samplePeriod, minus
// maxOutOfOrderness. After a whole samplePeriod without observed timestamps and nothing
// pending, everything older than the newest timestamp seen has been delivered, so the watermark
// moves up to it. Either way it never passes processing time − maxOutOfOrderness: a timestamp
// ahead of the clock (within the skew the band allows) cannot make on-time messages late.
func (e *watermarkEstimator) observeRound(now time.Time, r round, pending bool, maxOutOfOrderness, samplePeriod time.Duration) {
	s := &e.state
	nowMs := now.UnixMilli()
	// Publish times stand in only while the stream carries no timestamp attributes: among
	// attribute times (a republished historical backlog) a message without one would pull the
	// watermark up to the present.
	if r.any {
		s.LastAttributeMillis = nowMs
	} else if r.pub.any && (s.LastAttributeMillis == 0 || nowMs-s.LastAttributeMillis > samplePeriod.Milliseconds()) {
		r.span = r.pub
	}
	if r.any {
		s.Samples = append(s.Samples, Sample{AtMillis: nowMs, MinMillis: r.min.UnixMilli()})
		if m := r.max.UnixMilli(); s.MaxSeenMillis == unsetMillis || m > s.MaxSeenMillis {
			s.MaxSeenMillis = m
		}
	}
	keep := s.Samples[:0]
	for _, x := range s.Samples {
		if nowMs-x.AtMillis <= samplePeriod.Milliseconds() {
			keep = append(keep, x)
		}
	}
	s.Samples = keep

	candidate := int64(unsetMillis)
	switch {
	case len(s.Samples) > 0:
		candidate = s.Samples[0].MinMillis
		for _, x := range s.Samples[1:] {
			candidate = min(candidate, x.MinMillis)
		}
		candidate -= maxOutOfOrderness.Milliseconds()
	case !pending && e.group != nil:
		candidate = nowMs - maxOutOfOrderness.Milliseconds()
	case !pending && s.MaxSeenMillis != unsetMillis:
		candidate = s.MaxSeenMillis
	}
	if candidate != unsetMillis {
		candidate = min(candidate, nowMs-maxOutOfOrderness.Milliseconds())
	}
	if candidate > s.WatermarkMillis {
		s.WatermarkMillis = candidate
	}
	if e.group != nil {
		e.group.update(e.reader, s.WatermarkMillis, now)
	}
}
