package bigquery

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	tpubsub "github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func TestDeadLetterMessage(t *testing.T) {
	many := map[string]string{}
	for i := range 100 {
		many[fmt.Sprintf("a%03d", i)] = "v"
	}
	tests := []struct {
		name        string
		in          schemas.DeadLetter
		wantAttrs   map[string]string
		wantDropped int
	}{
		{
			name: "original payload and attributes plus the error",
			in: schemas.DeadLetter{Step: "decode", Reason: "invalid_json", Error: "unexpected end", Payload: []byte("{"),
				Attributes: map[string]string{"event_time": "2026-11-01T12:00:00Z"}, MessageID: "m1", PublishTime: t0, Time: t0.Add(time.Second)},
			wantAttrs: map[string]string{
				"event_time": "2026-11-01T12:00:00Z", AttrStep: "decode", AttrReason: "invalid_json", AttrError: "unexpected end",
				AttrMessageID: "m1", AttrPublishTime: "2026-11-01T12:00:00.123456789Z", AttrTime: "2026-11-01T12:00:01.123456789Z",
			},
		},
		{
			name: "a long error is cut to Pub/Sub's attribute limit, on a character boundary",
			in:   schemas.DeadLetter{Step: "s", Reason: "r", Error: "x" + strings.Repeat("é", 600)},
			wantAttrs: map[string]string{
				AttrStep: "s", AttrReason: "r", AttrError: "x" + strings.Repeat("é", 511),
			},
		},
		{
			name: "a cut payload carries its original size",
			in:   schemas.DeadLetter{Step: "decode", Reason: "too_large", Error: "e", Payload: []byte("abc"), PayloadSize: 9_900_000},
			wantAttrs: map[string]string{
				AttrStep: "decode", AttrReason: "too_large", AttrError: "e", AttrPayloadSize: "9900000",
			},
		},
		{
			name: "attributes beyond Pub/Sub's 100 are left out and counted",
			in:   schemas.DeadLetter{Step: "s", Reason: "r", Error: "e", Attributes: many},
			wantAttrs: func() map[string]string {
				m := map[string]string{AttrStep: "s", AttrReason: "r", AttrError: "e", AttrDropped: "4"}
				for i := range 96 {
					m[fmt.Sprintf("a%03d", i)] = "v"
				}
				return m
			}(),
			wantDropped: 4,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg, dropped := DeadLetterMessage(tc.in)
			if string(msg.Data) != string(tc.in.Payload) {
				t.Errorf("data = %q, want %q", msg.Data, tc.in.Payload)
			}
			if diff := cmp.Diff(tc.wantAttrs, msg.Attributes); diff != "" {
				t.Errorf("attributes (-want +got):\n%s", diff)
			}
			if dropped != tc.wantDropped {
				t.Errorf("dropped = %d, want %d", dropped, tc.wantDropped)
			}
		})
	}
}

// TestPublishDeadLetters publishes through the real client to pstest on Prism; publishing to a
// topic that does not exist fails the pipeline instead of losing the dead letters.
func TestPublishDeadLetters(t *testing.T) {
	letters := []schemas.DeadLetter{
		{Step: "decode", Reason: "invalid_json", Error: "bad", Payload: []byte("{"), Attributes: map[string]string{"k": "v"}, Time: t0},
		{Step: "bigquery.events", Reason: ReasonRowError, Error: "refused", Payload: []byte(`{"event_id":"e1"}`), Time: t0},
	}
	type published struct {
		Data   string
		Reason string
		Attrs  int
	}
	tests := []struct {
		name    string
		topic   string
		want    []published
		wantErr string
	}{
		{
			name:  "every dead letter is published",
			topic: "projects/test/topics/dead-letters",
			want:  []published{{"{", "invalid_json", 5}, {`{"event_id":"e1"}`, ReasonRowError, 4}},
		},
		{name: "a failed publish fails the bundle", topic: "projects/test/topics/missing", wantErr: "NotFound"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := pstest.NewServer()
			t.Cleanup(func() { srv.Close() })
			c, err := tpubsub.NewClient(t.Context(), "projects/test/topics/dead-letters", srv.Addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.TopicAdminClient.CreateTopic(t.Context(), &pubsubpb.Topic{Name: "projects/test/topics/dead-letters"}); err != nil {
				t.Fatal(err)
			}
			c.Close()

			p, s := beam.NewPipelineWithRoot()
			PublishDeadLetters(s, beam.CreateList(s, letters), DeadLetterTopicConfig{Topic: tc.topic, Endpoint: srv.Addr})
			pr, err := ptest.RunWithMetrics(p)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []published
			for _, m := range srv.Messages() {
				got = append(got, published{string(m.Data), m.Attributes[AttrReason], len(m.Attributes)})
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.SortSlices(func(a, b published) bool { return a.Data < b.Data })); diff != "" {
				t.Errorf("published (-want +got):\n%s", diff)
			}
			if n := telemetry.FromPipeline(pr).Counters["deadletter_topic.out"]; n != int64(len(letters)) {
				t.Errorf("deadletter_topic.out = %d, want %d", n, len(letters))
			}
		})
	}
}
