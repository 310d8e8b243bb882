package bigquery

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/pubsub/v2"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	tpubsub "github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn2x1[context.Context, schemas.DeadLetter, error](&publishFn{})
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

// Pub/Sub limits on attributes (https://cloud.google.com/pubsub/quotas#resource_limits).
const (
	maxAttributes     = 100
	maxAttributeValue = 1024
	// maxPendingPublishes bounds the publish results a worker awaits at once.
	maxPendingPublishes = 1000
)

var topicPath = regexp.MustCompile(`^projects/[^/]+/topics/[^/]+$`)

// DeadLetterTopicConfig configures PublishDeadLetters.
type DeadLetterTopicConfig struct {
	// Topic is the full path, projects/<project>/topics/<name>.
	Topic string
	// Endpoint (host:port) targets an emulator or test server without TLS; empty uses Google's
	// endpoint, or PUBSUB_EMULATOR_HOST when that is set.
	Endpoint string
}

// Validate checks the topic path.
func (c DeadLetterTopicConfig) Validate() error {
	if !topicPath.MatchString(c.Topic) {
		return fmt.Errorf("bigquery.PublishDeadLetters: topic %q is not projects/<project>/topics/<name>", c.Topic)
	}
	return nil
}

// PublishDeadLetters publishes every dead letter to a Pub/Sub topic, where a subscription's
// backlog shows failures within minutes. Each message is the original payload with the original
// attributes, plus tributary_step, tributary_reason, tributary_error (truncated to Pub/Sub's
// 1024-byte attribute limit), tributary_time and, when known, tributary_message_id and
// tributary_publish_time. A bundle finishes only once every message is acknowledged by
// Pub/Sub; a publish that fails fails the bundle, so the runner retries it and the dead
// letters are redelivered rather than lost. An invalid cfg panics.
//
// PublishDeadLetters: PCollection<schemas.DeadLetter> -> ()
func PublishDeadLetters(s beam.Scope, dead beam.PCollection, cfg DeadLetterTopicConfig) {
	s = s.Scope("bigquery.PublishDeadLetters")
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	beam.ParDo0(s, &publishFn{DeadLetterTopicConfig: cfg}, dead)
}

type publishFn struct {
	DeadLetterTopicConfig

	client    *pubsub.Client
	publisher *pubsub.Publisher
	pending   []*pubsub.PublishResult

	published, truncated telemetry.Counter
}

func (fn *publishFn) Setup(context.Context) error {
	// The client keeps its context for its connections: not the Setup call's.
	c, err := tpubsub.NewClient(context.Background(), fn.Topic, fn.Endpoint)
	if err != nil {
		return fmt.Errorf("bigquery.PublishDeadLetters: %w", err)
	}
	fn.client = c
	fn.publisher = c.Publisher(fn.Topic)
	fn.published = telemetry.NewCounter("deadletter_topic.out")
	fn.truncated = telemetry.NewCounter("deadletter_topic.attributes_dropped")
	return nil
}

func (fn *publishFn) StartBundle(context.Context) { fn.pending = nil }

func (fn *publishFn) ProcessElement(ctx context.Context, d schemas.DeadLetter) error {
	msg, dropped := DeadLetterMessage(d)
	if dropped > 0 {
		fn.truncated.Inc(ctx, 1)
	}
	fn.pending = append(fn.pending, fn.publisher.Publish(ctx, msg))
	if len(fn.pending) >= maxPendingPublishes {
		return fn.await(ctx)
	}
	return nil
}

func (fn *publishFn) FinishBundle(ctx context.Context) error { return fn.await(ctx) }

// await waits for every pending publish; the first failure fails the bundle.
func (fn *publishFn) await(ctx context.Context) error {
	pending := fn.pending
	fn.pending = nil
	for i, res := range pending {
		if _, err := res.Get(ctx); err != nil {
			return fmt.Errorf("bigquery.PublishDeadLetters: publishing to %s (%d of %d in this batch not confirmed): %w",
				fn.Topic, len(pending)-i, len(pending), err)
		}
	}
	fn.published.Inc(ctx, int64(len(pending)))
	return nil
}

func (fn *publishFn) Teardown() error {
	if fn.publisher != nil {
		fn.publisher.Stop()
	}
	if fn.client != nil {
		return fn.client.Close()
	}
	return nil
}

// DeadLetterMessage is the Pub/Sub message for a dead letter: its payload and original
// attributes plus the tributary_ attributes. Pub/Sub allows 100 attributes; when the original
// ones leave no room, the last (by name) are left out and dropped says how many.
func DeadLetterMessage(d schemas.DeadLetter) (msg *pubsub.Message, dropped int) {
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
	return &pubsub.Message{Data: d.Payload, Attributes: attrs}, dropped
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
