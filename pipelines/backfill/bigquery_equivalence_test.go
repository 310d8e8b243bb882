package backfill

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/pipelines/streaming/local"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// The bqtest project and dataset the BigQuery equivalence test writes.
const bqEquivProject, bqEquivDataset = "tributary-test", "analytics"

// bqFinal is one table's live rows in bqtest, by primary key: the compared columns of the row
// and the class (first section of _CHANGE_SEQUENCE_NUMBER) of the change that holds it.
type bqFinal struct {
	rows    map[string]map[string]any
	classes map[string]int64
}

// bqFinalRows reads table from bq: every live row (CDC has applied upserts, the DELETEs of
// superseded sessions and the sequence order) whose membership column is in [from, to).
func bqFinalRows(t *testing.T, bq *bqtest.Server, table string, from, to time.Time) bqFinal {
	t.Helper()
	layout, _ := bigquery.LayoutOf(table)
	cols := compared(t, table)
	rows, seqs := bq.RowsWithSequences(bqtest.TableName(bqEquivProject, bqEquivDataset, table))
	out := bqFinal{rows: map[string]map[string]any{}, classes: map[string]int64{}}
	for i, r := range rows {
		member, ok := r[layout.Member].(time.Time)
		if !ok {
			t.Fatalf("%s: %s is %T %v, want a TIMESTAMP", table, layout.Member, r[layout.Member], r[layout.Member])
		}
		if member.Before(from) || !member.Before(to) {
			continue
		}
		var key []string
		for _, k := range layout.PrimaryKey {
			key = append(key, fmt.Sprint(r[k]))
		}
		k := strings.Join(key, "|")
		if _, dup := out.rows[k]; dup {
			t.Errorf("%s: two live rows of key %s: CDC did not apply", table, k)
		}
		kept := map[string]any{}
		for _, c := range cols {
			if v, ok := r[c]; ok {
				kept[c] = v
			}
		}
		out.rows[k] = kept
		class, _, _ := strings.Cut(seqs[i], "/")
		out.classes[k], _ = strconv.ParseInt(class, 16, 64)
		if seqs[i] == "" {
			out.classes[k] = -1 // appended, not a CDC change
		}
	}
	return out
}

// startBigQueryTables starts bqtest with every table the pipelines write, each with its schema
// and primary key, as Terraform declares them.
func startBigQueryTables(t *testing.T) *bqtest.Server {
	t.Helper()
	bq := bqtest.Start(t)
	for _, table := range tables {
		fields, err := schemas.TableSchema(table)
		if err != nil {
			t.Fatal(err)
		}
		bq.CreateTable(bqEquivProject, bqEquivDataset, table, bqtest.WithSchema(fields), bqtest.WithPrimaryKey(bigquery.DefaultPrimaryKey(table)...))
	}
	return bq
}

// TestBackfillEqualsStreamingInBigQuery is TestBackfillEqualsStreaming through the real
// managedwriter into the in-process BigQuery: generated events (duplicates, malformed, payload-
// late, session gaps, purchase bursts) go through local mode's in-process Pub/Sub into the
// streaming pipeline, which writes the six tables as CDC upserts; the backfill of the whole
// range then writes into the same tables. After it, the live row of every key equals the
// streaming run's (the same compared columns as the NDJSON test), and every one of them is the
// backfill's change: its sequence class orders after the streaming rows, so it replaced them.
func TestBackfillEqualsStreamingInBigQuery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the streaming pipeline and a backfill on Prism")
	}
	ctx := context.Background()
	src, err := local.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	bq := startBigQueryTables(t)

	const n = 400
	interval := time.Second
	now := time.Now().UTC()
	gen := generate.Config{Count: n, Users: 15, Seed: 12, MalformedFraction: 0.04, DuplicateFraction: 0.04,
		LateFraction: 0.03, LateBy: 3 * time.Second, // payload-late, still within --maxOutOfOrderness
		Start: now.Add(-n * interval), Interval: interval}
	msgs := generated(gen)
	publish(t, src.Server.Addr, src.Topic, msgs)
	copies := eventCopies(msgs)

	core := equivalenceCore(t, time.Minute)
	core.OutputDataset = bqEquivProject + ":" + bqEquivDataset
	core.BigQueryEndpoint, core.BigQueryInsecure = bq.Addr(), true
	dir := t.TempDir()
	archived := filepath.Join(dir, "streaming") // the archive (the source's WAL)
	ss := streamFrom(t, core, src.Server.Addr, src.Subscription, archived, n)
	cfg := backfillConfig(t, backfillOf(t, core, archived, filepath.Join(dir, "backfill"), gen.Start.Add(-time.Minute), now))

	streamed := map[string]bqFinal{}
	for _, table := range tables {
		streamed[table] = bqFinalRows(t, bq, table, cfg.From, cfg.To)
		for k, c := range streamed[table].classes {
			if c < 0 || c >= bigquery.SequenceBackfill {
				t.Fatalf("%s: streaming row %s has change class %d, want a streaming class below %d", table, k, c, bigquery.SequenceBackfill)
			}
		}
	}

	bs := runBackfill(t, cfg)
	t.Logf("streaming: %d read, %.0f events/s; backfill: %d replayed in %v, %.0f events/s",
		ss.Counters["pubsub.out"], ss.EventsPerSecond(), bs.Counters[streaming.ReplayCounter],
		bs.Elapsed.Round(time.Millisecond), bs.EventsPerSecond())

	for _, table := range tables {
		want, got := streamed[table], bqFinalRows(t, bq, table, cfg.From, cfg.To)
		if table == schemas.TableEvents {
			blankKeptCopy(want.rows, copies)
			blankKeptCopy(got.rows, copies)
		}
		t.Logf("%s: %d keys", table, len(want.rows))
		if len(want.rows) == 0 && table != schemas.TableFraudAlerts {
			t.Errorf("%s: the streaming run wrote no rows; the comparison proves nothing", table)
		}
		if diff := cmp.Diff(want.rows, got.rows); diff != "" {
			t.Errorf("%s: after the backfill the table differs from the streaming run (-streaming +after backfill):\n%s", table, diff)
		}
		// Every key holds the backfill's change: its sequence ordered after the streaming row's.
		var notReplaced []string
		for k, c := range got.classes {
			if c != bigquery.SequenceBackfill {
				notReplaced = append(notReplaced, fmt.Sprintf("%s (class %d)", k, c))
			}
		}
		if len(notReplaced) > 0 {
			t.Errorf("%s: %d of %d keys still hold a change that is not the backfill's, e.g. %s", table, len(notReplaced), len(got.classes), notReplaced[0])
		}
	}
	// The dead letters carry the run that wrote them: the backfill's, in its own column (not in the key).
	dead, _ := bq.RowsWithSequences(bqtest.TableName(bqEquivProject, bqEquivDataset, schemas.TableDeadLetters))
	for _, r := range dead {
		if r["run_id"] != cfg.RunID {
			t.Errorf("dead letter %v: run_id %v, want the backfill's %s", r["dead_letter_id"], r["run_id"], cfg.RunID)
			break
		}
	}
}
