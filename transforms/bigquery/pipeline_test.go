package bigquery

import (
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.Function1x1[schemas.DeadLetter, string](describeDeadLetter)
}

func describeDeadLetter(d schemas.DeadLetter) string {
	return d.Step + " " + d.Reason + " " + string(d.Payload)
}

// TestWritePipeline runs the sink on Prism: good rows land once each, the refused one comes
// out as a dead letter, and the counters add up.
func TestWritePipeline(t *testing.T) {
	srv := bqtest.Start(t)
	serverTable(t, srv, schemas.TableEvents)
	srv.RejectRows(schemas.TableEvents, func(r bqtest.Row) bool { return r["product_id"] == "bad" })
	rows := []schemas.Event{event("e1", "p1"), event("e2", "bad"), event("e3", "p2"), event("e4", "p3")}

	p, s := beam.NewPipelineWithRoot()
	cfg := testConfig(srv, schemas.TableEvents)
	cfg.MaxBatchRows = 2
	dead := Write(s, beam.CreateList(s, rows), cfg)
	passert.Equals(s, beam.ParDo(s, describeDeadLetter, dead), "bigquery.events "+ReasonRowError+" "+jsonOf(t, rows[1]))
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}

	var ids []string
	for _, r := range srv.Rows(schemas.TableEvents) {
		ids = append(ids, r["event_id"].(string))
	}
	if diff := cmp.Diff([]string{"e1", "e3", "e4"}, ids, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("rows written (-want +got):\n%s", diff)
	}
	got := telemetry.FromPipeline(pr)
	want := map[string]int64{
		"bigquery.events.rows": 3, "events.out": 3, "bigquery.events.row_errors": 1, "deadletter." + ReasonRowError: 1,
	}
	for name, n := range want {
		if got.Counters[name] != n {
			t.Errorf("counter %s = %d, want %d", name, got.Counters[name], n)
		}
	}
	if d := got.Distributions["bigquery.append_latency_ms"]; d.Count == 0 {
		t.Errorf("bigquery.append_latency_ms recorded nothing")
	}
}

// TestWriteUpsertPipeline writes two panes of one window and product on Prism, the later pane
// first: the table holds the later one.
func TestWriteUpsertPipeline(t *testing.T) {
	srv := bqtest.Start(t)
	serverTable(t, srv, schemas.TableProductMetrics, DefaultPrimaryKey(schemas.TableProductMetrics)...)
	p, s := beam.NewPipelineWithRoot()
	cfg := testConfig(srv, schemas.TableProductMetrics)
	cfg.CDC = true
	rows := []schemas.ProductMetric{metric("p1", 1, 3), metric("p1", 0, 1), metric("p2", 0, 7)}
	dead := Write(s, beam.CreateList(s, rows), cfg)
	passert.Empty(s, dead)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, r := range srv.Rows(schemas.TableProductMetrics) {
		got[r["product_id"].(string)] = r["views"].(int64)
	}
	if diff := cmp.Diff(map[string]int64{"p1": 3, "p2": 7}, got); diff != "" {
		t.Errorf("views by product (-want +got):\n%s", diff)
	}
}
