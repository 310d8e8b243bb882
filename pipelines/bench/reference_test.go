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
// product_metrics (each window and product's last pane), trending_products (each window's last
// pane's ranking: ranks, products, categories, purchases, revenue), user_sessions (each user's
// final rows), fraud_alerts (alert ids) and dead_letters (the count).
func compareTables(t *testing.T, o streaming.Options, gen generate.Config) {
	t.Helper()
	ref, err := enrich.LoadReference(context.Background(), o.ProductCatalog, o.CurrencyRates)
	if err != nil {
		t.Fatal(err)
	}
	want := ReferenceLoop(Messages(gen), ref, LoopConfigOf(o))
	if n := int(gen.Count); len(want.Events) < n*9/10 || len(want.Metrics) == 0 || len(want.Trending) == 0 ||
		len(want.Sessions) == 0 || len(want.Alerts) == 0 {
		t.Fatalf("the plain-Go loop kept %d events, %d product windows, %d trending windows, %d users, %d alerts of %d events, want most and some",
			len(want.Events), len(want.Metrics), len(want.Trending), len(want.Sessions), len(want.Alerts), n)
	}
	dir := o.OutputDirectory
	got := Reference{Events: map[string]bool{}, Metrics: map[MetricKey]ProductTotal{}, Sessions: map[string][]SessionTotal{},
		Alerts: map[string]string{}, Trending: map[time.Time][]schemas.RankedProduct{}}
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
	trendingPane := map[time.Time]int64{}
	for _, raw := range readRaw(t, dir, schemas.TableTrendingProducts) {
		var row schemas.TrendingProducts
		if err := json.Unmarshal(raw, &row); err != nil {
			t.Fatalf("%s: %v", schemas.TableTrendingProducts, err)
		}
		k := row.WindowStart.UTC()
		if _, ok := got.Trending[k]; !ok || row.PaneIndex >= trendingPane[k] {
			trendingPane[k], got.Trending[k] = row.PaneIndex, row.Ranking
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

// readRaw reads the live NDJSON rows the core's local sink wrote for table under dir.
func readRaw(t *testing.T, dir, table string) []json.RawMessage {
	t.Helper()
	raw, err := bigquery.ReadFileRows(context.Background(), dir, table)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// readTable reads table's rows (readRaw) as JSON objects.
func readTable(t *testing.T, dir, table string) []map[string]any {
	t.Helper()
	raw := readRaw(t, dir, table)
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
