package pubsub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn5x2[context.Context, *watermarkEstimator, *sdf.LockRTracker, []byte,
		func(beam.EventTime, schemas.Message), sdf.ProcessContinuation, error](&readFn{})
	register.Emitter2[beam.EventTime, schemas.Message]()
}

// Defaults for ReadConfig's tuning fields.
const (
	DefaultMaxRoundTime = 2 * time.Second
	DefaultAckExtension = time.Minute
	DefaultMaxLease     = time.Hour
	DefaultPullBatch    = 1000
	idlePoll            = 500 * time.Millisecond
	pullWait            = 5 * time.Second  // how long the first pull of a round waits for messages
	pullTimeout         = 30 * time.Second // a bound on any pull, far above its normal latency
	ackBatch            = 1000             // ids per Acknowledge/ModifyAckDeadline request, well under the 512 KB limit
)

// ReadConfig configures Read.
type ReadConfig struct {
	// Subscription is the full path, projects/<project>/subscriptions/<name>.
	Subscription string
	// Endpoint (host:port) targets an emulator or test server without TLS; empty uses Google's
	// endpoint or PUBSUB_EMULATOR_HOST.
	Endpoint string
	// TimestampAttribute names the attribute holding each message's event time (RFC 3339 or
	// epoch millis, as Beam Java reads them). Messages without it get their publish time; see
	// timestamper.timestamp for invalid ones.
	TimestampAttribute string
	// MaxTimestampSkew and MaxTimestampAge bound a valid attribute to [publish time − age,
	// publish time + skew] (defaults DefaultMaxTimestampSkew, DefaultMaxTimestampAge).
	MaxTimestampSkew time.Duration
	MaxTimestampAge  time.Duration
	// SamplePeriod is how long a round's oldest timestamp holds the watermark (default
	// DefaultSamplePeriod, as Beam Java; tests shorten it).
	SamplePeriod time.Duration
	// MaxOutOfOrderness holds the watermark back behind the oldest recent timestamp.
	MaxOutOfOrderness time.Duration
	// MaxMessages stops the source after this many messages (0: never).
	MaxMessages int64
	// IdleTimeout stops the source after this long without a message (0: never).
	IdleTimeout time.Duration
	// MaxRoundTime caps one ProcessElement call, so acks are not held back for long: Prism runs
	// the readers of a stage one after another and finalizes right after persisting a bundle.
	MaxRoundTime time.Duration
	// AckExtension is the ack deadline each renewal of a held message's lease sets; leases are
	// renewed half-way through it until the message is acked.
	AckExtension time.Duration
	// MaxLease bounds how long a message is held (its lease renewed) before it is left to expire
	// and be redelivered: a bundle that failed after the source handed its messages on gives no
	// signal to the source, and this is how long such messages can take to come back.
	MaxLease time.Duration
	// PullBatch is the most messages asked for per Pull.
	PullBatch int
}

func (c *ReadConfig) withDefaults() {
	if c.MaxRoundTime <= 0 {
		c.MaxRoundTime = DefaultMaxRoundTime
	}
	if c.AckExtension <= 0 {
		c.AckExtension = DefaultAckExtension
	}
	if c.PullBatch <= 0 {
		c.PullBatch = DefaultPullBatch
	}
	if c.MaxLease <= 0 {
		c.MaxLease = DefaultMaxLease
	}
	if c.MaxTimestampSkew <= 0 {
		c.MaxTimestampSkew = DefaultMaxTimestampSkew
	}
	if c.MaxTimestampAge <= 0 {
		c.MaxTimestampAge = DefaultMaxTimestampAge
	}
	if c.SamplePeriod <= 0 {
		c.SamplePeriod = DefaultSamplePeriod
	}
}

// Validate reports the first invalid field.
func (c ReadConfig) Validate() error {
	if !subscriptionPath.MatchString(c.Subscription) {
		return fmt.Errorf("pubsub.Read: subscription %q is not projects/<project>/subscriptions/<name>", c.Subscription)
	}
	switch {
	case c.MaxOutOfOrderness < 0:
		return errors.New("pubsub.Read: MaxOutOfOrderness must be >= 0")
	case c.MaxMessages < 0:
		return errors.New("pubsub.Read: MaxMessages must be >= 0")
	case c.IdleTimeout < 0:
		return errors.New("pubsub.Read: IdleTimeout must be >= 0")
	case c.MaxTimestampSkew < 0:
		return errors.New("pubsub.Read: MaxTimestampSkew must be >= 0")
	case c.MaxTimestampAge < 0:
		return errors.New("pubsub.Read: MaxTimestampAge must be >= 0")
	case c.AckExtension > 0 && c.AckExtension < 10*time.Second || c.AckExtension > 600*time.Second:
		return errors.New("pubsub.Read: AckExtension must be within [10s, 600s]")
	case c.MaxLease < 0:
		return errors.New("pubsub.Read: MaxLease must be >= 0")
	}
	return nil
}

