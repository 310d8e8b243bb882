package deadletter

import (
	"context"
	"encoding/json"
	"sync"
	"time"
	"unicode/utf8"

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
	// ReasonInvalidTimestamp: the timestamp attribute was unparsable or outside the band around
	// the publish time (the source's schemas.Message.TimestampError says which).
	ReasonInvalidTimestamp = "invalid_timestamp"
	ReasonWriteFailed      = "write_failed"
	// ReasonAmountOutOfRange: an amount, or its USD conversion, above schemas.MaxDecimal, the
	// per-event cap that keeps every sum inside BigQuery NUMERIC.
	ReasonAmountOutOfRange = "amount_out_of_range"
	// ReasonEventTimeOutOfRange: an event_time outside decode.MinEventTime–MaxEventTime, the
	// range every later stage can compute with (windows, sessions, timers) and write.
	ReasonEventTimeOutOfRange = "event_time_out_of_range"
)

// MaxPayload is the most payload bytes a dead letter keeps. It equals decode's MaxPayload, so
// every message the pipeline can decode keeps its whole payload in a dead letter; only a
// payload already refused as too_large is cut. 1 MiB leaves room, within BigQuery's 10 MB
// append and Pub/Sub's 10 MB message, for the rest of the row or message (error text, up to
// 100 attributes of at most 1,280 bytes each) and for a dead letter of a refused dead-letter
// row, whose payload is that row's JSON.
const MaxPayload = 1 << 20

// MaxError is the most bytes of error text a dead letter keeps.
const MaxError = 16 << 10

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

// FromMessage builds the dead letter for a message that failed at step, and counts it. The
// payload is cut to MaxPayload (at a character boundary when it is text, so the row keeps it
// as a string) and the error to MaxError. err must not carry payload contents or user ids:
// it is stored, published and may be logged.
func FromMessage(ctx context.Context, step, reason string, msg schemas.Message, err error) schemas.DeadLetter {
	counter(reason).Inc(ctx, 1)
	return schemas.DeadLetter{
		Step:        step,
		Reason:      reason,
		Error:       string(cut([]byte(err.Error()), MaxError)),
		Payload:     cut(msg.Data, MaxPayload),
		PayloadSize: int64(len(msg.Data)),
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

// cut returns at most the first n bytes of b; when b is valid UTF-8 the cut does not split a
// character, so the result stays valid text.
func cut(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	if utf8.Valid(b[:n]) || !utf8.Valid(b) {
		return b[:n:n]
	}
	for n > 0 && !utf8.RuneStart(b[n]) {
		n--
	}
	return b[:n:n]
}

func toRow(d schemas.DeadLetter) schemas.DeadLetterRow { return d.Row() }
