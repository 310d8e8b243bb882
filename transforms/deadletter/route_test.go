package deadletter_test

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	register.Function2x0[schemas.DeadLetter, func(schemas.DeadLetter)](refuseMarked)
	register.Function1x1[schemas.DeadLetter, string](messageIDOf)
}

// refuseMarked is a table sink that refuses the dead letters whose reason is "refuse_me".
func refuseMarked(d schemas.DeadLetter, emit func(schemas.DeadLetter)) {
	if d.Reason == "refuse_me" {
		emit(schemas.DeadLetter{Step: "table", Reason: "row_error", Payload: d.Payload, MessageID: d.MessageID,
			Attributes: map[string]string{"k": "v"}})
	}
}

func messageIDOf(d schemas.DeadLetter) string { return d.MessageID }

func tableSink(s beam.Scope, dead beam.PCollection) beam.PCollection {
	return beam.ParDo(s, refuseMarked, dead)
}

func TestRoute(t *testing.T) {
	letters := []schemas.DeadLetter{
		{Step: "decode", Reason: "invalid_json", Payload: []byte("{"), MessageID: "m1"},
		{Step: "enrich", Reason: "amount_out_of_range", Payload: []byte(`{"a":1}`), MessageID: "m2"},
		{Step: "decode", Reason: "refuse_me", Payload: []byte(`{"b":2}`), MessageID: "m3"},
	}
	type published struct{ MessageID, Step string }
	tests := []struct {
		name          string
		topic         bool
		refuse        bool
		wantPublished []published // to the topic, by tributary_message_id and tributary_step
		wantErr       string
	}{
		{name: "table takes everything, no topic", refuse: false},
		{name: "table refusals without a topic fail the bundle", refuse: true, wantErr: `message "m3"`},
		{
			name: "every dead letter and the table's refusals reach the topic", topic: true, refuse: true,
			wantPublished: []published{{"m1", "decode"}, {"m2", "enrich"}, {"m3", "decode"}, {"m3", "table"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := letters
			if !tc.refuse {
				in = letters[:2]
			}
			srv := pstest.NewServer()
			t.Cleanup(func() { srv.Close() })
			topic := "projects/test/topics/dead-letters"
			c, err := pubsub.NewClient(context.Background(), topic, srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: topic}); err != nil {
				t.Fatal(err)
			}
			c.Close()

			p, s := beam.NewPipelineWithRoot()
			sinks := deadletter.Sinks{Table: tableSink}
			if tc.topic {
				sinks.Topic = func(s beam.Scope, dead beam.PCollection) beam.PCollection {
					return pubsub.Write(s, topic, deadletter.Messages(s, dead), pubsub.WriteConfig{Endpoint: srv.Addr})
				}
			}
			half := len(in) / 2
			all := deadletter.Route(s, sinks, beam.CreateList(s, in[:half]), beam.CreateList(s, in[half:]))
			var want []any
			for _, d := range in {
				want = append(want, d.MessageID)
			}
			passert.Equals(s, beam.ParDo(s, messageIDOf, all), want...)
			err = ptest.Run(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %s", err, tc.wantErr)
				}
				for _, d := range in {
					if strings.Contains(err.Error(), string(d.Payload)) && len(d.Payload) > 2 {
						t.Errorf("the bundle error carries the payload of %s", d.MessageID)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []published
			for _, m := range srv.Messages() {
				got = append(got, published{m.Attributes[deadletter.AttrMessageID], m.Attributes[deadletter.AttrStep]})
			}
			byID := cmpopts.SortSlices(func(a, b published) bool { return a.MessageID+a.Step < b.MessageID+b.Step })
			if diff := cmp.Diff(tc.wantPublished, got, byID, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("published (-want +got):\n%s", diff)
			}
		})
	}
}