// Read reads a subscription. It is unbounded unless MaxMessages or IdleTimeout stop it; then the
// watermark advances to the end so every window fires.
//
// Read: () -> PCollection<schemas.Message>, timestamped from cfg.TimestampAttribute (or the
// publish time), with the source's marks (TimestampError, BehindWatermark) on each message.
func Read(s beam.Scope, cfg ReadConfig) beam.PCollection {
	s = s.Scope("pubsub.Read")
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return beam.ParDo(s, &readFn{ReadConfig: cfg}, beam.Impulse(s))
}

// readFn carries its configuration as an embedded ReadConfig: Beam serializes a DoFn's
// exported fields, embedded ones included.
type readFn struct {
	ReadConfig

	client    *pubsub.Client
	leases    *leaseKeeper
	read      telemetry.Counter
	acked     telemetry.Counter
	ackErrors telemetry.Counter
	timestamper
}

func (fn *readFn) Setup(ctx context.Context) error {
	c, err := NewClient(ctx, fn.Subscription, fn.Endpoint)
	if err != nil {
		return err
	}
	fn.client = c
	if fn.leases, err = acquireLeaseKeeper(ctx, fn.Subscription, fn.Endpoint); err != nil {
		return err
	}
	fn.read = telemetry.NewCounter("pubsub.out")
	fn.acked = telemetry.NewCounter("pubsub.acked")
	fn.ackErrors = telemetry.NewCounter("pubsub.ack_errors")
	fn.timestamper = newTimestamper()
	return nil
}

func (fn *readFn) Teardown() error {
	if fn.leases != nil {
		if err := fn.leases.release(); err != nil {
			return err
		}
		fn.leases = nil
	}
	if fn.client == nil {
		return nil
	}
	return fn.client.Close()
}

func (fn *readFn) CreateInitialRestriction(_ []byte) Restriction {
	return Restriction{ID: newRoundID()}
}

func (fn *readFn) SplitRestriction(_ []byte, r Restriction) []Restriction { return []Restriction{r} }

func (fn *readFn) RestrictionSize(_ []byte, _ Restriction) float64 { return 1 }

func (fn *readFn) CreateTracker(r Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(newTracker(r))
}

// TruncateRestriction keeps only the acks owed when a runner drains the pipeline.
func (fn *readFn) TruncateRestriction(rt *sdf.LockRTracker, _ []byte) Restriction {
	r := rt.GetRestriction().(Restriction)
	return Restriction{PendingAcks: r.PendingAcks, Read: r.Read, Stopping: true}
}

func (fn *readFn) InitialWatermarkEstimatorState(_ beam.EventTime, _ Restriction, _ []byte) WatermarkState {
	return WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}
}

func (fn *readFn) CreateWatermarkEstimator(s WatermarkState) *watermarkEstimator {
	return &watermarkEstimator{state: s}
}

func (fn *readFn) WatermarkEstimatorState(e *watermarkEstimator) WatermarkState { return e.state }

// ProcessElement runs one round: acknowledge what the previous (committed) round read, pull and
// emit for up to MaxRoundTime, then checkpoint with this round's ack ids in the residual.
//
// A round that fails (an error, or a panic from a fused downstream step, which the SDK turns into
// a bundle failure) nacks what it pulled, so the runner's retry reads it again at once instead of
// after the leases run out.
func (fn *readFn) ProcessElement(ctx context.Context, we *watermarkEstimator, rt *sdf.LockRTracker, _ []byte,
	emit func(beam.EventTime, schemas.Message)) (sdf.ProcessContinuation, error) {
	var pulled []string
	failed := true
	defer func() {
		if failed {
			fn.leases.nack(pulled)
		}
	}()
	pc, err := fn.round(ctx, we, rt, emit, &pulled)
	failed = err != nil
	return pc, err
}

