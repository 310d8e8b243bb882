package streaming

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// TestStreamingPipelineToBigQueryAndGCS runs the pipeline from the Pub/Sub emulator into the
// production sinks, each pointed at an in-process server of the real protocol: the BigQuery
// Storage Write API (bqtest, driven by the real managedwriter client) and the GCS JSON API
// (fake-gcs-server, driven by the real storage client).
func TestStreamingPipelineToBigQueryAndGCS(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)

	gcs := startGCS(t)
	bq := startBigQuery(t)

	msgs := []crafted{
		validEvent("e1", "page_view", "u1", "p-0001", 5*time.Second, ""),
		validEvent("e3", "purchase", "u1", "p-0001", 20*time.Second, "20.00 EUR"),
		validEvent("e4", "purchase", "u2", "p-0002", 30*time.Second, "10 USD"),
		validEvent("e5", "page_view", "u2", "p-0001", 65*time.Second, ""),
		validEvent("e3", "purchase", "u1", "p-0001", 20*time.Second, "20.00 EUR"), // a redelivered duplicate
		{payload: `{"event_id": "bad-1", `, at: 15 * time.Second},
	}
	pub := pubsubMessages(msgs, nil)
	publish(t, addr, topic, pub)

	o := emulatorOptions(t, sub)
	o.OutputDirectory, o.NumShards = "gs://lake/tributary", 2
	toBigQuery(&o, bq)
	run(t, emulatorConfig(o, addr, "run1"))

	t.Run("events", func(t *testing.T) {
		var ids []string
		for _, r := range bq.Rows(bqTable(schemas.TableEvents)) {
			ids = append(ids, r["event_id"].(string))
		}
		slices.Sort(ids)
		if diff := cmp.Diff([]string{"e1", "e3", "e4", "e5"}, ids); diff != "" {
			t.Errorf("event ids in BigQuery (-want +got):\n%s", diff)
		}
	})
	t.Run("product_metrics", func(t *testing.T) {
		type metric struct {
			Window                        time.Time
			Product, Timing, Revenue      string
			Views, Purchases, Users, Pane int64
		}
		var got []metric
		for _, r := range bq.Rows(bqTable(schemas.TableProductMetrics)) {
			got = append(got, metric{Window: r["window_start"].(time.Time), Product: r["product_id"].(string),
				Timing: r["pane_timing"].(string), Revenue: r["revenue_usd"].(string), Views: r["views"].(int64),
				Purchases: r["purchases"].(int64), Users: r["distinct_users"].(int64), Pane: r["pane_index"].(int64)})
		}
		slices.SortFunc(got, func(a, b metric) int {
			if c := a.Window.Compare(b.Window); c != 0 {
				return c
			}
			return strings.Compare(a.Product, b.Product)
		})
		want := []metric{
			{Window: t0, Product: "p-0001", Timing: "ON_TIME", Revenue: "22", Views: 1, Purchases: 1, Users: 1},
			{Window: t0, Product: "p-0002", Timing: "ON_TIME", Revenue: "10", Purchases: 1, Users: 1},
			{Window: t0.Add(time.Minute), Product: "p-0001", Timing: "ON_TIME", Revenue: "0", Views: 1, Users: 1},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("product_metrics in BigQuery (-want +got):\n%s", diff)
		}
	})
	t.Run("trending_products", func(t *testing.T) {
		// Both purchases (12:00:20, 12:00:30) fall in the 12 one-hour windows sliding every 5 m
		// that start from 11:05 to 12:00; each ranks p-0001 (22 USD) above p-0002 (10 USD), a
		// tie on purchases broken by revenue.
		rows := bq.Rows(bqTable(schemas.TableTrendingProducts))
		if len(rows) != 12 {
			t.Fatalf("%d trending rows, want 12", len(rows))
		}
		for _, r := range rows {
			var ranked []string
			for _, p := range r["ranking"].([]any) {
				ranked = append(ranked, p.(map[string]any)["product_id"].(string))
			}
			if diff := cmp.Diff([]string{"p-0001", "p-0002"}, ranked); diff != "" {
				t.Errorf("window %v ranking (-want +got):\n%s", r["window_start"], diff)
			}
		}
	})
	t.Run("dead_letters", func(t *testing.T) {
		rows := bq.Rows(bqTable(schemas.TableDeadLetters))
		if len(rows) != 1 {
			t.Fatalf("%d dead-letter rows, want 1", len(rows))
		}
		if diff := cmp.Diff(string(pub[5].Data), rows[0]["payloadString"]); diff != "" {
			t.Errorf("dead letter payload differs from the original bytes:\n%s", diff)
		}
	})
	t.Run("archive on GCS", func(t *testing.T) {
		objs, _, err := gcs.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "tributary/archive/"})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		archived := 0
		for _, obj := range objs {
			names = append(names, obj.Name)
			o, err := gcs.GetObject("lake", obj.Name)
			if err != nil {
				t.Fatal(err)
			}
			lines, err := files.ReadArchiveFile(o.Content)
			if err != nil {
				t.Fatalf("%s: %v", obj.Name, err)
			}
			archived += len(lines)
		}
		// The source's write-ahead log: files by publish hour (now), named by their bytes.
		walObject := regexp.MustCompile(`^tributary/archive/dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/hr=[0-9]{2}/wal-[0-9]{8}T[0-9]{6}Z-run1-[0-9a-f]{16}\.jsonl\.gz$`)
		if len(names) == 0 {
			t.Error("no archive objects")
		}
		for _, n := range names {
			if !walObject.MatchString(n) {
				t.Errorf("archive object %s is not a WAL file of run1", n)
			}
		}
		if archived != len(pub) {
			t.Errorf("archive holds %d messages, want %d", archived, len(pub))
		}
	})
}
