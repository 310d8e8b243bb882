package streaming

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
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

	type metric struct {
		Product          string
		Views, Purchases int64
		Revenue          string
		DistinctUsers    int64
		Window           time.Time
	}
	var got []metric
	for _, r := range bq.Rows(bqTable(schemas.TableProductMetrics)) {
		got = append(got, metric{Product: r["product_id"].(string), Views: r["views"].(int64), Purchases: r["purchases"].(int64),
			Revenue: r["revenue_usd"].(string), DistinctUsers: r["distinct_users"].(int64), Window: r["window_start"].(time.Time)})
	}
	slices.SortFunc(got, func(a, b metric) int { return strings.Compare(a.Product, b.Product) })
	want := []metric{
		{Product: "p-0001", Views: 2, Purchases: 1, Revenue: "22", DistinctUsers: 2, Window: t0}, // run1's complete row
		{Product: "p-0002", Views: 1, Revenue: "0", DistinctUsers: 1, Window: t0},                // run2's, with nothing to replace
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("product_metrics after the relaunch (-want +got):\n%s", diff)
	}
	var ids []string
	for _, r := range bq.Rows(bqTable(schemas.TableEvents)) {
		ids = append(ids, r["event_id"].(string))
	}
	slices.Sort(ids)
	if diff := cmp.Diff([]string{"e1", "e2", "e3", "e4", "e5"}, ids); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}
