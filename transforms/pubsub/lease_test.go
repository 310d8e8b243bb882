package pubsub

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.DoFn2x0[context.Context, schemas.Message](&slowStepFn{})
	register.Function1x1(messageData)
}

func TestLeaseKeeperRenewsUntilTheLimit(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	k := &leaseKeeper{leases: map[string]lease{}, running: true}
	k.leases["a"] = lease{renewAt: t0.Add(minAckDeadline / 2), until: t0.Add(time.Minute), extension: 20 * time.Second}
	k.leases["b"] = lease{renewAt: t0.Add(minAckDeadline / 2), until: t0.Add(time.Minute), extension: 20 * time.Second}
	type step struct {
		at      time.Duration
		drop    string
		renewed []string
		expired int
		more    bool
	}
	for _, s := range []step{
		{at: 4 * time.Second, more: true},                              // within the pull's own deadline
		{at: 5 * time.Second, renewed: []string{"a", "b"}, more: true}, // half-way through Pub/Sub's minimum
		{at: 14 * time.Second, more: true},                             // next at 5s + 20s/2
		{at: 15 * time.Second, drop: "b", renewed: []string{"a"}, more: true},
		{at: 55 * time.Second, renewed: []string{"a"}, more: true},
		{at: 60 * time.Second, expired: 1, more: false}, // the limit: left to expire
	} {
		if s.drop != "" {
			k.drop([]string{s.drop})
		}
		k.now = func() time.Time { return t0.Add(s.at) }
		due, expired, more := k.due()
		got := due[20*time.Second]
		sort.Strings(got)
		if !cmp.Equal(got, s.renewed) || expired != s.expired || more != s.more {
			t.Errorf("at %v: renewed %v, expired %d, more %v; want %v, %d, %v", s.at, got, expired, more, s.renewed, s.expired, s.more)
		}
	}
	if k.running {
		t.Error("the keeper still marks its loop running with nothing held")
	}
}

