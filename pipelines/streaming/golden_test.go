package streaming

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from this run")

// goldenTables are the analytic tables whose rows depend only on the generated events.
var goldenTables = []string{schemas.TableProductMetrics, schemas.TableTrendingProducts, schemas.TableUserSessions, schemas.TableFraudAlerts}

// TestGoldenLocalRun runs local mode's path (the generator into the in-process Pub/Sub, the whole
// pipeline on Prism) with a fixed seed and start, and compares the analytic tables with
// testdata/golden. Run `go test ./pipelines/streaming -run Golden -update-golden` after an intended
// change and review the diff.
func TestGoldenLocalRun(t *testing.T) {
	src, o := goldenTraffic(t)
	o.OutputDirectory = t.TempDir()
	if err := ptest.Run(pipelineOf(t, Config{Options: o, PubsubEndpoint: src.Server.Addr})); err != nil {
		t.Fatal(err)
	}
	for _, table := range goldenTables {
		got := canonicalRows(t, readRows[map[string]any](t, o.OutputDirectory, table))
		path := filepath.Join("..", "..", "testdata", "golden", table+".json")
		if *updateGolden {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			mustWrite(t, path, string(got))
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-golden to create it)", err)
		}
		var w, g []map[string]any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s differs from %s (-want +got):\n%s", table, path, diff)
		}
	}
}

// canonicalRows renders rows as an indented JSON array in a stable order.
func canonicalRows(t *testing.T, rows []map[string]any) []byte {
	t.Helper()
	keyed := make([]string, len(rows))
	for i, r := range rows {
		b, err := json.Marshal(r) // map keys are sorted
		if err != nil {
			t.Fatal(err)
		}
		keyed[i] = string(b)
	}
	slices.Sort(keyed)
	out := []byte("[\n")
	for i, k := range keyed {
		out = append(out, "  "...)
		out = append(out, k...)
		if i < len(keyed)-1 {
			out = append(out, ',')
		}
		out = append(out, '\n')
	}
	return append(out, "]\n"...)
}
