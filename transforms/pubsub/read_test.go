package pubsub

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function2x1[beam.EventTime, schemas.Message, string](stampedID)
}

// stampedID renders a message with its element timestamp, so passert checks both.
func stampedID(ts beam.EventTime, m schemas.Message) string {
	return fmt.Sprintf("%s@%s", m.Data, ts.ToTime().UTC().Format(time.RFC3339))
}

// newTestSubscription starts pstest with a topic and subscription and returns the server and
// the subscription path.
func newTestSubscription(t *testing.T, ackDeadline int32) (*pstest.Server, string, string) {
	t.Helper()
	srv := pstest.NewServer()
	t.Cleanup(func() { srv.Close() })
	ctx := context.Background()
	topic, sub := "projects/test/topics/events", "projects/test/subscriptions/events"
	c, err := NewClient(ctx, topic, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic, AckDeadlineSeconds: ackDeadline}); err != nil {
		t.Fatal(err)
	}
	return srv, topic, sub
}

func TestReadEmitsTimestampedAndAcksAll(t *testing.T) {
	// Within the timestamp band around the publish time (now) whatever the date.
	base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	tests := []struct {
		name string
		n    int
		cfg  ReadConfig
	}{
		{"stops on idle timeout", 300, ReadConfig{IdleTimeout: 2 * time.Second}},
		{"stops after max messages", 250, ReadConfig{MaxMessages: 250, PullBatch: 40}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, topic, sub := newTestSubscription(t, 30)
			var want []any
			for i := range tc.n {
				ts := base.Add(time.Duration(i) * time.Second)
				attrs := map[string]string{"event_time": ts.Format(time.RFC3339)}
				if i%2 == 1 { // epoch millis is accepted too
					attrs["event_time"] = fmt.Sprint(ts.UnixMilli())
				}
				srv.Publish(topic, fmt.Appendf(nil, "m%04d", i), attrs)
				want = append(want, fmt.Sprintf("m%04d@%s", i, ts.Format(time.RFC3339)))
			}
			cfg := tc.cfg
			cfg.Subscription, cfg.Endpoint, cfg.TimestampAttribute = sub, srv.Addr, "event_time"
			cfg.MaxTimestampAge = 100 * 365 * 24 * time.Hour // fixed event times stay valid whatever today is
			p, s := beam.NewPipelineWithRoot()
			msgs := Read(s, cfg)
			passert.Equals(s, beam.ParDo(s, stampedID, msgs), want...)
			passert.Count(s, msgs, "messages", tc.n)
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			for _, m := range srv.Messages() {
				if m.Acks != 1 || m.Deliveries != 1 {
					t.Errorf("message %s: %d acks, %d deliveries; want 1 and 1 (acked once, never redelivered)", m.Data, m.Acks, m.Deliveries)
				}
			}
		})
	}
}

func TestRestrictionCoderRoundTrip(t *testing.T) {
	for _, r := range []Restriction{
		{},
		{PendingAcks: []string{"a", "", "projects/x/ack-123"}, Read: 42, LastMessageMillis: 1700000000000, Stopping: true, ID: 1<<64 - 1},
	} {
		got, err := decodeRestriction(encodeRestriction(r))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	if _, err := decodeRestriction([]byte{0x80}); err == nil {
		t.Error("truncated restriction decoded without error")
	}
}

func TestWatermarkStateCoderRoundTrip(t *testing.T) {
	s := WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: 5, Samples: []Sample{{1, 2}, {3, -4}}, LastAttributeMillis: 1700000000000}
	got, err := decodeWatermarkState(encodeWatermarkState(s))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}
