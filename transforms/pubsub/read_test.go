package pubsub

import (
	"fmt"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function2x1[beam.EventTime, schemas.Message, string](stampedID)
}

// stampedID renders a message with its element timestamp, so passert checks both.
func stampedID(ts beam.EventTime, m schemas.Message) string {
	return fmt.Sprintf("%s@%s", m.Data, ts.ToTime().UTC().Format(time.RFC3339))
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
