package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x1[context.Context, schemas.Message, func(schemas.DeadLetter), error](&writeFn{})
	register.Emitter1[schemas.DeadLetter]()
}

// Pub/Sub's limits on a published message (https://cloud.google.com/pubsub/quotas#resource_limits).
// A message over them is refused with INVALID_ARGUMENT however often it is retried.
const (
	MaxAttributes        = 100
	MaxAttributeKeyBytes = 256
	MaxAttributeBytes    = 1024
	// MaxMessageBytes bounds a message's encoded size (data plus attributes) as the client
	// library's bundler does: a publish request holds at most pubsub.MaxPublishRequestBytes.
	MaxMessageBytes = pubsub.MaxPublishRequestBytes
)

// DefaultMaxInFlight is WriteConfig.MaxInFlight's default.
const DefaultMaxInFlight = 1000

// WriteStep is the step name of the dead letters Write emits for refused messages.
const WriteStep = "pubsub.Write"

// ReasonPublishRefused is the dead-letter reason of a message Pub/Sub refuses permanently.
const ReasonPublishRefused = "publish_refused"

// WriteConfig configures Write.
type WriteConfig struct {
	// Endpoint (host:port) targets an emulator or test server without TLS; empty uses Google's
	// endpoint, or PUBSUB_EMULATOR_HOST when that is set.
	Endpoint string
	// MaxInFlight bounds the publishes one worker awaits at once (default 1000), so memory stays
	// bounded however large a bundle is.
	MaxInFlight int
	// PublishTimeout bounds how long the client retries one publish before the bundle fails
	// (default: the client library's, 60s).
	PublishTimeout time.Duration
	// Metrics prefixes the counters <Metrics>.out (published) and <Metrics>.refused (default
	// "pubsub_write").
	Metrics string
}

// Validate reports the first invalid field.
func (c WriteConfig) Validate() error {
	if c.MaxInFlight < 0 {
		return errors.New("pubsub.Write: MaxInFlight must be >= 0")
	}
	if c.PublishTimeout < 0 {
		return errors.New("pubsub.Write: PublishTimeout must be >= 0")
	}
	return nil
}

// ValidateTopic reports whether path is a full topic path, projects/<project>/topics/<name>.
func ValidateTopic(path string) error {
	if !topicPath.MatchString(path) {
		return fmt.Errorf("topic %q is not projects/<project>/topics/<name>", path)
	}
	return nil
}

