package bigquery

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// A worker runs a writer per table and bundle thread, all open at once: three tables × four
// writers share at most MaxConnections AppendRows streams (one each without the bound: 12), and
// every row lands in its table.
func TestWritersShareBoundedConnections(t *testing.T) {
	srv := bqtest.Start(t)
	fields, err := schemas.TableSchema(schemas.TableEvents)
	if err != nil {
		t.Fatal(err)
	}
	const tables, writers, rows, limit = 3, 4, 20, 2
	ctx := context.Background()
	var fns []*writeFn
	for i := range tables {
		name := fmt.Sprintf("events_%d", i)
		srv.CreateTable(testProject, testDataset, name, bqtest.WithSchema(fields))
		for range writers {
			cfg := testConfig(srv, name)
			cfg.Schema, cfg.MaxConnections = schemas.TableEvents, limit
			fn := &writeFn{Config: cfg.WithDefaults()}
			if err := fn.Setup(ctx); err != nil {
				t.Fatal(err)
			}
			fns = append(fns, fn)
		}
	}
	emit := func(beam.EventTime, schemas.DeadLetter) {}
	for _, fn := range fns { // every writer has a bundle open before any finishes
		fn.StartBundle(ctx, emit)
		for _, row := range events(rows) {
			if err := fn.ProcessElement(ctx, 0, row, emit); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, fn := range fns {
		if err := fn.FinishBundle(ctx, emit); err != nil {
			t.Fatal(err)
		}
	}
	st := srv.Stats()
	for _, fn := range fns {
		if err := fn.Teardown(); err != nil {
			t.Errorf("Teardown: %v", err)
		}
	}
	if st.MaxOpen == 0 || st.MaxOpen > limit {
		t.Errorf("%d AppendRows streams open at once for %d writers, want 1 to %d", st.MaxOpen, len(fns), limit)
	}
	for i := range tables {
		if got := len(srv.Rows(fmt.Sprintf("events_%d", i))); got != writers*rows {
			t.Errorf("table events_%d: %d rows, want %d", i, got, writers*rows)
		}
	}
	t.Logf("%d writers over %d tables: %d AppendRows streams opened, at most %d at once, %d appends", len(fns), tables, st.Connections, st.MaxOpen, st.Appends)
}
