package deadletter

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn2x1[context.Context, schemas.DeadLetter, schemas.Message](&messageFn{})
}

// Attributes added to a dead letter published to a topic.
const (
	AttrStep        = "tributary_step"
	AttrReason      = "tributary_reason"
	AttrError       = "tributary_error"
	AttrTime        = "tributary_time"         // when the failure was recorded, RFC 3339
	AttrMessageID   = "tributary_message_id"   // the original message's id
	AttrPublishTime = "tributary_publish_time" // the original message's publish time, RFC 3339
	AttrDropped     = "tributary_attributes_dropped"
	// AttrPayloadSize is set, with the original payload's size in bytes, only when the payload
	// was cut to deadletter.MaxPayload (the archive holds it whole).
	AttrPayloadSize = "tributary_payload_size"
)

// Pub/Sub's limits on attributes (https://cloud.google.com/pubsub/quotas#resource_limits).
const (
	maxAttributes     = 100
	maxAttributeValue = 1024
)

// Messages turns dead letters into the Pub/Sub messages of a dead-letter topic (see Message),
// counting in deadletter_topic.attributes_dropped those whose original attributes did not all fit.
//
// Messages: PCollection<schemas.DeadLetter> -> PCollection<schemas.Message>
func Messages(s beam.Scope, dead beam.PCollection) beam.PCollection {
	s = s.Scope("deadletter.Messages")
	return beam.ParDo(s, &messageFn{}, dead)
}

type messageFn struct{ dropped telemetry.Counter }

func (fn *messageFn) Setup() {
	fn.dropped = telemetry.NewCounter("deadletter_topic.attributes_dropped")
}

func (fn *messageFn) ProcessElement(ctx context.Context, d schemas.DeadLetter) schemas.Message {
	m, dropped := Message(d)
	if dropped > 0 {
		fn.dropped.Inc(ctx, 1)
	}
	return m
}

// Message is the Pub/Sub message for a dead letter: its payload and original
// attributes plus the tributary_ attributes. Pub/Sub allows 100 attributes; when the original
// ones leave no room, the last (by name) are left out and dropped says how many.
func Message(d schemas.DeadLetter) (msg schemas.Message, dropped int) {
	extra := map[string]string{
		AttrStep:   d.Step,
		AttrReason: d.Reason,
		AttrError:  truncateUTF8(d.Error, maxAttributeValue),
	}
	if !d.Time.IsZero() {
		extra[AttrTime] = d.Time.UTC().Format(time.RFC3339Nano)
	}
	if d.MessageID != "" {
		extra[AttrMessageID] = d.MessageID
	}
	if !d.PublishTime.IsZero() {
		extra[AttrPublishTime] = d.PublishTime.UTC().Format(time.RFC3339Nano)
	}
	if d.PayloadSize > int64(len(d.Payload)) {
		extra[AttrPayloadSize] = strconv.FormatInt(d.PayloadSize, 10)
	}
	attrs := make(map[string]string, len(d.Attributes)+len(extra))
	keys := make([]string, 0, len(d.Attributes))
	for k := range d.Attributes {
		if _, ours := extra[k]; !ours {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	room := maxAttributes - len(extra)
	if len(keys) > room {
		room-- // for the marker
		dropped = len(keys) - room
		keys = keys[:room]
		extra[AttrDropped] = strconv.Itoa(dropped)
	}
	for _, k := range keys {
		attrs[k] = d.Attributes[k]
	}
	for k, v := range extra {
		attrs[k] = v
	}
	return schemas.Message{Data: d.Payload, Attributes: attrs, MessageID: d.MessageID, PublishTime: d.PublishTime}, dropped
}

// truncateUTF8 makes s valid UTF-8 (attribute values are proto strings) of at most n bytes,
// without splitting a character.
func truncateUTF8(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
