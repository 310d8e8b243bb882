package archive

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/rtrackers/offsetrange"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*partitionTracker)(nil)))
	beam.RegisterType(reflect.TypeOf((*partitionWatermark)(nil)))
	register.DoFn6x2[context.Context, *partitionWatermark, *sdf.LockRTracker, []byte,
		func(beam.EventTime, schemas.Message), func(beam.EventTime, schemas.DeadLetter),
		sdf.ProcessContinuation, error](&pacedFn{})
}

// pacedFn is the paced reader: a splittable DoFn over the indexes of the sorted partitions
// (an offsetrange.Restriction), one partition per ProcessElement call. The watermark travels in
// the estimator state, as Unix milliseconds.
type pacedFn struct {
	ReadConfig

	reader *fileReader
	behind telemetry.Counter
}

func (fn *pacedFn) Setup(ctx context.Context) (err error) {
	fn.behind = telemetry.NewCounter(MetricBehindWatermark)
	fn.reader, err = openReader(ctx, fn.Directory)
	return err
}

func (fn *pacedFn) Teardown() error { return fn.reader.close() }

func (fn *pacedFn) CreateInitialRestriction(_ []byte) offsetrange.Restriction {
	return offsetrange.Restriction{Start: 0, End: int64(len(fn.Partitions))}
}

// SplitRestriction keeps the range whole: the partitions are read in order, one at a time.
func (fn *pacedFn) SplitRestriction(_ []byte, r offsetrange.Restriction) []offsetrange.Restriction {
	return []offsetrange.Restriction{r}
}

func (fn *pacedFn) RestrictionSize(_ []byte, r offsetrange.Restriction) float64 { return r.Size() }

func (fn *pacedFn) CreateTracker(r offsetrange.Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(&partitionTracker{Tracker: offsetrange.NewTracker(r)})
}

// TruncateRestriction drops the unread partitions when a runner drains the pipeline.
func (fn *pacedFn) TruncateRestriction(rt *sdf.LockRTracker, _ []byte) offsetrange.Restriction {
	r := rt.GetRestriction().(offsetrange.Restriction)
	return offsetrange.Restriction{Start: r.Start, End: r.Start}
}

func (fn *pacedFn) InitialWatermarkEstimatorState(_ beam.EventTime, r offsetrange.Restriction, _ []byte) int64 {
	return fn.holdBefore(r.Start)
}

func (fn *pacedFn) CreateWatermarkEstimator(millis int64) *partitionWatermark {
	return &partitionWatermark{millis: millis}
}

func (fn *pacedFn) WatermarkEstimatorState(e *partitionWatermark) int64 { return e.millis }

// holdBefore is the watermark while partition i is the next to read: its start − Lateness.
func (fn *pacedFn) holdBefore(i int64) int64 {
	if i >= int64(len(fn.Partitions)) {
		return math.MaxInt64 // nothing left: the restriction is done and the runner ends it
	}
	start, err := partitionStart(fn.Partitions[i])
	if err != nil {
		panic(err) // Validate checked every partition
	}
	return start.Add(-fn.Lateness).UnixMilli()
}

// ProcessElement reads the restriction's first partition (all its files, in name order),
// moves the watermark to the start of the next one − Lateness, and checkpoints (the residual
// is the partitions after it), or stops after the last.
func (fn *pacedFn) ProcessElement(ctx context.Context, we *partitionWatermark, rt *sdf.LockRTracker, _ []byte,
	emit func(beam.EventTime, schemas.Message), emitDead func(beam.EventTime, schemas.DeadLetter)) (sdf.ProcessContinuation, error) {
	i := rt.GetRestriction().(offsetrange.Restriction).Start
	if !rt.TryClaim(i) {
		return sdf.StopProcessing(), rt.GetError()
	}
	p := fn.Partitions[i]
	fs, err := fn.reader.list(ctx, fn.Directory, p)
	if err != nil {
		return sdf.StopProcessing(), err
	}
	wm := time.UnixMilli(we.millis).UTC()
	for _, f := range fs {
		d, err := fn.reader.read(ctx, fn.ReadConfig, f, func(ts time.Time, m schemas.Message) {
			if ts.Before(wm) {
				m.BehindWatermark = wm
				fn.behind.Inc(ctx, 1)
			}
			emit(beam.EventTime(ts.UnixMilli()), m)
		}, func(d schemas.DeadLetter) { emitDead(beam.EventTime(d.PublishTime.UnixMilli()), d) })
		if err != nil {
			return sdf.StopProcessing(), fmt.Errorf("archive.Read: partition %s: %w", p, err)
		}
		if d != nil {
			emitDead(beam.EventTime(d.PublishTime.UnixMilli()), *d)
		}
	}
	if rt.IsDone() {
		return sdf.StopProcessing(), nil
	}
	we.millis = fn.holdBefore(i + 1)
	return sdf.ResumeProcessingIn(fn.PartitionDelay), nil
}

// partitionWatermark is a manual estimator: ProcessElement sets it after each partition.
type partitionWatermark struct{ millis int64 }

// CurrentWatermark implements sdf.WatermarkEstimator.
func (e *partitionWatermark) CurrentWatermark() time.Time {
	if e.millis >= mtime.MaxTimestamp.Milliseconds() {
		return mtime.MaxTimestamp.ToTime()
	}
	return time.UnixMilli(e.millis)
}

// partitionTracker is an offset range tracker that only splits at its claimed position (the
// reader's own checkpoint, or a runner's at fraction 0): a runner split further on would hand
// later partitions to a residual that runs at once, reading ahead of the watermark's pace.
// It reports itself unbounded, as a stream that ends by itself.
type partitionTracker struct {
	*offsetrange.Tracker
}

func (t *partitionTracker) TrySplit(fraction float64) (primary, residual any, err error) {
	if fraction != 0 {
		return t.GetRestriction(), nil, nil
	}
	return t.Tracker.TrySplit(0)
}

func (t *partitionTracker) IsBounded() bool { return false }
