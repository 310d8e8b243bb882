package decode

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn5x0[context.Context, beam.EventTime, schemas.Message,
		func(beam.EventTime, schemas.Event), func(schemas.DeadLetter)](&decodeFn{})
	register.Emitter2[beam.EventTime, schemas.Event]()
	register.Emitter1[schemas.DeadLetter]()
}

// Step is the step name decode's dead letters carry.
const Step = "decode"

var (
	inCount  = telemetry.NewCounter("decode.in")
	outCount = telemetry.NewCounter("decode.out")
)

// Config is the lateness budget. An event whose payload time trails its source timestamp by
// more than MaxOutOfOrderness + AllowedLateness would be dropped by the windowed aggregates, so
// decode marks it Late to let them count it (late.dropped) instead of losing it silently.
type Config struct {
	// MaxOutOfOrderness is how far the source's watermark may trail the newest event time.
	MaxOutOfOrderness time.Duration
	// AllowedLateness is the windows' allowed lateness.
	AllowedLateness time.Duration
}

// Validate reports a negative duration.
func (c Config) Validate() error {
	if c.MaxOutOfOrderness < 0 {
		return fmt.Errorf("MaxOutOfOrderness %v is negative", c.MaxOutOfOrderness)
	}
	if c.AllowedLateness < 0 {
		return fmt.Errorf("AllowedLateness %v is negative", c.AllowedLateness)
	}
	return nil
}

// Output holds what Decode produces.
type Output struct {
	Events      beam.PCollection // PCollection<schemas.Event>, timestamped with event_time
	DeadLetters beam.PCollection // PCollection<schemas.DeadLetter>, step "decode"
}

// Decode parses and validates messages.
// PCollection<schemas.Message> -> PCollection<schemas.Event>, PCollection<schemas.DeadLetter>.
// Events are re-timestamped with their payload's event_time; messages that fail Parse become
// dead letters carrying the original bytes and attributes, as do messages whose timestamp
// attribute the source refused (reason invalid_timestamp). It panics if cfg is invalid.
func Decode(s beam.Scope, msgs beam.PCollection, cfg Config) Output {
	s = s.Scope("decode.Decode")
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("decode.Decode: invalid config: %v", err))
	}
	events, dead := beam.ParDo2(s, &decodeFn{
		MaxOutOfOrderness: cfg.MaxOutOfOrderness,
		AllowedLateness:   cfg.AllowedLateness,
	}, msgs)
	return Output{Events: events, DeadLetters: dead}
}

// decodeFn is Parse as a DoFn. Its fields are exported so that Beam serializes them.
type decodeFn struct {
	MaxOutOfOrderness time.Duration
	AllowedLateness   time.Duration
}

func (fn *decodeFn) ProcessElement(ctx context.Context, ts beam.EventTime, msg schemas.Message,
	emitEvent func(beam.EventTime, schemas.Event), emitDead func(schemas.DeadLetter)) {
	inCount.Inc(ctx, 1)
	if msg.TimestampError != "" {
		// The source refused the message's time; its element timestamp is only the publish time.
		emitDead(deadletter.FromMessage(ctx, Step, deadletter.ReasonInvalidTimestamp, msg, errors.New(msg.TimestampError)))
		return
	}
	ev, err := parseSafely(msg)
	if err != nil {
		reason := deadletter.ReasonInvalidSchema
		if e := (*Error)(nil); errors.As(err, &e) {
			reason = e.Reason
		}
		emitDead(deadletter.FromMessage(ctx, Step, reason, msg, err))
		return
	}
	ev.Late = late(ts, ev.EventTime, fn.MaxOutOfOrderness+fn.AllowedLateness)
	// Arrived behind the source's watermark: each windowed step judges it against its windows.
	ev.BehindWatermark = msg.BehindWatermark
	outCount.Inc(ctx, 1)
	emitEvent(mtime.FromTime(ev.EventTime), ev)
}

// parseSafely is Parse, with a panic (a bug: FuzzParse looks for them) turned into an error so
// that one message cannot fail its bundle forever on a streaming runner.
func parseSafely(msg schemas.Message) (ev schemas.Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decode: internal error: %v", r)
		}
	}()
	return Parse(msg)
}

// late reports whether the source timestamp ts is more than budget past the event time. It
// works in milliseconds, Beam's resolution, so that no extreme timestamp can overflow.
func late(ts beam.EventTime, eventTime time.Time, budget time.Duration) bool {
	if budget < 0 { // the sum of two huge durations wrapped
		budget = math.MaxInt64
	}
	lag := ts.Milliseconds() - eventTime.UnixMilli() // both within ±2^53: no overflow
	return lag > budget.Milliseconds()
}
