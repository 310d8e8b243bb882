package pubsub

import (
	"context"
	"testing"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

func TestMain(m *testing.M) { ptest.Main(m) }

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
