package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/enrich"
)

// compareTables checks with go-cmp that the core's tables under o.OutputDirectory are those
// the plain-Go loop computes from gen, so the timing ratio compares equal work: events (ids),
// product_metrics (each window and product's last pane), user_sessions (each user's final
// rows), fraud_alerts (alert ids) and dead_letters (the count). trending_products is not
// compared: the loop does not rank products (a top-N over sliding periods, tie-broken in
// transforms/aggregate/trending.go), so its cost is not in the ratio either.
func compareTables(t *testing.T, o streaming.Options, gen generate.Config) {
	t.Helper()
	ref, err := enrich.LoadReference(context.Background(), o.ProductCatalog, o.CurrencyRates)
	if err != nil {
		t.Fatal(err)
	}
	want := ReferenceLoop(Messages(gen), ref, LoopConfigOf(o))
	if n := int(gen.Count); len(want.Events) < n*9/10 || len(want.Metrics) == 0 || len(want.Sessions) == 0 || len(want.Alerts) == 0 {
		t.Fatalf("the plain-Go loop kept %d events, %d product windows, %d users, %d alerts of %d events, want most and some",
			len(want.Events), len(want.Metrics), len(want.Sessions), len(want.Alerts), n)
	}
	dir := o.OutputDirectory
	got := Reference{Events: map[string]bool{}, Metrics: map[MetricKey]ProductTotal{}, Sessions: map[string][]SessionTotal{}, Alerts: map[string]string{}}
	for _, row := range readTable(t, dir, schemas.TableEvents) {
		got.Events[row["event_id"].(string)] = true
	}
	lastPane := map[MetricKey]int64{}
	for _, row := range readTable(t, dir, schemas.TableProductMetrics) {
		k := MetricKey{parseTime(t, row["window_start"]), row["product_id"].(string)}
		if pane := num(row["pane_index"]); pane >= lastPane[k] || got.Metrics[k] == (ProductTotal{}) {
			lastPane[k] = pane
			got.Metrics[k] = ProductTotal{Views: num(row["views"]), Carts: num(row["carts"]), Purchases: num(row["purchases"]),
				Refunds: num(row["refunds"]), DistinctUsers: num(row["distinct_users"])}
		}
	}
	for _, row := range readTable(t, dir, schemas.TableUserSessions) {
		if row["is_final"] == true {
			u := row["user_id"].(string)
			got.Sessions[u] = append(got.Sessions[u], SessionTotal{Start: parseTime(t, row["session_start"]),
				End: parseTime(t, row["session_end"]), Events: num(row["events"])})
		}
	}
	for _, ss := range got.Sessions {
		slices.SortFunc(ss, func(a, b SessionTotal) int { return a.Start.Compare(b.Start) })
	}
	for _, row := range readTable(t, dir, schemas.TableFraudAlerts) {
		got.Alerts[row["alert_id"].(string)] = row["rule"].(string)
	}
	got.Dead = int64(len(readTable(t, dir, schemas.TableDeadLetters)))
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(Reference{}), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the core's tables differ from the plain-Go loop's (-loop +core):\n%s", diff)
	}
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, fmt.Sprint(v))
	if err != nil {
		t.Fatal(err)
	}
	return ts.UTC()
}

// readTable reads the live NDJSON rows the core's local sink wrote for table under dir.
func readTable(t *testing.T, dir, table string) []map[string]any {
	t.Helper()
	raw, err := bigquery.ReadFileRows(context.Background(), dir, table)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]map[string]any, 0, len(raw))
	for _, r := range raw {
		var row map[string]any
		if err := json.Unmarshal(r, &row); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		rows = append(rows, row)
	}
	return rows
}
