// Package deadletter owns Tributary's dead-letter convention: every step that cannot handle an
// input emits a schemas.DeadLetter carrying the original bytes, attributes, the step and the error,
// and counts it as deadletter.<reason>. Nothing is dropped without a record or a counter.
package deadletter

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// Reasons used across the pipelines (the suffix of the deadletter.<reason> counter).
const (
	ReasonTooLarge      = "too_large"
	ReasonInvalidJSON   = "invalid_json"
	ReasonInvalidSchema = "invalid_schema"
	ReasonWriteFailed   = "write_failed"
	// ReasonAmountOutOfRange: an amount, or its USD conversion, above schemas.MaxDecimal, the
	// per-event cap that keeps every sum inside BigQuery NUMERIC.
	ReasonAmountOutOfRange = "amount_out_of_range"
	// ReasonEventTimeOutOfRange: an event_time outside decode.MinEventTime–MaxEventTime, the
	// range every later stage can compute with (windows, sessions, timers) and write.
	ReasonEventTimeOutOfRange = "event_time_out_of_range"
)

func init() {
	register.Function1x1[schemas.DeadLetter, schemas.DeadLetterRow](toRow)
}

var counters sync.Map // reason -> telemetry.Counter

func counter(reason string) telemetry.Counter {
	if c, ok := counters.Load(reason); ok {
		return c.(telemetry.Counter)
	}
	c, _ := counters.LoadOrStore(reason, telemetry.NewCounter("deadletter."+reason))
	return c.(telemetry.Counter)
}

// FromMessage builds the dead letter for a message that failed at step, and counts it.
func FromMessage(ctx context.Context, step, reason string, msg schemas.Message, err error) schemas.DeadLetter {
	counter(reason).Inc(ctx, 1)
	return schemas.DeadLetter{
		Step:        step,
		Reason:      reason,
		Error:       err.Error(),
		Payload:     msg.Data,
		Attributes:  msg.Attributes,
		MessageID:   msg.MessageID,
		PublishTime: msg.PublishTime,
		Time:        time.Now().UTC(),
	}
}

// FromEvent builds the dead letter for a decoded event that failed at a later step (the payload
// is the event as JSON, since its original bytes are no longer at hand), and counts it.
func FromEvent(ctx context.Context, step, reason string, e schemas.Event, err error) schemas.DeadLetter {
	payload, mErr := json.Marshal(e)
	if mErr != nil {
		payload = []byte(e.EventID)
	}
	msg := schemas.Message{Data: payload, Attributes: e.Attributes, MessageID: e.MessageID, PublishTime: e.PublishTime}
	return FromMessage(ctx, step, reason, msg, err)
}

// Rows turns dead letters from any number of steps into dead_letters table rows.
//
// Rows: PCollection<schemas.DeadLetter>... -> PCollection<schemas.DeadLetterRow>
func Rows(s beam.Scope, dead ...beam.PCollection) beam.PCollection {
	s = s.Scope("deadletter.Rows")
	all := dead[0]
	if len(dead) > 1 {
		all = beam.Flatten(s, dead...)
	}
	return beam.ParDo(s, toRow, all)
}

func toRow(d schemas.DeadLetter) schemas.DeadLetterRow { return d.Row() }
