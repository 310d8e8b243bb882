package enrich

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/schemas"
)

// BenchmarkApply is enrichment's per-event work: a catalog look-up and a currency conversion.
func BenchmarkApply(b *testing.B) {
	ref, err := LoadReference(context.Background(), "../../internal/sample/data/products.csv", "../../internal/sample/data/currency_rates.csv")
	if err != nil {
		b.Fatal(err)
	}
	amount, err := schemas.ParseDecimal("19.99")
	if err != nil {
		b.Fatal(err)
	}
	e := schemas.Event{EventID: "e-1", EventType: schemas.Purchase, EventTime: time.Unix(0, 0), UserID: "u-1",
		ProductID: "p-0042", Quantity: 1, Amount: amount, Currency: "EUR"}
	b.ReportAllocs()
	for b.Loop() {
		x := e
		ref.Apply(&x)
	}
}
