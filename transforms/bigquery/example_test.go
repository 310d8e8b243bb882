package bigquery_test

import (
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
