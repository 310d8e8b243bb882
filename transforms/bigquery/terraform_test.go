package bigquery

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/internal/gentest"
)

// TestTerraformTablesAreCurrent fails when terraform/modules/bigquery/tables.tf no
// longer matches the layouts (run make generate).
func TestTerraformTablesAreCurrent(t *testing.T) {
	gentest.Check(t, filepath.Join("..", ".."), GeneratedFiles)
}

func TestTerraformInterval(t *testing.T) {
	for d, want := range map[time.Duration]string{10 * time.Minute: "0-0 0 0:10:0", 90 * time.Minute: "0-0 0 1:30:0"} {
		if got := terraformInterval(d); got != want {
			t.Errorf("terraformInterval(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestTerraformTablesRefuse: a layout the generated module cannot express is an error, not a
// table Terraform declares differently from the sink.
func TestTerraformTablesRefuse(t *testing.T) {
	saved := layouts
	t.Cleanup(func() { layouts = saved })
	unpartitioned := saved[0]
	unpartitioned.Partition = ""
	layouts = []Layout{unpartitioned}
	if _, err := GeneratedFiles(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no partition column") {
		t.Errorf("GeneratedFiles with an unpartitioned table: %v, want a partition error", err)
	}
}

func TestHCLString(t *testing.T) {
	for in, want := range map[string]string{`a "b"`: `"a \"b\""`, "${x} %{y}": `"$${x} %%{y}"`} {
		if got := hclString(in); got != want {
			t.Errorf("hclString(%q) = %s, want %s", in, got, want)
		}
	}
}
