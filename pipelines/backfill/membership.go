package backfill

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn4x0[context.Context, beam.EventTime, beam.X, func(beam.X)](&inRange{})
	register.DoFn3x0[context.Context, schemas.Message, func(schemas.Message)](&countReplayed{})
	register.Emitter1[beam.X]()
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

// inRange keeps the rows whose time in Member (their table's bigquery.Layout.Member) is in
// Span, so each row belongs to exactly one range. A row without one, a dead letter of no
// message (none in the archive), goes by its element timestamp.
type inRange struct {
	Span    span
	Member  string
	dropped telemetry.Counter
}

func (f *inRange) Setup() { f.dropped = telemetry.NewCounter(outsideRange) }

func (f *inRange) ProcessElement(ctx context.Context, ts beam.EventTime, row beam.X, emit func(beam.X)) {
	t := bigquery.MemberTime(row, f.Member)
	if t.IsZero() {
		t = ts.ToTime()
	}
	if !f.Span.has(t) {
		f.dropped.Inc(ctx, 1)
		return
	}
	emit(row)
}

// countReplayed counts the messages replayed (streaming.ReplayCounter), which the progress line
// and the summary report as read.
type countReplayed struct{ read telemetry.Counter }

func (f *countReplayed) Setup() { f.read = telemetry.NewCounter(streaming.ReplayCounter) }

func (f *countReplayed) ProcessElement(ctx context.Context, m schemas.Message, emit func(schemas.Message)) {
	f.read.Inc(ctx, 1)
	emit(m)
}

// InRange keeps the rows of p that belong to [from, to) by their table's membership column
// (bigquery.Layout.Member): windows by window_start, sessions by session_start, alerts by
// detected_at, events by event time and dead letters by publish time. Processed -> Processed.
func InRange(s beam.Scope, p streaming.Processed, from, to time.Time) streaming.Processed {
	s = s.Scope("backfill.InRange")
	keep := func(table string, rows beam.PCollection) beam.PCollection {
		l, ok := bigquery.LayoutOf(table)
		if !ok || l.Member == "" {
			panic(fmt.Sprintf("backfill.InRange: table %s has no membership column", table))
		}
		return beam.ParDo(s, &inRange{Span: spanOf(from, to), Member: l.Member}, rows)
	}
	out := p
	out.Events = keep(schemas.TableEvents, p.Events)
	out.ProductMetrics = keep(schemas.TableProductMetrics, p.ProductMetrics)
	out.TrendingProducts = keep(schemas.TableTrendingProducts, p.TrendingProducts)
	out.UserSessions = keep(schemas.TableUserSessions, p.UserSessions)
	out.FraudAlerts = keep(schemas.TableFraudAlerts, p.FraudAlerts)
	out.DeadLetters = nil
	for _, dl := range p.DeadLetters {
		out.DeadLetters = append(out.DeadLetters, keep(schemas.TableDeadLetters, dl))
	}
	return out
}
