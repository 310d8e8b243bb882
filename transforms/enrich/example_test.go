package enrich_test

import (
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/enrich"
)

func ExampleEnrich() {
	p, s := beam.NewPipelineWithRoot()
	events := beam.CreateList(s, []schemas.Event{{EventID: "e1", EventType: schemas.PageView, UserID: "u1"}})
	enriched := enrich.Enrich(s, events, enrich.Config{
		ProductCatalog:  "gs://my-bucket/reference/products.csv", // or a local path
		CurrencyRates:   "gs://my-bucket/reference/currency_rates.csv",
		RefreshInterval: 30 * time.Minute,
	})
	_, _ = p, enriched.Events // enriched.DeadLetters: events whose USD amount is out of range
}