// Write publishes each message's data and attributes to topic (its other fields are set by
// Pub/Sub). A bundle finishes only once Pub/Sub has confirmed every message of it, so delivery
// is at least once. Refusals are split: a transient error (unavailable, deadline, quota) fails
// the bundle so that the runner retries its input; a permanent refusal (INVALID_ARGUMENT: too
// large, too many or too long attributes, neither data nor attributes), checked before publishing
// where it can be, is never retried but returned as a dead letter with the original bytes, step
// WriteStep and reason ReasonPublishRefused. Dead letters are in the global window. An invalid
// topic or cfg panics.
//
// Write: PCollection<schemas.Message> -> PCollection<schemas.DeadLetter>
func Write(s beam.Scope, topic string, msgs beam.PCollection, cfg WriteConfig) beam.PCollection {
	s = s.Scope("pubsub.Write")
	if err := ValidateTopic(topic); err != nil {
		panic(fmt.Errorf("pubsub.Write: %w", err))
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if cfg.MaxInFlight == 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Metrics == "" {
		cfg.Metrics = "pubsub_write"
	}
	refused := beam.ParDo(s, &writeFn{Topic: topic, WriteConfig: cfg}, msgs)
	// Refusals seen after publishing are emitted in FinishBundle, which has no window.
	return beam.WindowInto(s, window.NewGlobalWindows(), refused)
}

type writeFn struct {
	Topic string
	WriteConfig

	client    *pubsub.Client
	publisher *pubsub.Publisher
	pending   []pendingPublish

	published, refused telemetry.Counter
}

type pendingPublish struct {
	msg schemas.Message
	res *pubsub.PublishResult
}

func (fn *writeFn) Setup(context.Context) error {
	// The client keeps its context for its connections, so it must outlive the Setup call's.
	c, err := NewClient(context.Background(), fn.Topic, fn.Endpoint)
	if err != nil {
		return fmt.Errorf("pubsub.Write: %w", err)
	}
	fn.client = c
	fn.publisher = c.Publisher(fn.Topic)
	if fn.PublishTimeout > 0 {
		fn.publisher.PublishSettings.Timeout = fn.PublishTimeout
	}
	fn.published = telemetry.NewCounter(fn.Metrics + ".out")
	fn.refused = telemetry.NewCounter(fn.Metrics + ".refused")
	return nil
}

// StartBundle declares the emitter because FinishBundle emits (a Beam requirement).
func (fn *writeFn) StartBundle(_ context.Context, _ func(schemas.DeadLetter)) {
	fn.pending = fn.pending[:0]
}

func (fn *writeFn) ProcessElement(ctx context.Context, m schemas.Message, emit func(schemas.DeadLetter)) error {
	if err := CheckPublishable(fn.Topic, m); err != nil {
		fn.refuse(ctx, m, err, emit)
		return nil
	}
	if len(fn.pending) >= fn.MaxInFlight {
		if err := fn.await(ctx, emit); err != nil {
			return err
		}
	}
	res := fn.publisher.Publish(ctx, &pubsub.Message{Data: m.Data, Attributes: m.Attributes})
	fn.pending = append(fn.pending, pendingPublish{msg: m, res: res})
	return nil
}

func (fn *writeFn) FinishBundle(ctx context.Context, emit func(schemas.DeadLetter)) error {
	return fn.await(ctx, emit)
}

// await waits for every pending publish. A permanent refusal becomes a dead letter; any other
// failure fails the bundle, naming the message id and the topic (never the payload).
func (fn *writeFn) await(ctx context.Context, emit func(schemas.DeadLetter)) error {
	pending := fn.pending
	fn.pending = fn.pending[:0]
	var failed error
	ok := 0
	for _, p := range pending {
		_, err := p.res.Get(ctx)
		switch {
		case err == nil:
			ok++
		case permanent(err):
			fn.refuse(ctx, p.msg, err, emit)
		case failed == nil:
			failed = fmt.Errorf("pubsub.Write: publishing to %s (message %q): %w", fn.Topic, p.msg.MessageID, err)
		}
	}
	fn.published.Inc(ctx, int64(ok))
	return failed
}

func (fn *writeFn) refuse(ctx context.Context, m schemas.Message, err error, emit func(schemas.DeadLetter)) {
	fn.refused.Inc(ctx, 1)
	emit(deadletter.FromMessage(ctx, WriteStep, ReasonPublishRefused, m, fmt.Errorf("publishing to %s: %w", fn.Topic, err)))
}

func (fn *writeFn) Teardown() error {
	if fn.publisher != nil {
		fn.publisher.Stop()
	}
	if fn.client != nil {
		return fn.client.Close()
	}
	return nil
}

// permanent reports a refusal that a retry cannot change.
func permanent(err error) bool {
	return errors.Is(err, pubsub.ErrOversizedMessage) || status.Code(err) == codes.InvalidArgument
}

// CheckPublishable reports why Pub/Sub would refuse m on topic, or nil. The error names the
// limit, never the content.
func CheckPublishable(topic string, m schemas.Message) error {
	if len(m.Data) == 0 && len(m.Attributes) == 0 {
		return errors.New("a message needs data or at least one attribute")
	}
	if len(m.Attributes) > MaxAttributes {
		return fmt.Errorf("%d attributes, more than Pub/Sub's %d", len(m.Attributes), MaxAttributes)
	}
	for k, v := range m.Attributes {
		switch {
		case k == "":
			return errors.New("an attribute key is empty")
		case len(k) > MaxAttributeKeyBytes:
			return fmt.Errorf("an attribute key of %d bytes, more than Pub/Sub's %d", len(k), MaxAttributeKeyBytes)
		case len(v) > MaxAttributeBytes:
			return fmt.Errorf("attribute %.64q has %d bytes, more than Pub/Sub's %d", k, len(v), MaxAttributeBytes)
		case !utf8.ValidString(k) || !utf8.ValidString(v):
			return fmt.Errorf("attribute %.64q is not valid UTF-8", k)
		}
	}
	// As the client's bundler measures it: the message within a request naming the topic.
	size := proto.Size(&pubsubpb.PubsubMessage{Data: m.Data, Attributes: m.Attributes}) + len(topic) + 5
	if size > MaxMessageBytes {
		return fmt.Errorf("a message of %d bytes, more than Pub/Sub's %d", size, int(MaxMessageBytes))
	}
	return nil
}
