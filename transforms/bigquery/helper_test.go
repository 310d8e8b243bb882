package bigquery

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
)

func TestMain(m *testing.M) { ptest.Main(m) }

const (
	testProject = "test-project"
	testDataset = "tributary"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 123456789, time.UTC)

// testConfig points the sink at srv, with backoffs short enough for tests.
func testConfig(srv *bqtest.Server, table string) Config {
	return Config{
		Project: testProject, Dataset: testDataset, Table: table,
		Endpoint: srv.Addr(), Insecure: true, RESTEndpoint: srv.RESTEndpoint(),
		InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	}
}

// serverTable creates table on srv with its schema from schemas/bigquery, as Terraform would.
func serverTable(t testing.TB, srv *bqtest.Server, table string, primaryKey ...string) {
	t.Helper()
	fields, err := schemas.TableSchema(table)
	if err != nil {
		t.Fatal(err)
	}
	srv.CreateTable(testProject, testDataset, table, bqtest.WithSchema(fields), bqtest.WithPrimaryKey(primaryKey...))
}

// writeBundles drives the sink's DoFn directly through bundles of rows, as a runner would, and
// returns the dead letters it emitted.
func writeBundles(t testing.TB, cfg Config, bundles ...[]any) ([]schemas.DeadLetter, error) {
	t.Helper()
	fn := &writeFn{Config: cfg.WithDefaults()}
	ctx := context.Background()
	if err := fn.Setup(ctx); err != nil {
		return nil, err
	}
	defer func() {
		if err := fn.Teardown(); err != nil {
			t.Errorf("Teardown: %v", err)
		}
	}()
	var dead []schemas.DeadLetter
	emit := func(_ beam.EventTime, d schemas.DeadLetter) { dead = append(dead, d) }
	for _, rows := range bundles {
		fn.StartBundle(ctx, emit)
		for _, row := range rows {
			if err := fn.ProcessElement(ctx, beam.EventTime(0), row, emit); err != nil {
				return dead, err
			}
		}
		if err := fn.FinishBundle(ctx, emit); err != nil {
			return dead, err
		}
	}
	return dead, nil
}

// letter is the part of a dead letter the tests compare.
type letter struct {
	Step, Reason, Payload string
}

func letters(dead []schemas.DeadLetter) []letter {
	var out []letter
	for _, d := range dead {
		out = append(out, letter{d.Step, d.Reason, string(d.Payload)})
	}
	return out
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func dec(s string) schemas.Decimal {
	d, err := schemas.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func event(id, product string) schemas.Event {
	return schemas.Event{EventID: id, EventType: schemas.PageView, EventTime: t0, UserID: "u1", ProductID: product,
		Currency: "USD", SchemaVersion: 1}
}

func events(n int) []any {
	rows := make([]any, n)
	for i := range rows {
		rows[i] = event(fmt.Sprintf("e%04d", i), "p1")
	}
	return rows
}

func metric(product string, pane int64, views int64) schemas.ProductMetric {
	return schemas.ProductMetric{
		Pane: schemas.Pane{WindowStart: t0.Truncate(time.Minute), WindowEnd: t0.Truncate(time.Minute).Add(time.Minute),
			PaneIndex: pane, PaneTiming: schemas.PaneEarly},
		ProductID: product, Category: "books", Views: views, RevenueUSD: schemas.NumericOf(dec("1.5")),
	}
}
