package pubsub

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
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
	pullWait            = 5 * time.Second        // how long the first pull of a round waits for messages
	pullTimeout         = 30 * time.Second       // a bound on any pull, far above its normal latency
	ackBatch            = 1000                   // ids per Acknowledge/ModifyAckDeadline request, well under the 512 KB limit
	archivePoll         = 200 * time.Millisecond // between empty pulls of an archiving round that read something
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
	// NumReaders is how many independent readers pull the subscription (default 1), each with
	// its own restriction, acks and watermark estimate; the source's watermark is their minimum
	// (readers.go). More than one needs MaxMessages 0: Pub/Sub spreads messages unevenly, so a
	// quota per reader could wait for messages another reader holds.
	NumReaders int
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
	// Archive, when its Directory is set, makes the source a write-ahead log: every round's
	// messages are written to the archive (one file per publish-time hour) before any of their
	// ack ids is handed on, and a round that read something lasts MaxRoundTime, so a reader
	// writes at most 60s/MaxRoundTime files per hour partition per minute. See ack.go.
	Archive files.WALConfig
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
	if c.NumReaders == 0 {
		c.NumReaders = 1
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
	case c.NumReaders < 0 || c.NumReaders > MaxReaders:
		return fmt.Errorf("pubsub.Read: NumReaders must be within [1, %d]", MaxReaders)
	case c.NumReaders > 1 && c.MaxMessages > 0:
		return errors.New("pubsub.Read: MaxMessages needs NumReaders = 1: Pub/Sub spreads messages unevenly over readers, so a quota per reader can wait forever; stop with IdleTimeout instead")
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
	case c.MaxRoundTime < 0:
		return errors.New("pubsub.Read: MaxRoundTime must be >= 0")
	}
	if err := c.Archive.Validate(); err != nil {
		return fmt.Errorf("pubsub.Read: Archive: %w", err)
	}
	return nil
}

// Read reads a subscription with cfg.NumReaders readers (readers.go). It is unbounded unless
// MaxMessages or IdleTimeout stop it (IdleTimeout stops each reader on its own); then the
// watermark advances to the end so every window fires. With cfg.Archive set it archives every
// message before acknowledging it (ack.go).
//
// Read: () -> PCollection<schemas.Message>, timestamped from cfg.TimestampAttribute (or the
// publish time), with the source's marks (TimestampError, BehindWatermark) on each message.
func Read(s beam.Scope, cfg ReadConfig) beam.PCollection {
	s = s.Scope("pubsub.Read")
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	fn := &readFn{ReadConfig: cfg, Group: newRoundID()}
	start := beam.Impulse(s)
	if cfg.NumReaders > 1 {
		// One element per reader; the Reshuffle lets a runner spread them over its workers.
		start = beam.Reshuffle(s, beam.ParDo(s, &readerKeysFn{N: cfg.NumReaders}, start))
	}
	return beam.ParDo(s, fn, start)
}

// readFn carries its configuration as an embedded ReadConfig: Beam serializes a DoFn's
// exported fields, embedded ones included.
type readFn struct {
	ReadConfig
	// Group names this Read's readers in a process (readers.go), fresh for each Read.
	Group uint64

	group     *readerGroup // nil with one reader
	client    *pubsub.Client
	leases    *leaseKeeper
	wal       *files.WAL // nil without ReadConfig.Archive
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
	if fn.NumReaders > 1 {
		fn.group = groupOf(fn.Group)
	}
	if fn.Archive.Enabled() {
		if fn.wal, err = files.OpenWAL(ctx, fn.Archive); err != nil {
			return err
		}
	}
	return nil
}