func (fn *readFn) round(ctx context.Context, we *watermarkEstimator, rt *sdf.LockRTracker,
	emit func(beam.EventTime, schemas.Message), pulled *[]string) (sdf.ProcessContinuation, error) {
	rest := trackerOf(rt).rest // fixed for the tracker's life
	start := time.Now()
	// Anything this restriction's round still holds is from an attempt whose bundle failed.
	fn.leases.nack(fn.leases.heldBy(rest.ID))
	fn.leases.drop(rest.PendingAcks)
	fn.acknowledge(ctx, rest.PendingAcks)
	if rest.Stopping || fn.MaxMessages > 0 && rest.Read >= fn.MaxMessages {
		endRound(rt, true, start)
		return sdf.StopProcessing(), nil
	}

	read := rest.Read
	stopping := false
	var r round
	for time.Since(start) < fn.MaxRoundTime && !rt.IsDone() {
		want := int64(fn.PullBatch)
		if fn.MaxMessages > 0 {
			want = min(want, fn.MaxMessages-read)
		}
		// Only the first pull of a round waits for messages; later ones return at once so the
		// round ends when the backlog is drained.
		pullStart := time.Now()
		msgs, err := fn.pull(ctx, int32(want), read == rest.Read)
		if err != nil {
			return sdf.StopProcessing(), err
		}
		if len(msgs) == 0 {
			break
		}
		ids := ackIDs(msgs)
		*pulled = append(*pulled, ids...)
		fn.leases.hold(ids, rest.ID, pullStart, fn.AckExtension, fn.MaxLease)
		for i, m := range msgs {
			if !rt.TryClaim(m.AckId) {
				// A runner split ended the round (its residual acks what was claimed): hand
				// the rest back for immediate redelivery.
				fn.leases.nack(ids[i:])
				return sdf.StopProcessing(), rt.GetError()
			}
			msg := toMessage(m.GetMessage())
			ts := fn.timestamp(ctx, fn.ReadConfig, we, &r, &msg)
			emit(beam.EventTime(ts.UnixMilli()), msg)
		}
		read += int64(len(msgs))
		fn.read.Inc(ctx, int64(len(msgs)))
		if fn.MaxMessages > 0 && read >= fn.MaxMessages {
			stopping = true
			break
		}
	}
	if fn.IdleTimeout > 0 && time.Since(lastMessage(rt, start)) >= fn.IdleTimeout {
		stopping = true
	}
	// The leases keep the claimed ids alive until the residual acks them.
	pending, finished := endRound(rt, stopping, start)
	we.observeRound(time.Now(), r, len(pending) > 0, fn.MaxOutOfOrderness, fn.SamplePeriod)
	if finished {
		return sdf.StopProcessing(), nil
	}
	if len(pending) == 0 {
		return sdf.ResumeProcessingIn(idlePoll), nil
	}
	return sdf.ResumeProcessingIn(0), nil
}

// pull asks for up to n messages. A pull is never cancelled early: a server may already have
// handed out messages that a cancelled call would lose until their ack deadline expires. A
// waiting pull (the emulator holds an empty one open almost to its deadline) is bounded by
// pullWait, after which an empty result is returned.
func (fn *readFn) pull(ctx context.Context, n int32, wait bool) ([]*pubsubpb.ReceivedMessage, error) {
	timeout := pullTimeout
	if wait {
		timeout = pullWait
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := fn.client.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{
		Subscription: fn.Subscription, MaxMessages: n, ReturnImmediately: !wait})
	if err != nil {
		if wait && (status.Code(err) == codes.DeadlineExceeded || errors.Is(err, context.DeadlineExceeded)) {
			return nil, nil
		}
		return nil, fmt.Errorf("pulling from %s: %w", fn.Subscription, err)
	}
	return resp.GetReceivedMessages(), nil
}

// acknowledge acks ids whose bundle is committed. A failed ack only means a redelivery, which
// dedup absorbs, so it is counted and logged rather than failing the pipeline.
func (fn *readFn) acknowledge(ctx context.Context, ids []string) {
	for chunk := range slices.Chunk(ids, ackBatch) {
		err := fn.client.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: fn.Subscription, AckIds: chunk})
		if err != nil {
			fn.ackErrors.Inc(ctx, int64(len(chunk)))
			log.Warnf(ctx, "acknowledging %d messages on %s (they will be redelivered): %v", len(chunk), fn.Subscription, err)
			continue
		}
		fn.acked.Inc(ctx, int64(len(chunk)))
	}
}

func toMessage(m *pubsubpb.PubsubMessage) schemas.Message {
	return schemas.Message{
		Data:        m.GetData(),
		Attributes:  m.GetAttributes(),
		PublishTime: m.GetPublishTime().AsTime(),
		MessageID:   m.GetMessageId(),
	}
}