// TestFailedRoundsReleaseTheirMessages: messages of a bundle that fails come back at once, not
// after their leases run out: a failure inside the round (a fused downstream step panicking
// through emit) nacks them on the way out, and a retry of the same restriction nacks what a
// failed attempt still held (a failure after ProcessElement returned, e.g. in a sink's
// FinishBundle).
func TestFailedRoundsReleaseTheirMessages(t *testing.T) {
	for _, panicInEmit := range []bool{true, false} {
		t.Run(fmt.Sprintf("panic in emit %v", panicInEmit), func(t *testing.T) {
			srv, topic, sub := newTestSubscription(t, 600)
			for i := range 5 {
				srv.Publish(topic, fmt.Appendf(nil, "m%d", i), nil)
			}
			fn := &readFn{ReadConfig: ReadConfig{Subscription: sub, Endpoint: srv.Addr, MaxMessages: 5, MaxRoundTime: time.Second}}
			fn.withDefaults()
			if err := fn.Setup(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer fn.Teardown()
			ctx := context.Background()
			we := fn.CreateWatermarkEstimator(fn.InitialWatermarkEstimatorState(0, Restriction{}, nil))
			rest := fn.CreateInitialRestriction(nil)

			attempt := func(emit func(beam.EventTime, schemas.Message)) (panicked bool) {
				defer func() { panicked = recover() != nil }()
				if _, err := fn.ProcessElement(ctx, we, fn.CreateTracker(rest), nil, emit); err != nil {
					t.Fatal(err)
				}
				return false
			}
			var first []string
			failing := func(_ beam.EventTime, m schemas.Message) {
				first = append(first, string(m.Data))
				if panicInEmit && len(first) == 3 {
					panic("downstream step failed")
				}
			}
			if got := attempt(failing); got != panicInEmit {
				t.Fatalf("first attempt panicked: %v, want %v", got, panicInEmit)
			}
			// The runner retries the same restriction; with the subscription's 600 s deadline,
			// the messages are only there again if the failed attempt gave them back.
			var retried []string
			attempt(func(_ beam.EventTime, m schemas.Message) { retried = append(retried, string(m.Data)) })
			sort.Strings(retried)
			if want := []string{"m0", "m1", "m2", "m3", "m4"}; !cmp.Equal(retried, want) {
				t.Errorf("retry read %v, want %v", retried, want)
			}
		})
	}
}

// slowStepFn blocks once, for Block, in ProcessElement or in FinishBundle of the bundle fused
// with the source, so the source's messages are held all that time.
type slowStepFn struct {
	Key          string
	Block        time.Duration
	InFinish     bool
	blockPending bool
}

// slowSteps maps a test's Key to its *slowStep, shared by every copy of the DoFn in the process.
var slowSteps sync.Map

type slowStep struct {
	once             sync.Once
	started, stopped chan struct{}
}

func newSlowStep(key string) *slowStep {
	s := &slowStep{started: make(chan struct{}), stopped: make(chan struct{})}
	slowSteps.Store(key, s)
	return s
}

func (fn *slowStepFn) ProcessElement(_ context.Context, _ schemas.Message) {
	if fn.InFinish {
		fn.blockPending = true
		return
	}
	fn.blockOnce()
}

func (fn *slowStepFn) FinishBundle(_ context.Context) {
	if fn.blockPending {
		fn.blockPending = false
		fn.blockOnce()
	}
}

func (fn *slowStepFn) blockOnce() {
	v, _ := slowSteps.Load(fn.Key)
	s := v.(*slowStep)
	s.once.Do(func() {
		close(s.started)
		time.Sleep(fn.Block)
		close(s.stopped)
	})
}

// probe pulls sub while the slow step blocks and returns how many messages it received: each one
// is a message whose lease ran out while the source still held it. It hands them back (nacks) so
// the source can finish.
func probe(t *testing.T, addr, sub string, s *slowStep) int {
	t.Helper()
	ctx := context.Background()
	c, err := NewClient(ctx, sub, addr)
	if err != nil {
		t.Error(err)
		return 0
	}
	defer c.Close()
	select {
	case <-s.started:
	case <-time.After(5 * time.Minute):
		t.Error("the slow step never ran")
		return 0
	}
	received := 0
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.stopped:
			return received
		case <-tick.C:
		}
		resp, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 100, ReturnImmediately: true})
		if err != nil || len(resp.GetReceivedMessages()) == 0 {
			continue
		}
		ids := ackIDs(resp.GetReceivedMessages())
		received += len(ids)
		_ = c.SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{Subscription: sub, AckIds: ids, AckDeadlineSeconds: 0})
	}
}

// TestSlowBundleKeepsItsLeases: a step fused with the source blocks for more than three ack
// deadlines (10 s, Pub/Sub's minimum) while the source holds the messages it read; none is
// redelivered, and each is acked once.
func TestSlowBundleKeepsItsLeases(t *testing.T) {
	const n, block = 40, 32 * time.Second
	for _, inFinish := range []bool{false, true} {
		name := "blocks in ProcessElement"
		if inFinish {
			name = "blocks in FinishBundle"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv, topic, sub := newTestSubscription(t, 10)
			var want []any
			for i := range n {
				srv.Publish(topic, fmt.Appendf(nil, "m%02d", i), nil)
				want = append(want, fmt.Sprintf("m%02d", i))
			}
			key := t.Name()
			step := newSlowStep(key)
			redelivered := make(chan int, 1)
			go func() { redelivered <- probe(t, srv.Addr, sub, step) }()

			p, s := beam.NewPipelineWithRoot()
			msgs := Read(s, ReadConfig{Subscription: sub, Endpoint: srv.Addr, MaxMessages: n, AckExtension: 10 * time.Second})
			beam.ParDo0(s, &slowStepFn{Key: key, Block: block, InFinish: inFinish}, msgs)
			passert.Equals(s, beam.ParDo(s, messageData, msgs), want...)
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			if got := <-redelivered; got != 0 {
				t.Errorf("%d messages were redelivered while the bundle was blocked: their leases ran out", got)
			}
			for _, m := range srv.Messages() {
				if m.Acks != 1 {
					t.Errorf("message %s acked %d times, want 1", m.Data, m.Acks)
				}
			}
		})
	}
}

func messageData(m schemas.Message) string { return string(m.Data) }
