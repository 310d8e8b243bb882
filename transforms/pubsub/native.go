package pubsub

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/util/protox"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"google.golang.org/protobuf/proto"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// NativeReadURN is the runner-native Pub/Sub source, as Beam's pubsubio.Read emits it: an
// external transform that Dataflow replaces by its own Pub/Sub source and no other runner runs.
const NativeReadURN = "beam:transform:pubsub_read:v1"

func init() {
	register.DoFn3x0[context.Context, []byte, func(schemas.Message)](&nativeMessageFn{})
	register.Emitter1[schemas.Message]()
}

// NativeReadConfig configures ReadNative.
type NativeReadConfig struct {
	// Subscription is the full path, projects/<project>/subscriptions/<name>.
	Subscription string
	// TimestampAttribute names the attribute the runner takes each message's event time from
	// (as PubsubIO.withTimestampAttribute: RFC 3339 or epoch millis); empty: the publish time.
	TimestampAttribute string
	// IDAttribute names an attribute the runner deduplicates by, beside its own dedup by
	// message id; empty: message ids only.
	IDAttribute string
}

// Validate reports the first invalid field.
func (c NativeReadConfig) Validate() error {
	if !subscriptionPath.MatchString(c.Subscription) {
		return fmt.Errorf("pubsub.ReadNative: Subscription %q is not projects/<project>/subscriptions/<name>", c.Subscription)
	}
	return nil
}

// Payload is the PubSubReadPayload of the external transform: attributes on, so each element is
// a serialized google.pubsub.v1.PubsubMessage.
func (c NativeReadConfig) Payload() *pipepb.PubSubReadPayload {
	return &pipepb.PubSubReadPayload{Subscription: c.Subscription, TimestampAttribute: c.TimestampAttribute,
		IdAttribute: c.IDAttribute, WithAttributes: true}
}

// ReadNative reads a subscription with the runner's own Pub/Sub source (Dataflow's: its
// watermark from the subscription's backlog, its dedup by message id, its acks), built as the
// external transform Beam's pubsubio.Read emits (pubsubio does not compile against this
// module's genproto) and decoded with the pubsub/v2 types. Only Dataflow runs it. Timestamps
// are the runner's: an unparsable timestamp attribute is the runner's concern, so TimestampError
// and BehindWatermark are never set.
//
// ReadNative: () -> PCollection<schemas.Message>, unbounded.
func ReadNative(s beam.Scope, cfg NativeReadConfig) beam.PCollection {
	s = s.Scope("pubsub.ReadNative")
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	raw := beam.External(s, NativeReadURN, protox.MustEncode(cfg.Payload()), nil,
		[]beam.FullType{typex.New(reflect.TypeOf([]byte(nil)))}, false)
	return beam.ParDo(s, &nativeMessageFn{}, raw[0])
}

// nativeMessageFn decodes the runner's serialized PubsubMessage into a schemas.Message. Bytes
// that are not a PubsubMessage (the runner broke its contract) still go on, as the payload of a
// message decode will dead-letter, and are counted.
type nativeMessageFn struct {
	read        telemetry.Counter
	undecodable telemetry.Counter
}

func (fn *nativeMessageFn) Setup() {
	fn.read = telemetry.NewCounter("pubsub.out")
	fn.undecodable = telemetry.NewCounter("pubsub.native_undecodable")
}

func (fn *nativeMessageFn) ProcessElement(ctx context.Context, raw []byte, emit func(schemas.Message)) {
	fn.read.Inc(ctx, 1)
	m, err := decodeNative(raw)
	if err != nil {
		fn.undecodable.Inc(ctx, 1)
		emit(schemas.Message{Data: raw})
		return
	}
	emit(m)
}

// errNotMessage says the runner's element is not a serialized PubsubMessage.
var errNotMessage = errors.New("pubsub.ReadNative: element is not a serialized google.pubsub.v1.PubsubMessage")

// decodeNative decodes one element of the native source.
func decodeNative(raw []byte) (schemas.Message, error) {
	var pm pubsubpb.PubsubMessage
	if err := proto.Unmarshal(raw, &pm); err != nil {
		return schemas.Message{}, fmt.Errorf("%w: %v", errNotMessage, err)
	}
	return toMessage(&pm), nil
}
