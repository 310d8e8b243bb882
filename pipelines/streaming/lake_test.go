package streaming

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

// TestTablesToCloudStorage runs the lake mode, --outputDirectory=gs://… without --outputDataset,
// on local mode's path (the generator into the in-process Pub/Sub, the whole pipeline on Prism)
// against fake-gcs-server: every table lands in the bucket as bq/<table>/dt=…/hr=…/part-<hash>.json, every
// line of every file loads into the table's schema from schemas/bigquery (names, types, modes),
// and product_metrics and trending_products are the golden ones, so the files hold what a
// local run writes.
func TestTablesToCloudStorage(t *testing.T) {
	gcs := startGCS(t)
	// The golden run's traffic, so the analytic tables can be compared with testdata/golden.
	src, o := goldenTraffic(t)
	o.OutputDirectory = "gs://lake/tributary"
	// The golden traffic raises no alert at the default thresholds; these make fraud_alerts
	// hold rows to check (and leave the other tables as they are).
	o.FraudAnomalyMultiplier, o.FraudAnomalyMinPurchases = 1, 1
	run(t, Config{Options: o, PubsubEndpoint: src.Server.Addr})

	objs, _, err := gcs.ListObjectsWithOptions("lake", fakestorage.ListOptions{Prefix: "tributary/bq/"})
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^tributary/bq/([a-z_]+)/dt=[0-9]{4}-[0-9]{2}-[0-9]{2}/hr=[0-9]{2}/part-[0-9a-f]{16}\.json$`)
	rows := map[string][]map[string]any{}
	for _, obj := range objs {
		m := name.FindStringSubmatch(obj.Name)
		if m == nil {
			t.Errorf("object %s is not a table file", obj.Name)
			continue
		}
		table := m[1]
		fields, err := schemas.TableSchema(table)
		if err != nil {
			t.Errorf("object %s: %v", obj.Name, err)
			continue
		}
		stored, err := gcs.GetObject("lake", obj.Name)
		if err != nil {
			t.Fatal(err)
		}
		if data := stored.Content; len(data) == 0 || data[len(data)-1] != '\n' {
			t.Errorf("%s does not end in a newline", obj.Name)
		}
		sc := bufio.NewScanner(bytes.NewReader(stored.Content))
		sc.Buffer(nil, 16<<20)
		for n := 1; sc.Scan(); n++ {
			for _, problem := range schemas.LoadProblems(fields, sc.Bytes()) {
				t.Errorf("%s line %d: %s", obj.Name, n, problem)
			}
			var r map[string]any
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s line %d: %v", obj.Name, n, err)
			}
			rows[table] = append(rows[table], r)
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", obj.Name, err)
		}
	}
	for _, table := range allTables {
		if len(rows[table]) == 0 {
			t.Errorf("no rows of %s in the bucket", table)
		}
	}
	if _, err := os.Stat("gs:"); err == nil {
		t.Error(`the tables went to a local folder named "gs:"`)
		os.RemoveAll("gs:")
	}

	// fraud_alerts has other thresholds here; user_sessions is left out because under load a
	// late event sometimes misses its session (the watermark's idle advance, issue 8 items 1-3),
	// which is not this sink's doing.
	for _, table := range []string{schemas.TableProductMetrics, schemas.TableTrendingProducts} {
		want, err := os.ReadFile(filepath.Join("..", "..", "testdata", "golden", table+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var w, g []map[string]any
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(canonicalRows(t, rows[table]), &g); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("%s in the bucket differs from testdata/golden (-want +got):\n%s", table, diff)
		}
	}
}
