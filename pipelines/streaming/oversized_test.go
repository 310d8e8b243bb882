package streaming

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"google.golang.org/protobuf/proto"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	tpubsub "github.com/tributary-dev/tributary/transforms/pubsub"
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
	o := defaultOptions(t)
	o.InputSubscription, o.IdleTimeout = sub, 3*time.Second
	o.OutputDirectory, o.NumShards = out, 1
	o.OutputDataset, o.BigQueryEndpoint, o.BigQueryInsecure = "tributary-test:analytics", bq.Addr(), true
	o.DeadLetterTopic = dlqTopic
	o.ProductCatalog, o.CurrencyRates = writeReference(t, t.TempDir())
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, Config{Options: o, PubsubEndpoint: addr, AckExtension: 10 * time.Second, RunID: "run1"})
	if err := ptest.Run(p); err != nil {
		t.Fatalf("the job failed: %v", err)
	}

	t.Run("dead_letters rows", func(t *testing.T) {
		rows := bq.Rows(bqtest.TableName("tributary-test", "analytics", schemas.TableDeadLetters))
		if len(rows) != 2 {
			t.Fatalf("%d dead-letter rows, want 2", len(rows))
		}
		for _, r := range rows {
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
		if rows := bq.Rows(bqtest.TableName("tributary-test", "analytics", schemas.TableEvents)); len(rows) != 1 {
			t.Errorf("%d events, want 1", len(rows))
		}
	})
}

// startBigQuery starts bqtest with every table of dataset tributary-test:analytics, as Terraform
// declares them: its schema and the primary key every table is upserted by.
func startBigQuery(t *testing.T) *bqtest.Server {
	t.Helper()
	bq := bqtest.Start(t)
	for _, table := range []string{schemas.TableEvents, schemas.TableProductMetrics, schemas.TableTrendingProducts, schemas.TableUserSessions, schemas.TableFraudAlerts, schemas.TableDeadLetters} {
		fields, err := schemas.TableSchema(table)
		if err != nil {
			t.Fatal(err)
		}
		bq.CreateTable("tributary-test", "analytics", table, bqtest.WithSchema(fields), bqtest.WithPrimaryKey(bigquery.DefaultPrimaryKey(table)...))
	}
	return bq
}

// pullAll pulls and acks until want messages arrived or a pull comes back empty.
func pullAll(t *testing.T, addr, sub string, want int) []*pubsubpb.PubsubMessage {
	t.Helper()
	ctx := context.Background()
	c, err := tpubsub.NewClient(ctx, sub, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []*pubsubpb.PubsubMessage
	for len(got) < want {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := c.SubscriptionAdminClient.Pull(pctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 10})
		cancel()
		if err != nil || len(resp.GetReceivedMessages()) == 0 {
			break
		}
		var ackIDs []string
		for _, m := range resp.GetReceivedMessages() {
			got = append(got, m.GetMessage())
			ackIDs = append(ackIDs, m.GetAckId())
		}
		if err := c.SubscriptionAdminClient.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ackIDs}); err != nil {
			t.Fatal(err)
		}
	}
	return got
}
