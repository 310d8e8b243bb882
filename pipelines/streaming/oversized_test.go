package streaming

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"google.golang.org/protobuf/proto"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
)

// pubsubMaxMessage is Pub/Sub's limit on one message, data and attributes together.
const pubsubMaxMessage = 10_000_000

// TestOversizedMessagesAreDeadLettered runs the pipeline from the emulator into BigQuery
// (bqtest, enforcing the 10 MB AppendRows limit) with --deadLetterTopic, on messages of 6 MB
// and 9.9 MB (Pub/Sub takes up to 10 MB): the job finishes, each becomes a dead-letter row and
// a topic message under 10 MB with its payload cut and its size recorded, and the archive holds
// the whole bytes. Before, the row carried the payload twice (12.6 MB), BigQuery refused it,
// the sink retried it as transient and the bundle failed on every retry.
func TestOversizedMessagesAreDeadLettered(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)
	dlqTopic, dlqSub := newEmulatorSubscription(t, addr, 10)
	bq := startBigQuery(t)

	text6MB := []byte(`{"event_id":"big6","pad":"` + string(bytes.Repeat([]byte("x"), 6_000_000)) + `"}`)
	binary9MB := bytes.Repeat([]byte{0xff, 0xfe, 0x00}, 3_300_000) // 9.9 MB, not UTF-8
	attrs := func(at time.Duration) map[string]string {
		return map[string]string{"event_time": t0.Add(at).Format(time.RFC3339), "origin": "test"}
	}
	ok := validEvent("e1", "page_view", "u1", "p-0001", 5*time.Second, "")
	pub := []*pubsubpb.PubsubMessage{
		{Data: text6MB, Attributes: attrs(10 * time.Second)},
		{Data: binary9MB, Attributes: attrs(20 * time.Second)},
		{Data: []byte(ok.payload), Attributes: attrs(ok.at)},
	}
	var ids []string
	for _, m := range pub { // one a request: two would be over Pub/Sub's 10 MB request limit
		ids = append(ids, publish(t, addr, topic, []*pubsubpb.PubsubMessage{m})...)
	}
	oversized := map[string][]byte{ids[0]: text6MB, ids[1]: binary9MB}

	out := t.TempDir()
	o := emulatorOptions(t, sub)
	o.OutputDirectory, o.NumShards = out, 1
	toBigQuery(&o, bq)
	o.DeadLetterTopic = dlqTopic
	if err := ptest.Run(pipelineOf(t, emulatorConfig(o, addr, "run1"))); err != nil {
		t.Fatalf("the job failed: %v", err)
	}

	t.Run("dead_letters rows", func(t *testing.T) {
		for _, r := range bqRowsN(t, bq, schemas.TableDeadLetters, 2) {
			id, _ := r["message_id"].(string)
			orig := oversized[id]
			var stored []byte
			if s, ok := r["payloadString"].(string); ok {
				stored = []byte(s)
			}
			if b, ok := r["payloadBytes"].([]byte); ok {
				if stored != nil {
					t.Errorf("message %s: payload stored twice", id)
				}
				stored = b
			}
			if len(stored) > deadletter.MaxPayload || !bytes.HasPrefix(orig, stored) || len(stored) < deadletter.MaxPayload-3 {
				t.Errorf("message %s: stored %d bytes, want the first %d of the original", id, len(stored), deadletter.MaxPayload)
			}
			if r["payload_size"] != int64(len(orig)) || r["payload_truncated"] != true || r["reason"] != deadletter.ReasonTooLarge {
				t.Errorf("message %s: payload_size %v, payload_truncated %v, reason %v; want %d, true, %s",
					id, r["payload_size"], r["payload_truncated"], r["reason"], len(orig), deadletter.ReasonTooLarge)
			}
		}
	})
	t.Run("dead-letter topic", func(t *testing.T) {
		got := pullAll(t, addr, dlqSub, 2)
		if len(got) != 2 {
			t.Fatalf("%d messages on the dead-letter topic, want 2", len(got))
		}
		for _, m := range got {
			id := m.GetAttributes()[deadletter.AttrMessageID]
			orig := oversized[id]
			if size := proto.Size(&pubsubpb.PubsubMessage{Data: m.GetData(), Attributes: m.GetAttributes()}); size >= pubsubMaxMessage {
				t.Errorf("message %s: %d bytes with attributes, over Pub/Sub's limit", id, size)
			}
			if !bytes.HasPrefix(orig, m.GetData()) || len(m.GetData()) > deadletter.MaxPayload {
				t.Errorf("message %s: data of %d bytes is not the first %d of the original", id, len(m.GetData()), deadletter.MaxPayload)
			}
			if got, want := m.GetAttributes()[deadletter.AttrPayloadSize], strconv.Itoa(len(orig)); got != want {
				t.Errorf("message %s: %s = %q, want %q", id, deadletter.AttrPayloadSize, got, want)
			}
			if m.GetAttributes()["origin"] != "test" {
				t.Errorf("message %s lost its original attributes: %v", id, m.GetAttributes())
			}
		}
	})
	t.Run("archive holds the whole messages", func(t *testing.T) {
		archived := readArchive(t, out)
		for i, id := range ids {
			if !bytes.Equal(archived[id].Data, pub[i].Data) {
				t.Errorf("message %s: archived %d bytes, want its %d", id, len(archived[id].Data), len(pub[i].Data))
			}
		}
	})
	t.Run("the valid event is written", func(t *testing.T) {
		bqRowsN(t, bq, schemas.TableEvents, 1)
	})
}
