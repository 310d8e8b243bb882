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
	base := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
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
	s := WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: 5, Samples: []Sample{{1, 2}, {3, -4}}}
	got, err := decodeWatermarkState(encodeWatermarkState(s))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWatermarkEstimator(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	type round struct {
		at       time.Duration // processing time since t0
		min, max time.Duration // event times since t0 read in the round
		none     bool          // the round read no timestamped message
		pending  bool
	}
	tests := []struct {
		name   string
		rounds []round
		want   time.Time
	}{
		{"unset before any timestamp", []round{{none: true}}, time.Time{}},
		{"minimum of the round minus skew", []round{{min: 30 * time.Second, max: 90 * time.Second, pending: true}}, t0.Add(20 * time.Second)},
		{"out-of-order older round holds it", []round{
			{at: 0, min: 60 * time.Second, max: 70 * time.Second, pending: true},
			{at: time.Second, min: 20 * time.Second, max: 200 * time.Second, pending: true},
		}, t0.Add(50 * time.Second)},
		{"old samples expire after the sample period", []round{
			{at: 0, min: 20 * time.Second, max: 30 * time.Second, pending: true},
			{at: 90 * time.Second, min: 100 * time.Second, max: 120 * time.Second, pending: true},
		}, t0.Add(90 * time.Second)},
		{"never moves back", []round{
			{at: 0, min: 100 * time.Second, max: 100 * time.Second},
			{at: time.Second, min: 10 * time.Second, max: 10 * time.Second},
		}, t0.Add(90 * time.Second)},
		{"idle for a sample period moves to the newest seen", []round{
			{at: 0, min: 10 * time.Second, max: 300 * time.Second},
			{at: 2 * time.Minute, none: true},
		}, t0.Add(300 * time.Second)},
		{"idle but pending holds", []round{
			{at: 0, min: 10 * time.Second, max: 300 * time.Second},
			{at: 2 * time.Minute, none: true, pending: true},
		}, t0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &watermarkEstimator{state: WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}}
			for _, r := range tc.rounds {
				e.observeRound(t0.Add(r.at), t0.Add(r.min), t0.Add(r.max), !r.none, r.pending, 10*time.Second)
			}
			if tc.want.IsZero() {
				if e.state.WatermarkMillis != unsetMillis {
					t.Errorf("watermark = %v, want unset", e.CurrentWatermark())
				}
				return
			}
			if got := e.CurrentWatermark(); !got.Equal(tc.want) {
				t.Errorf("watermark = %v, want %v", got.UTC(), tc.want)
			}
		})
	}
}

func TestAttributeTime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-01T12:00:00Z", time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC), true},
		{"2026-11-01T13:00:00.250+01:00", time.Date(2026, 11, 1, 12, 0, 0, 250e6, time.UTC), true},
		{"1793534400000", time.UnixMilli(1793534400000).UTC(), true},
		{"", time.Time{}, false},
		{"yesterday", time.Time{}, false},
		{"2026-11-01 12:00:00", time.Time{}, false},
	}
	for _, tc := range tests {
		got, ok := attributeTime(tc.in)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("attributeTime(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
