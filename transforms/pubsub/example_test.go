package pubsub_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

func init() {
	register.Function2x1[beam.EventTime, schemas.Message, string](stamped)
}

// stamped shows a message with its element timestamp.
func stamped(ts beam.EventTime, m schemas.Message) string {
	return fmt.Sprintf("%s at %s", m.Data, ts.ToTime().UTC().Format(time.RFC3339))
}

// exampleTopic creates topic, with subscription sub when it is not empty, on srv.
func exampleTopic(srv *pstest.Server, topic, sub string) error {
	ctx := context.Background()
	c, err := pubsub.NewClient(ctx, topic, srv.Addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
		return err
	}
	if sub != "" {
		_, err = c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic})
	}
	return err
}

// Read emits each message at the time its event_time attribute gives, and acknowledges it once
// the bundle that emitted it is committed; MaxMessages stops it (a streaming job never stops).
func ExampleRead() {
	srv := pstest.NewServer() // in-process Pub/Sub
	defer srv.Close()
	// A fixed publish time: an event_time older than MaxTimestampAge before it is invalid.
	srv.SetTimeNowFunc(func() time.Time { return time.Date(2026, 11, 1, 12, 1, 0, 0, time.UTC) })
	topic, sub := "projects/example/topics/events", "projects/example/subscriptions/events"
	if err := exampleTopic(srv, topic, sub); err != nil {
		fmt.Println(err)
		return
	}
	for i, at := range []string{"2026-11-01T12:00:00Z", "2026-11-01T12:00:05Z"} {
		srv.Publish(topic, []byte("event "+strconv.Itoa(i+1)), map[string]string{"event_time": at})
	}

	p, s := beam.NewPipelineWithRoot()
	msgs := pubsub.Read(s, pubsub.ReadConfig{Subscription: sub, Endpoint: srv.Addr, TimestampAttribute: "event_time",
		MaxMessages: 2})
	beamtest.Collect(s, "ExampleRead", beam.ParDo(s, stamped, msgs))
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	got := beamtest.Collected[string]("ExampleRead")
	slices.Sort(got)
	for _, line := range got {
		fmt.Println(line)
	}
	// Output:
	// event 1 at 2026-11-01T12:00:00Z
	// event 2 at 2026-11-01T12:00:05Z
}

// Write publishes each message; one that Pub/Sub would refuse for good (here: more attributes
// than it takes) is not retried but returned as a dead letter.
func ExampleWrite() {
	srv := pstest.NewServer()
	defer srv.Close()
	topic := "projects/example/topics/alerts"
	if err := exampleTopic(srv, topic, ""); err != nil {
		fmt.Println(err)
		return
	}
	tooMany := map[string]string{}
	for i := range pubsub.MaxAttributes + 1 {
		tooMany["a"+strconv.Itoa(i)] = "v"
	}

	p, s := beam.NewPipelineWithRoot()
	msgs := beam.Create(s, schemas.Message{Data: []byte("alert 1")}, schemas.Message{Data: []byte("alert 2"), Attributes: tooMany})
	beamtest.Collect(s, "ExampleWrite", pubsub.Write(s, topic, msgs, pubsub.WriteConfig{Endpoint: srv.Addr}))
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	for _, m := range srv.Messages() {
		fmt.Printf("published %s\n", m.Data)
	}
	for _, d := range beamtest.Collected[schemas.DeadLetter]("ExampleWrite") {
		fmt.Printf("dead letter %s: step %s, reason %s\n", d.Payload, d.Step, d.Reason)
	}
	// Output:
	// published alert 1
	// dead letter alert 2: step pubsub.Write, reason publish_refused
}
