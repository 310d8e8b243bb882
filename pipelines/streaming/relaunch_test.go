package streaming

import (
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// TestRelaunchKeepsCompleteWindows drains a job and relaunches it on the same subscription and
// tables: the first job, fed a historical load (every window ended before it started), writes
// its windows; the second sees only a late event of one of those windows and an event of a
// product the window had no row for. The first job's complete row survives, the second job's
// row of the new product stands, and every event is in events. Before, the second job's pane
// 0 (one view) replaced the first job's complete row, since its run sequence was higher.
func TestRelaunchKeepsCompleteWindows(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)
	bq := startBigQuery(t)
	ref1, ref2 := t.TempDir(), t.TempDir()

	run := func(name string, start time.Time, msgs []crafted) {
		t.Helper()
		var pub []*pubsubpb.PubsubMessage
		for _, m := range msgs {
			pub = append(pub, &pubsubpb.PubsubMessage{Data: []byte(m.payload), Attributes: map[string]string{"event_time": t0.Add(m.at).Format(time.RFC3339)}})
		}
		publish(t, addr, topic, pub)
		o := defaultOptions(t)
		o.InputSubscription, o.IdleTimeout = sub, 3*time.Second
		o.OutputDirectory, o.NumShards = t.TempDir(), 1
		o.OutputDataset, o.BigQueryEndpoint, o.BigQueryInsecure = "tributary-test:analytics", bq.Addr(), true
		o.ProductCatalog, o.CurrencyRates = writeReference(t, ref1)
		if name == "run2" {
			o.ProductCatalog, o.CurrencyRates = writeReference(t, ref2)
		}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		p, s := beam.NewPipelineWithRoot()
		Build(s, Config{Options: o, PubsubEndpoint: addr, AckExtension: 10 * time.Second, RunID: name, Start: start})
		if err := ptest.Run(p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	first := time.Now()
	run("run1", first, []crafted{
		validEvent("e1", "page_view", "u1", "p-0001", 5*time.Second, ""),
		validEvent("e2", "page_view", "u2", "p-0001", 10*time.Second, ""),
		validEvent("e3", "purchase", "u1", "p-0001", 20*time.Second, "20.00 EUR"),
	})
	run("run2", first.Add(time.Minute), []crafted{
		validEvent("e4", "page_view", "u3", "p-0001", 30*time.Second, ""), // late for run1's window
		validEvent("e5", "page_view", "u3", "p-0002", 40*time.Second, ""), // no earlier row
	})

	type metric struct {
		Product          string
		Views, Purchases int64
		Revenue          string
		DistinctUsers    int64
		Window           time.Time
	}
	var got []metric
	for _, r := range bq.Rows(bqtest.TableName("tributary-test", "analytics", schemas.TableProductMetrics)) {
		got = append(got, metric{Product: r["product_id"].(string), Views: r["views"].(int64), Purchases: r["purchases"].(int64),
			Revenue: r["revenue_usd"].(string), DistinctUsers: r["distinct_users"].(int64), Window: r["window_start"].(time.Time)})
	}
	slices.SortFunc(got, func(a, b metric) int { return cmpString(a.Product, b.Product) })
	want := []metric{
		{Product: "p-0001", Views: 2, Purchases: 1, Revenue: "22", DistinctUsers: 2, Window: t0}, // run1's complete row
		{Product: "p-0002", Views: 1, Revenue: "0", DistinctUsers: 1, Window: t0},                // run2's, with nothing to replace
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("product_metrics after the relaunch (-want +got):\n%s", diff)
	}
	var ids []string
	for _, r := range bq.Rows(bqtest.TableName("tributary-test", "analytics", schemas.TableEvents)) {
		ids = append(ids, r["event_id"].(string))
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"e1", "e2", "e3", "e4", "e5"}, ids); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
