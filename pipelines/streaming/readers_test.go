package streaming

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

func init() {
	register.DoFn2x1[context.Context, schemas.Message, error](&failAfterFn{})
	register.Function1x1[schemas.Message, string](messageData)
}

// Three readers of one emulator subscription, messages published while they read: every
// published id is read once (by id in the output, and archived once), nothing is left unacked,
// and the job drains on the idle timeout.
func TestThreeReadersOnTheEmulator(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)
	const n, batch = 600, 20
	var want []any
	for i := range n {
		want = append(want, fmt.Sprintf("m%04d", i))
	}
	c, err := pubsub.NewClient(context.Background(), topic, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ids, failed := make(chan []string, n/batch), make(chan error, 1)
	go func() { // paced, so that every reader's pulls find messages
		defer close(ids)
		for i := 0; i < n; i += batch {
			var msgs []*pubsubpb.PubsubMessage
			for j := i; j < i+batch; j++ {
				msgs = append(msgs, &pubsubpb.PubsubMessage{Data: fmt.Appendf(nil, "m%04d", j)})
			}
			resp, err := c.TopicAdminClient.Publish(context.Background(), &pubsubpb.PublishRequest{Topic: topic, Messages: msgs})
			if err != nil {
				failed <- err
				return
			}
			ids <- resp.GetMessageIds()
			time.Sleep(150 * time.Millisecond)
		}
	}()
	out := t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	msgs := pubsub.Read(s, pubsub.ReadConfig{Subscription: sub, Endpoint: addr, NumReaders: 3, IdleTimeout: 5 * time.Second,
		AckExtension: 10 * time.Second, PullBatch: 50, Archive: files.WALConfig{Directory: out, RunID: "r3"}})
	passert.Equals(s, beam.ParDo(s, messageData, msgs), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		t.Fatalf("publishing: %v", err)
	default:
	}
	archived := readArchive(t, out) // fails on an id archived twice
	published := 0
	for batch := range ids {
		for _, id := range batch {
			published++
			if _, ok := archived[id]; !ok {
				t.Errorf("message %s read but not archived", id)
			}
		}
	}
	if published != n || len(archived) != n {
		t.Errorf("%d published, %d archived, want %d", published, len(archived), n)
	}
	if left := backlog(t, addr, sub); left != 0 {
		t.Errorf("%d messages redelivered after the run, want 0 (all acked)", left)
	}
}

// failAfterFn fails its bundle at the N-th element, after earlier elements went downstream.
type failAfterFn struct {
	N    int
	seen int
}

func (fn *failAfterFn) ProcessElement(ctx context.Context, m schemas.Message) error {
	fn.seen++
	if fn.seen >= fn.N {
		return errors.New("injected failure mid-bundle")
	}
	return nil
}

func messageData(m schemas.Message) string { return string(m.Data) }

func TestFailedBundleIsRedelivered(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)
	var msgs []crafted
	var want []any
	for i := range 40 {
		c := validEvent(fmt.Sprintf("e%02d", i), "page_view", "u1", "p-0001", time.Duration(i)*time.Second, "")
		msgs = append(msgs, c)
		want = append(want, c.payload)
	}
	publish(t, addr, topic, pubsubMessages(msgs, nil))

	read := pubsub.ReadConfig{Subscription: sub, Endpoint: addr, TimestampAttribute: "event_time", IdleTimeout: 3 * time.Second, AckExtension: 10 * time.Second,
		MaxTimestampAge: 100 * 365 * 24 * time.Hour}
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo0(s, &failAfterFn{N: 10}, pubsub.Read(s, read))
	if err := ptest.Run(p); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("first run: got error %v, want the injected failure", err)
	}

	// The failed bundle was never committed, so nothing was acked: every message comes back
	// once its ack deadline passes.
	read.IdleTimeout = 15 * time.Second
	p, s = beam.NewPipelineWithRoot()
	passert.Equals(s, beam.ParDo(s, messageData, pubsub.Read(s, read)), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if n := backlog(t, addr, sub); n != 0 {
		t.Errorf("%d messages still unacked after the second run", n)
	}
}
