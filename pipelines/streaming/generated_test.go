package streaming

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/tributary-dev/tributary/internal/gentest"
)

// TestGeneratedFilesAreCurrent fails when a file generated from Options
// (metadata.json, the README table, the Terraform variables) no longer
// matches what cmd/gendocs would write.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	gentest.Check(t, filepath.Join("..", ".."), GeneratedFiles)
}

// TestTerraformVariablesDoNotCollide guards the one mistake terraform fmt
// cannot see and terraform validate (which needs providers) would: a new
// option whose generated variable has the name of a hand-written one.
func TestTerraformVariablesDoNotCollide(t *testing.T) {
	dir := filepath.Join("..", "..", "terraform", "modules", "dataflow_streaming")
	tfFiles, err := filepath.Glob(filepath.Join(dir, "*.tf"))
	if err != nil || len(tfFiles) == 0 {
		t.Fatalf("no .tf files in %s: %v", dir, err)
	}
	declared := map[string]string{}
	variable := regexp.MustCompile(`(?m)^variable "([^"]+)"`)
	for _, f := range tfFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range variable.FindAllSubmatch(b, -1) {
			name := string(m[1])
			if other, dup := declared[name]; dup {
				t.Errorf("variable %q is declared in both %s and %s", name, filepath.Base(other), filepath.Base(f))
			}
			declared[name] = f
		}
	}
}
