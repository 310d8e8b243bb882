package streaming

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGeneratedFilesAreCurrent fails when a file generated from Options
// (metadata.json, the README table, the Terraform variables) no longer
// matches what cmd/gendocs would write.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..")
	files, err := GeneratedFiles(root)
	if err != nil {
		t.Fatalf("GeneratedFiles: %v", err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		got, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is missing; run make generate", rel)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, files[p]) {
			diff := cmp.Diff(strings.Split(string(got), "\n"), strings.Split(string(files[p]), "\n"))
			t.Errorf("%s is stale; run make generate (-on disk +wanted):\n%s", rel, diff)
		}
	}
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
