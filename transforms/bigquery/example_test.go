package bigquery_test

import (
	"context"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/deadletter"
)

// Events go to the events table on the default stream, product metrics are upserted by
// (window_start, product_id), and whatever BigQuery refuses joins the other dead letters, which
// deadletter.Route sends to the dead_letters table (and what that refuses onwards).
func ExampleWrite() {
	p, s := beam.NewPipelineWithRoot()
	// From the earlier steps: schemas.Event, schemas.ProductMetric and schemas.DeadLetter.
	var events, metrics, decodeDead beam.PCollection
	_ = p

	table := func(name string, cdc bool) bigquery.Config {
		return bigquery.Config{Project: "my-project", Dataset: "tributary", Table: name, CDC: cdc}
	}
	eventsDead := bigquery.Write(s, events, table(schemas.TableEvents, false))
	metricsDead := bigquery.Write(s, metrics, table(schemas.TableProductMetrics, true))
	deadletter.Route(s, deadletter.Sinks{Table: func(s beam.Scope, dead beam.PCollection) beam.PCollection {
		return bigquery.Write(s, deadletter.Rows(s, dead), table(schemas.TableDeadLetters, false))
	}}, decodeDead, eventsDead, metricsDead)
}

// A backfill of 2026-11-01 writes the events table of that day as a new generation: its rows
// replace the day's rows, hour by hour, once every file is written. Readers follow the
// manifests it leaves.
func ExampleWriteFiles_backfill() {
	p, s := beam.NewPipelineWithRoot()
	var events beam.PCollection // schemas.Event, from the replay
	_ = p

	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	bigquery.WriteFiles(s, events, bigquery.FilesConfig{Directory: "gs://my-bucket/tributary",
		Table: schemas.TableEvents, RunID: "backfill-20261102", Replace: &bigquery.Range{From: day, To: day.AddDate(0, 0, 1)}})
}

// The live rows of a table, by the reader rule: what a backfill replaced is gone.
func ExampleReadFileRows() {
	rows, err := bigquery.ReadFileRows(context.Background(), "out", schemas.TableEvents)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(rows), "events")
}
