package backfill

import (
	"context"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x0[context.Context, schemas.Event, func(schemas.Event)](&eventsInRange{})
	register.DoFn3x0[context.Context, schemas.ProductMetric, func(schemas.ProductMetric)](&metricsInRange{})
	register.DoFn3x0[context.Context, schemas.TrendingProducts, func(schemas.TrendingProducts)](&trendingInRange{})
	register.DoFn3x0[context.Context, schemas.UserSession, func(schemas.UserSession)](&sessionsInRange{})
	register.DoFn3x0[context.Context, schemas.FraudAlert, func(schemas.FraudAlert)](&alertsInRange{})
	register.DoFn4x0[context.Context, beam.EventTime, schemas.DeadLetter, func(schemas.DeadLetter)](&deadLettersInRange{})
	register.DoFn3x0[context.Context, schemas.Message, func(schemas.Message)](&countReplayed{})
	register.Emitter1[schemas.Event]()
	register.Emitter1[schemas.ProductMetric]()
	register.Emitter1[schemas.TrendingProducts]()
	register.Emitter1[schemas.UserSession]()
	register.Emitter1[schemas.FraudAlert]()
	register.Emitter1[schemas.DeadLetter]()
	register.Emitter1[schemas.Message]()
}

// outsideRange counts the rows the membership filters drop: rows of the context before --from
// (replayed only so that state crossing --from is right) or of the archive's lateness after --to.
const outsideRange = "backfill.outside_range"

// span is the half-open range [From, To) in Unix milliseconds (millisecond event times, as
// Beam's), exported so the DoFns serialize it.
type span struct{ From, To int64 }

func (r span) has(t time.Time) bool { ms := t.UnixMilli(); return ms >= r.From && ms < r.To }

func spanOf(from, to time.Time) span { return span{From: from.UnixMilli(), To: to.UnixMilli()} }

// filter is the shared body of the membership DoFns.
type filter struct {
	Span    span
	dropped telemetry.Counter
}

func (f *filter) Setup() { f.dropped = telemetry.NewCounter(outsideRange) }

func (f *filter) keep(ctx context.Context, t time.Time) bool {
	if f.Span.has(t) {
		return true
	}
	f.dropped.Inc(ctx, 1)
	return false
}

type eventsInRange struct{ filter }

func (f *eventsInRange) ProcessElement(ctx context.Context, e schemas.Event, emit func(schemas.Event)) {
	if f.keep(ctx, e.EventTime) {
		emit(e)
	}
}

type metricsInRange struct{ filter }

func (f *metricsInRange) ProcessElement(ctx context.Context, m schemas.ProductMetric, emit func(schemas.ProductMetric)) {
	if f.keep(ctx, m.WindowStart) {
		emit(m)
	}
}

type trendingInRange struct{ filter }

func (f *trendingInRange) ProcessElement(ctx context.Context, t schemas.TrendingProducts, emit func(schemas.TrendingProducts)) {
	if f.keep(ctx, t.WindowStart) {
		emit(t)
	}
}

type sessionsInRange struct{ filter }

func (f *sessionsInRange) ProcessElement(ctx context.Context, u schemas.UserSession, emit func(schemas.UserSession)) {
	if f.keep(ctx, u.SessionStart) {
		emit(u)
	}
}

type alertsInRange struct{ filter }

func (f *alertsInRange) ProcessElement(ctx context.Context, a schemas.FraudAlert, emit func(schemas.FraudAlert)) {
	if f.keep(ctx, a.DetectedAt) {
		emit(a)
	}
}

// deadLettersInRange keeps the dead letters whose message was published in the range: a dead
// letter may have no event time (undecodable), and publish_time is the dead_letters table's
// membership column (bigquery.Layout.Member), so each belongs to exactly one range. One
// without a publish time (none in the archive) goes by its element timestamp.
type deadLettersInRange struct{ filter }

func (f *deadLettersInRange) ProcessElement(ctx context.Context, ts beam.EventTime, d schemas.DeadLetter, emit func(schemas.DeadLetter)) {
	t := d.PublishTime
	if t.IsZero() {
		t = ts.ToTime()
	}
	if f.keep(ctx, t) {
		emit(d)
	}
}

// countReplayed counts the messages replayed (streaming.ReplayCounter), which the progress line
// and the summary report as read.
type countReplayed struct{ read telemetry.Counter }

func (f *countReplayed) Setup() { f.read = telemetry.NewCounter(streaming.ReplayCounter) }

func (f *countReplayed) ProcessElement(ctx context.Context, m schemas.Message, emit func(schemas.Message)) {
	f.read.Inc(ctx, 1)
	emit(m)
}

// InRange keeps the rows of p that belong to [from, to): windows by window_start, sessions by
// session_start, alerts by detected_at, events by event time and dead letters by publish time
// (see deadLettersInRange): each table's bigquery.Layout.Member. Processed -> Processed.
func InRange(s beam.Scope, p streaming.Processed, from, to time.Time) streaming.Processed {
	s = s.Scope("backfill.InRange")
	f := filter{Span: spanOf(from, to)}
	out := p
	out.Events = beam.ParDo(s, &eventsInRange{f}, p.Events)
	out.ProductMetrics = beam.ParDo(s, &metricsInRange{f}, p.ProductMetrics)
	out.TrendingProducts = beam.ParDo(s, &trendingInRange{f}, p.TrendingProducts)
	out.UserSessions = beam.ParDo(s, &sessionsInRange{f}, p.UserSessions)
	out.FraudAlerts = beam.ParDo(s, &alertsInRange{f}, p.FraudAlerts)
	out.DeadLetters = nil
	for _, dl := range p.DeadLetters {
		out.DeadLetters = append(out.DeadLetters, beam.ParDo(s, &deadLettersInRange{f}, dl))
	}
	return out
}
