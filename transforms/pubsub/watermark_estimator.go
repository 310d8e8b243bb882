package pubsub

import (
	"encoding/binary"
	"math"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*WatermarkState)(nil)).Elem())
	beam.RegisterType(reflect.TypeOf((*watermarkEstimator)(nil)))
	beam.RegisterCoder(reflect.TypeOf((*WatermarkState)(nil)).Elem(), encodeWatermarkState, decodeWatermarkState)
}

// samplePeriod is how long a round's oldest timestamp keeps holding the watermark, as in Beam
// Java's PubsubUnboundedSource (SAMPLE_PERIOD): Pub/Sub delivers out of order, so the watermark
// must follow the minimum of what was read recently, never the maximum.
const samplePeriod = time.Minute

// unsetMillis marks a watermark that has not been estimated yet.
const unsetMillis = math.MinInt64

// Sample is the oldest event timestamp read in one round and when that round ran.
type Sample struct {
	AtMillis  int64 // processing time of the round
	MinMillis int64 // oldest timestamp attribute read in it
}

// WatermarkState is the source's watermark estimator state; it travels with each residual.
type WatermarkState struct {
	WatermarkMillis int64    // the output watermark, monotone; unsetMillis before the first estimate
	MaxSeenMillis   int64    // newest timestamp attribute read so far
	Samples         []Sample // rounds within samplePeriod that read timestamped messages
}

func encodeWatermarkState(s WatermarkState) []byte {
	b := binary.AppendVarint(nil, s.WatermarkMillis)
	b = binary.AppendVarint(b, s.MaxSeenMillis)
	b = binary.AppendUvarint(b, uint64(len(s.Samples)))
	for _, x := range s.Samples {
		b = binary.AppendVarint(b, x.AtMillis)
		b = binary.AppendVarint(b, x.MinMillis)
	}
	return b
}

func decodeWatermarkState(b []byte) (WatermarkState, error) {
	var s WatermarkState
	vals := make([]int64, 0, 8)
	next := func() bool {
		v, n := binary.Varint(b)
		if n <= 0 {
			return false
		}
		vals = append(vals, v)
		b = b[n:]
		return true
	}
	if !next() || !next() {
		return s, errBadRestriction
	}
	s.WatermarkMillis, s.MaxSeenMillis = vals[0], vals[1]
	count, n := binary.Uvarint(b)
	if n <= 0 || count > uint64(len(b)) {
		return s, errBadRestriction
	}
	b = b[n:]
	for i := uint64(0); i < count; i++ {
		vals = vals[:0]
		if !next() || !next() {
			return s, errBadRestriction
		}
		s.Samples = append(s.Samples, Sample{AtMillis: vals[0], MinMillis: vals[1]})
	}
	return s, nil
}

// watermarkEstimator is a manual estimator: the reader updates it once per round with
// observeRound, from the timestamp attributes it read.
type watermarkEstimator struct {
	state WatermarkState
}

// CurrentWatermark implements sdf.WatermarkEstimator.
func (e *watermarkEstimator) CurrentWatermark() time.Time {
	if e.state.WatermarkMillis == unsetMillis {
		return mtime.MinTimestamp.ToTime()
	}
	return time.UnixMilli(e.state.WatermarkMillis)
}

// timestampFor returns the timestamp for a message without a usable attribute: the current
// watermark, so it is never late and never moves the watermark. Before the first estimate there
// is no watermark yet, and the publish time is the best available stand-in.
func (e *watermarkEstimator) timestampFor(publishTime time.Time) time.Time {
	if e.state.WatermarkMillis == unsetMillis {
		return publishTime
	}
	return time.UnixMilli(e.state.WatermarkMillis)
}

// observeRound folds one round into the estimate. roundMin and roundMax are the oldest and newest
// timestamp attributes read in the round (ok=false if it read none); pending reports whether read
// messages are still unacknowledged.
//
// The watermark is the minimum over the rounds of the last samplePeriod, minus maxOutOfOrderness.
// After a whole samplePeriod without timestamped messages and nothing pending, everything older
// than the newest timestamp seen has been delivered, so the watermark moves up to it.
func (e *watermarkEstimator) observeRound(now time.Time, roundMin, roundMax time.Time, ok, pending bool, maxOutOfOrderness time.Duration) {
	s := &e.state
	nowMs := now.UnixMilli()
	if ok {
		s.Samples = append(s.Samples, Sample{AtMillis: nowMs, MinMillis: roundMin.UnixMilli()})
		if m := roundMax.UnixMilli(); s.MaxSeenMillis == unsetMillis || m > s.MaxSeenMillis {
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
	case !pending && s.MaxSeenMillis != unsetMillis:
		candidate = s.MaxSeenMillis
	}
	if candidate > s.WatermarkMillis {
		s.WatermarkMillis = candidate
	}
}
