package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/enrich"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// TestReferenceLoopMatchesCore runs the core on Prism and the plain-Go loop on the same burst
// and compares the events table: the same event ids survive decode, dedup and enrich.
func TestReferenceLoopMatchesCore(t *testing.T) {
	o, err := DefaultOptions(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	o.ProductCatalog, o.CurrencyRates = "../../testdata/reference/products.csv", "../../testdata/reference/currency_rates.csv"
	gen := Spec{Mode: Burst, Events: 3000, Seed: 7}.Generator(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC))
	p, s := beam.NewPipelineWithRoot()
	streaming.Core(s, Source(s, gen), streaming.Config{Options: o})
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	paths, err := filepath.Glob(filepath.Join(o.OutputDirectory, "bq", schemas.TableEvents, "dt=*", "hr=*", "part-*.json"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no events files: %v", err)
	}
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var row struct {
				EventID string `json:"event_id"`
			}
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				t.Fatal(err)
			}
			got[row.EventID] = true
		}
		f.Close()
	}
	ref, err := enrich.LoadReference(context.Background(), o.ProductCatalog, o.CurrencyRates)
	if err != nil {
		t.Fatal(err)
	}
	want := ReferenceLoop(Messages(gen), ref, o.WindowDuration, o.SessionGap, o.FraudVelocityWindow, int(o.FraudVelocityCount))
	if len(want.Events) < 2800 {
		t.Fatalf("the plain-Go loop kept %d events of 3000, want most", len(want.Events))
	}
	if diff := cmp.Diff(want.Events, got); diff != "" {
		t.Errorf("events table differs from the plain-Go loop (-loop +core):\n%s", diff)
	}
}
