package bigquery_test

import (
	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/deadletter"
)

// Events go to the events table on the default stream, product metrics are upserted by
// (window_start, product_id), and whatever BigQuery refuses joins the other dead letters on
// their way to the dead_letters table and a Pub/Sub topic.
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
	dead := beam.Flatten(s, decodeDead, eventsDead, metricsDead)

	// A dead_letters row BigQuery refuses still reaches the topic.
	dlCfg := table(schemas.TableDeadLetters, false)
	tableDead := bigquery.Write(s, deadletter.Rows(s, dead), dlCfg)
	bigquery.PublishDeadLetters(s, beam.Flatten(s, dead, tableDead),
		bigquery.DeadLetterTopicConfig{Topic: "projects/my-project/topics/tributary-dead-letters"})
}
