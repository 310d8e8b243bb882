package streaming

import (
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
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
		if diff := cmp.Diff([]string{"e1", "e3", "e4", "e5"}, bqEventIDs(bq)); diff != "" {
			t.Errorf("event ids in BigQuery (-want +got):\n%s", diff)
		}
	})
	t.Run("product_metrics", func(t *testing.T) {
		got := bqMetrics(bq)
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
		rows := bqRowsN(t, bq, schemas.TableTrendingProducts, 12)
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
		rows := bqRowsN(t, bq, schemas.TableDeadLetters, 1)
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

	relaunch := func(name string, start time.Time, msgs []crafted) {
		t.Helper()
		publish(t, addr, topic, pubsubMessages(msgs, nil))
		o := emulatorOptions(t, sub) // each run its own copy of the reference data
		o.OutputDirectory, o.NumShards = t.TempDir(), 1
		toBigQuery(&o, bq)
		cfg := emulatorConfig(o, addr, name)
		cfg.Start = start
		if err := ptest.Run(pipelineOf(t, cfg)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	first := time.Now()
	relaunch("run1", first, []crafted{
		validEvent("e1", "page_view", "u1", "p-0001", 5*time.Second, ""),
		validEvent("e2", "page_view", "u2", "p-0001", 10*time.Second, ""),
		validEvent("e3", "purchase", "u1", "p-0001", 20*time.Second, "20.00 EUR"),
	})
	relaunch("run2", first.Add(time.Minute), []crafted{
		validEvent("e4", "page_view", "u3", "p-0001", 30*time.Second, ""), // late for run1's window
		validEvent("e5", "page_view", "u3", "p-0002", 40*time.Second, ""), // no earlier row
	})

	want := []metric{
		{Window: t0, Product: "p-0001", Revenue: "22", Views: 2, Purchases: 1, Users: 2}, // run1's complete row
		{Window: t0, Product: "p-0002", Revenue: "0", Views: 1, Users: 1},                // run2's, with nothing to replace
	}
	if diff := cmp.Diff(want, bqMetrics(bq), cmpopts.IgnoreFields(metric{}, "Timing", "Pane")); diff != "" {
		t.Errorf("product_metrics after the relaunch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"e1", "e2", "e3", "e4", "e5"}, bqEventIDs(bq)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

// bqRowsN are table's rows in BigQuery; t fails now unless there are n.
func bqRowsN(t *testing.T, bq *bqtest.Server, table string, n int) []bqtest.Row {
	t.Helper()
	rows := bq.Rows(bqTable(table))
	if len(rows) != n {
		t.Fatalf("%d %s rows in BigQuery, want %d", len(rows), table, n)
	}
	return rows
}

// bqEventIDs are the event ids in BigQuery's events table, sorted.
func bqEventIDs(bq *bqtest.Server) []string {
	var ids []string
	for _, r := range bq.Rows(bqTable(schemas.TableEvents)) {
		ids = append(ids, r["event_id"].(string))
	}
	slices.Sort(ids)
	return ids
}

// metric is a product_metrics row in BigQuery, as the sink tests compare it.
type metric struct {
	Window                        time.Time
	Product, Timing, Revenue      string
	Views, Purchases, Users, Pane int64
}

// bqMetrics are BigQuery's product_metrics rows, sorted by window and product.
func bqMetrics(bq *bqtest.Server) []metric {
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
	return got
}
