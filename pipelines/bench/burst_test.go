package bench

import (
	"context"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// TestBurstDrains is the guard of the burst stall (no input may stop the job) and the check
// that the plain-Go loop does the core's work. A burst of 20,000 events (two source rounds; a
// run of one round was never split) through the core on Prism, as cmd/bench runs it, must
// drain before a generous deadline, and then give every table the loop computes
// (compareTables). With Prism's dynamic splits on (Spec.PrismSplits), Prism split bundles of the
// stateful stages that carried timers ("Unexpected split on a bundle with timers",
// apache/beam#35771) and, in 2 of 2 runs at this size, the SDK's bundles then waited for input
// that never came while Prism spun in stage.Execute: the job never finished. The deadline
// bounds a stall, not the speed.
func TestBurstDrains(t *testing.T) {
	o, err := DefaultOptions(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.ProductCatalog, o.CurrencyRates = "../../internal/sample/data/products.csv", "../../internal/sample/data/currency_rates.csv"
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	sp := Spec{Mode: Burst, Events: 20_000, Seed: 7, Start: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	r, err := RunCore(ctx, sp, o)
	if err != nil {
		t.Fatalf("the burst did not drain within the deadline: %v", err)
	}
	t.Logf("%v", r)
	compareTables(t, o, sp.Generator(sp.Start))
}
