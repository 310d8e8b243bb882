package bench

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/schemas"
)

// TestBurstDrains is the guard of the burst stall: no input may stop the job. A burst of
// 20,000 events (two source rounds; one round never split) through the core on Prism must
// drain, every table written, before a generous deadline. With Prism's dynamic splits on
// (Spec.PrismSplits), Prism split bundles of the stateful stages that carried timers
// ("Unexpected split on a bundle with timers", apache/beam#35771) and, in 2 of 2 runs at this
// size, the SDK's bundles then waited for input that never came while Prism spun in
// stage.Execute: the job never finished. The deadline bounds a stall, not the speed.
func TestBurstDrains(t *testing.T) {
	o, err := DefaultOptions(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.ProductCatalog, o.CurrencyRates = "../../testdata/reference/products.csv", "../../testdata/reference/currency_rates.csv"
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	const n = 20_000
	r, err := RunCore(ctx, Spec{Mode: Burst, Events: n, Seed: 1}, o)
	if err != nil {
		t.Fatalf("the burst did not drain within the deadline: %v", err)
	}
	// Rows, not counters: Prism can report counters short under load (README).
	if got := len(readTable(t, o.OutputDirectory, schemas.TableEvents)); got < n*9/10 {
		t.Errorf("events table: %d rows of %d events, want most", got, n)
	}
	for _, table := range []string{schemas.TableUserSessions, schemas.TableProductMetrics} {
		if len(readTable(t, o.OutputDirectory, table)) == 0 {
			t.Errorf("%s: no rows after the drain", table)
		}
	}
	t.Logf("%v", r)
}
