package streaming

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestErrorsAndLogsCarryNoPayloadOrUserID runs the pipeline against BigQuery tables that refuse
// every row (events and dead_letters, with no dead-letter topic, so the refused dead letters fail
// the bundle) on messages carrying a sentinel payload and a sentinel user id, with and without
// --tokenizeUserIds, and scans the job's error and every log line (Prism's and the SDK's, both
// through slog here) for the sentinels. The error must still name the table, the reason and
// the message. Before, the bundle error held the whole refused row, payload and raw user id.
func TestErrorsAndLogsCarryNoPayloadOrUserID(t *testing.T) {
	const userSentinel, payloadSentinel = "SENTINEL-USER-7f3a91", "SENTINEL-PAYLOAD-c2e804"
	for _, tokenize := range []bool{false, true} {
		t.Run(fmt.Sprintf("tokenizeUserIds=%v", tokenize), func(t *testing.T) {
			logs := &syncBuffer{}
			prev := slog.Default()
			// INFO, the runners' default: Prism's DEBUG lines dump data-channel bytes (see README).
			slog.SetDefault(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
			t.Cleanup(func() { slog.SetDefault(prev) })

			addr := startEmulator(t)
			topic, sub := newEmulatorSubscription(t, addr, 10)
			bq := startBigQuery(t)
			refuse := func(bqtest.Row) bool { return true }
			bq.RejectRows(bqTable(schemas.TableEvents), refuse)
			bq.RejectRows(bqTable(schemas.TableDeadLetters), refuse)

			valid := fmt.Sprintf(`{"event_id":"e1","event_type":"page_view","event_time":%q,"user_id":%q,"product_id":"p-0001","note":%q,"device":{"os":"ios","country":"US"}}`,
				t0.Add(5*time.Second).Format(time.RFC3339), userSentinel, payloadSentinel)
			broken := fmt.Sprintf(`{"event_id":"e2","user_id":%q,"note":%q`, userSentinel, payloadSentinel)
			attrs := map[string]string{"event_time": t0.Add(5 * time.Second).Format(time.RFC3339)}
			ids := publish(t, addr, topic, []*pubsubpb.PubsubMessage{{Data: []byte(valid), Attributes: attrs}, {Data: []byte(broken), Attributes: attrs}})

			o := emulatorOptions(t, sub)
			o.OutputDirectory, o.NumShards = t.TempDir(), 1
			toBigQuery(&o, bq)
			if tokenize {
				t.Setenv("TRIBUTARY_TEST_TOKEN_KEY", strings.Repeat("k", 32))
				o.TokenizeUserIds, o.TokenKeyEnv = true, "TRIBUTARY_TEST_TOKEN_KEY"
			}
			err := ptest.Run(pipelineOf(t, emulatorConfig(o, addr, "run1")))
			if err == nil {
				t.Fatal("the job succeeded; want it to fail on the refused dead letters")
			}
			// deadletter.Route fails the bundle naming the refusing step (the table's sink).
			table := "step bigquery." + schemas.TableDeadLetters
			if msg := err.Error(); !strings.Contains(msg, table) || !strings.Contains(msg, bigquery.ReasonRowError) ||
				!(strings.Contains(msg, ids[0]) || strings.Contains(msg, ids[1])) {
				t.Errorf("the job's error does not name the table %s, the reason %s and a message id (%v):\n%s", table, bigquery.ReasonRowError, ids, msg)
			}
			for name, text := range map[string]string{"the job's error": err.Error(), "the logs": logs.String()} {
				if text == "" && name == "the logs" {
					t.Errorf("no log lines captured: the scan would prove nothing")
				}
				for _, sentinel := range []string{userSentinel, payloadSentinel} {
					for _, line := range strings.Split(text, "\n") {
						if strings.Contains(line, sentinel) {
							t.Errorf("%s carry %s: %.300s", name, sentinel, line)
							break
						}
					}
				}
			}
		})
	}
}
