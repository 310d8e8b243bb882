package bigquery

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestTerraformTablesAreCurrent fails when terraform/modules/bigquery/tables.tf no
// longer matches the layouts (run make generate).
func TestTerraformTablesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := GeneratedFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range files {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatalf("%v; run make generate", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale; run make generate (-on disk +wanted):\n%s", p,
				cmp.Diff(strings.Split(string(got), "\n"), strings.Split(string(want), "\n")))
		}
	}
	// No hand-written resource of the module declares a table the generated file declares.
	main, err := os.ReadFile(filepath.Join(root, "terraform/modules/bigquery/main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(main, []byte(`resource "google_bigquery_table"`)) {
		t.Error("main.tf declares a google_bigquery_table; tables come from tables.tf")
	}
}

func TestTerraformInterval(t *testing.T) {
	for d, want := range map[time.Duration]string{10 * time.Minute: "0-0 0 0:10:0", 90 * time.Minute: "0-0 0 1:30:0"} {
		if got := terraformInterval(d); got != want {
			t.Errorf("terraformInterval(%v) = %q, want %q", d, got, want)
		}
	}
}
