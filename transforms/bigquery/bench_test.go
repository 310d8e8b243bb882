package bigquery

import (
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

// benchRows are realistic enriched events and product metrics.
func benchRows(table string, n int) []any {
	rows := make([]any, n)
	for i := range rows {
		switch table {
		case schemas.TableEvents:
			rows[i] = schemas.Event{EventID: fmt.Sprintf("evt-%08d", i), EventType: schemas.Purchase, EventTime: t0.Add(time.Duration(i) * time.Millisecond),
				UserID: fmt.Sprintf("user-%05d", i%5000), SessionHint: "sess-1", ProductID: fmt.Sprintf("sku-%04d", i%200), Quantity: 2,
				Amount: dec("39.98"), Currency: "EUR", Device: schemas.Device{OS: "android", Country: "DE"},
				Attributes: map[string]string{"campaign": "spring", "channel": "app"}, SchemaVersion: 1,
				MessageID: fmt.Sprint(1000000 + i), PublishTime: t0, Category: "books", ListPrice: dec("19.99"), AmountUSD: dec("43.18")}
		default:
			rows[i] = metric(fmt.Sprintf("sku-%04d", i), int64(i%3), int64(i))
		}
	}
	return rows
}

// BenchmarkWrite measures rows/s through the sink's DoFn (JSON walk, proto encoding, real
// managedwriter client, gRPC) into bqtest, which decodes and checks every row in the same
// process: a lower bound for one worker thread.
func BenchmarkWrite(b *testing.B) {
	const bundle = 10000
	for _, bc := range []struct {
		table string
		cdc   bool
	}{{schemas.TableEvents, false}, {schemas.TableProductMetrics, true}} {
		b.Run(bc.table, func(b *testing.B) {
			srv := bqtest.Start(b)
			fields, _ := schemas.TableSchema(bc.table)
			srv.CreateTable(testProject, testDataset, bc.table, bqtest.WithSchema(fields),
				bqtest.WithPrimaryKey(DefaultPrimaryKey(bc.table)...), bqtest.DiscardRows())
			cfg := testConfig(srv, bc.table)
			cfg.CDC = bc.cdc
			rows := benchRows(bc.table, bundle)
			cpu0 := cpuTime()
			for b.Loop() { // a worker's whole life per bundle: Setup's connection is noise next to 10k rows
				if _, err := writeBundles(b, cfg, rows); err != nil {
					b.Fatal(err)
				}
			}
			if got := srv.Stats().RowsAppended; got != b.N*bundle {
				b.Fatalf("rows appended = %d, want %d", got, b.N*bundle)
			}
			b.ReportMetric(float64(b.N*bundle)/b.Elapsed().Seconds(), "rows/s")
			// Per CPU second of the whole process (sink and server): steadier than rows/s on a
			// shared machine, and a lower bound for the sink alone.
			b.ReportMetric(float64(b.N*bundle)/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
		})
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkEncode measures the row encoding alone (JSON walk to proto).
func BenchmarkEncode(b *testing.B) {
	fields, _ := schemas.TableSchema(schemas.TableEvents)
	c, err := newRowCodec(schemas.TableEvents, fields, false, changeOrder{})
	if err != nil {
		b.Fatal(err)
	}
	row := []byte(jsonOf(b, benchRows(schemas.TableEvents, 1)[0]))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.encode(row); err != nil {
			b.Fatal(err)
		}
	}
}