func (fn *readFn) Teardown() error {
	if fn.wal != nil {
		if err := fn.wal.Close(); err != nil {
			return err
		}
		fn.wal = nil
	}
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

func (fn *readFn) CreateInitialRestriction(elem []byte) Restriction {
	return Restriction{ID: newRoundID(), Reader: readerOf(elem)}
}

func (fn *readFn) SplitRestriction(_ []byte, r Restriction) []Restriction { return []Restriction{r} }

// RestrictionSize is the work a residual stands for, for a runner weighing its restrictions:
// the messages its round is expected to read (expectedRound), plus the acks it owes.
func (fn *readFn) RestrictionSize(_ []byte, r Restriction) float64 {
	return expectedRound(r) + float64(len(r.PendingAcks))
}

func (fn *readFn) CreateTracker(r Restriction) *sdf.LockRTracker {
	return sdf.NewLockRTracker(newTracker(r))
}

// TruncateRestriction keeps only the acks owed when a runner drains the pipeline.
func (fn *readFn) TruncateRestriction(rt *sdf.LockRTracker, _ []byte) Restriction {
	r := rt.GetRestriction().(Restriction)
	return Restriction{PendingAcks: r.PendingAcks, Read: r.Read, Stopping: true, Reader: r.Reader}
}

func (fn *readFn) InitialWatermarkEstimatorState(_ beam.EventTime, _ Restriction, _ []byte) WatermarkState {
	return WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}
}

func (fn *readFn) CreateWatermarkEstimator(s WatermarkState) *watermarkEstimator {
	return &watermarkEstimator{state: s}
}

func (fn *readFn) WatermarkEstimatorState(e *watermarkEstimator) WatermarkState { return e.state }

// ProcessElement runs one round: settle the previous (committed) round's acks, pull for up to
// MaxRoundTime, archive what was pulled (the write-ahead log, when ReadConfig.Archive is set),
// claim and emit it, then checkpoint with this round's ack ids in the residual. See ack.go for
// why the acks travel in the residual and why the archive comes before the claims.
//
// A round that fails (an error, a failed archive write, or a panic from a fused downstream step,
// which the SDK turns into a bundle failure) nacks what it pulled, so the runner's retry reads it
// again at once instead of after the leases run out.
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
	if err == nil && !pc.ShouldResume() && fn.group != nil && finalRound(rt) {
		fn.group.leave(trackerOf(rt).rest.Reader) // finished: it holds the others back no more
	}
	return pc, err
}

// round is ProcessElement's body; pulled collects every ack id it pulled, for the nack on failure.
func (fn *readFn) round(ctx context.Context, we *watermarkEstimator, rt *sdf.LockRTracker,
	emit func(beam.EventTime, schemas.Message), pulled *[]string) (sdf.ProcessContinuation, error) {
	rest := trackerOf(rt).rest // fixed for the tracker's life
	start := time.Now()
	if fn.group != nil {
		we.join(fn.group, rest.Reader, start)
	}
	fn.settle(ctx, rest)
	if rest.Stopping || fn.MaxMessages > 0 && rest.Read >= fn.MaxMessages {
		endRound(rt, true, start)
		return sdf.StopProcessing(), nil
	}
	b, err := fn.pullRound(ctx, we, rt, rest, start, pulled)
	if err != nil {
		return sdf.StopProcessing(), err
	}
	if err := fn.archive(ctx, rt, b); err != nil {
		return sdf.StopProcessing(), err
	}
	if err := fn.claimAndEmit(ctx, rt, b, emit); err != nil || rt.IsDone() {
		return sdf.StopProcessing(), err
	}
	return fn.checkpoint(we, rt, b, start), nil
}

// batch is what one round pulled: the messages with their element timestamps and the source's
// marks set, their ack ids, and the round's timestamp bookkeeping for the watermark.
type batch struct {
	ids      []string
	msgs     []schemas.Message
	times    []time.Time
	stamps   round
	stopping bool // MaxMessages reached
}

