package deadletter_test

import (
	"context"
	"fmt"
	"slices"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

func init() {
	register.Function2x0[schemas.DeadLetter, func(schemas.DeadLetter)](refuseLong)
}

// refuseLong stands in for the dead_letters table: it takes every dead letter but those whose
// payload is longer than 8 bytes, which it returns as its own dead letters.
func refuseLong(d schemas.DeadLetter, refused func(schemas.DeadLetter)) {
	if len(d.Payload) > 8 {
		refused(schemas.DeadLetter{Step: "dead_letters", Reason: "row_too_large", MessageID: d.MessageID, Payload: d.Payload})
	}
}

// Route sends every step's dead letters to the table and the topic, and what the table
// refuses to the topic too (with the table as its step); with no topic, a refusal would fail
// the bundle instead of vanishing.
func ExampleRoute() {
	srv := pstest.NewServer() // in-process Pub/Sub
	defer srv.Close()
	topic := "projects/example/topics/dead-letters"
	c, err := pubsub.NewClient(context.Background(), topic, srv.Addr)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, err := c.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: topic}); err != nil {
		fmt.Println(err)
		return
	}
	c.Close()

	p, s := beam.NewPipelineWithRoot()
	decodeFailures := beam.Create(s, schemas.DeadLetter{Step: "decode", Reason: "invalid_json", MessageID: "m1", Payload: []byte("{")})
	enrichFailures := beam.Create(s, schemas.DeadLetter{Step: "enrich", Reason: "unknown_product", MessageID: "m2",
		Payload: []byte(`{"product_id":"p9"}`)})
	deadletter.Route(s, deadletter.Sinks{
		Table: func(s beam.Scope, dead beam.PCollection) beam.PCollection { return beam.ParDo(s, refuseLong, dead) },
		Topic: func(s beam.Scope, dead beam.PCollection) beam.PCollection {
			return pubsub.Write(s, topic, deadletter.Messages(s, dead), pubsub.WriteConfig{Endpoint: srv.Addr})
		},
	}, decodeFailures, enrichFailures)
	if err := ptest.Run(p); err != nil {
		fmt.Println(err)
		return
	}
	var published []string
	for _, m := range srv.Messages() {
		published = append(published, fmt.Sprintf("%s %s %s %s", m.Attributes[deadletter.AttrMessageID],
			m.Attributes[deadletter.AttrStep], m.Attributes[deadletter.AttrReason], m.Data))
	}
	slices.Sort(published)
	for _, line := range published {
		fmt.Println(line)
	}
	// Output:
	// m1 decode invalid_json {
	// m2 dead_letters row_too_large {"product_id":"p9"}
	// m2 enrich unknown_product {"product_id":"p9"}
}