// pullRound pulls until MaxRoundTime has passed, the backlog is drained or MaxMessages is
// reached, and holds the leases of what it pulled. With the archive on, a round that read
// something keeps pulling until MaxRoundTime, so the archive gets at most one file per hour and
// round (the bound on its file count); without it, a drained backlog ends the round early.
func (fn *readFn) pullRound(ctx context.Context, we *watermarkEstimator, rt *sdf.LockRTracker, rest Restriction,
	start time.Time, pulled *[]string) (*batch, error) {
	b := &batch{}
	read := rest.Read
	for time.Since(start) < fn.MaxRoundTime && !rt.IsDone() {
		want := int64(fn.PullBatch)
		if fn.MaxMessages > 0 {
			want = min(want, fn.MaxMessages-read)
		}
		// Only the first pull of a round waits for messages; later ones return at once.
		pullStart := time.Now()
		msgs, err := fn.pull(ctx, int32(want), read == rest.Read)
		if err != nil {
			return nil, err
		}
		if len(msgs) == 0 {
			if read == rest.Read || !fn.Archive.Enabled() {
				break
			}
			time.Sleep(min(archivePoll, fn.MaxRoundTime-time.Since(start)))
			continue
		}
		ids := ackIDs(msgs)
		*pulled = append(*pulled, ids...)
		fn.leases.hold(ids, rest.ID, pullStart, fn.AckExtension, fn.MaxLease)
		b.ids = append(b.ids, ids...)
		for _, m := range msgs {
			msg := toMessage(m.GetMessage())
			b.times = append(b.times, fn.timestamp(ctx, fn.ReadConfig, we, &b.stamps, &msg))
			b.msgs = append(b.msgs, msg)
		}
		read += int64(len(msgs))
		fn.read.Inc(ctx, int64(len(msgs)))
		if fn.MaxMessages > 0 && read >= fn.MaxMessages {
			b.stopping = true
			break
		}
	}
	return b, nil
}

// archive writes the round's messages to the write-ahead log before any of their ack ids is
// claimed, that is before any can reach a residual (the only way to an ack). A failed write fails
// the round: nothing of it was claimed, so nothing of it is ever acked.
func (fn *readFn) archive(ctx context.Context, rt *sdf.LockRTracker, b *batch) error {
	if fn.wal == nil || len(b.msgs) == 0 || rt.IsDone() {
		return nil
	}
	if err := fn.wal.Write(ctx, b.msgs); err != nil {
		return fmt.Errorf("pubsub.Read: the archive refused the round, nothing is acked: %w", err)
	}
	return nil
}

// claimAndEmit claims each message's ack id and emits it. A runner split that ended the round
// first (its residual acks what was claimed, all of it archived) makes the rest go back for
// immediate redelivery.
func (fn *readFn) claimAndEmit(_ context.Context, rt *sdf.LockRTracker, b *batch, emit func(beam.EventTime, schemas.Message)) error {
	for i, id := range b.ids {
		if !rt.TryClaim(id) {
			fn.leases.nack(b.ids[i:])
			return rt.GetError()
		}
		emit(beam.EventTime(b.times[i].UnixMilli()), b.msgs[i])
	}
	return nil
}

// checkpoint ends the round: the residual takes the claimed ids (their leases keep them alive
// until it acks them), the watermark observes the round, and the next round starts at once when
// this one read something, after idlePoll otherwise.
func (fn *readFn) checkpoint(we *watermarkEstimator, rt *sdf.LockRTracker, b *batch, start time.Time) sdf.ProcessContinuation {
	stopping := b.stopping || fn.IdleTimeout > 0 && time.Since(lastMessage(rt, start)) >= fn.IdleTimeout
	pending, finished := endRound(rt, stopping, start)
	we.observeRound(time.Now(), b.stamps, len(pending) > 0, fn.MaxOutOfOrderness, fn.SamplePeriod)
	switch {
	case finished:
		return sdf.StopProcessing()
	case len(pending) == 0:
		return sdf.ResumeProcessingIn(idlePoll)
	default:
		return sdf.ResumeProcessingIn(0)
	}
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

func toMessage(m *pubsubpb.PubsubMessage) schemas.Message {
	return schemas.Message{
		Data:        m.GetData(),
		Attributes:  m.GetAttributes(),
		PublishTime: m.GetPublishTime().AsTime(),
		MessageID:   m.GetMessageId(),
	}
}
