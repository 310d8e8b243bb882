package backfill

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestGeneratedFilesAreCurrent fails when a file generated from Options (templates/backfill/
// metadata.json, README's backfill table, the scheduler module's variables) no longer matches
// what cmd/gendocs would write.
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
	if len(paths) != 3 {
		t.Errorf("generated files %v, want metadata, Terraform variables and README", paths)
	}
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		got, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("%s: %v; run make generate", rel, err)
			continue
		}
		if !bytes.Equal(got, files[p]) {
			diff := cmp.Diff(strings.Split(string(got), "\n"), strings.Split(string(files[p]), "\n"))
			t.Errorf("%s is stale; run make generate (-on disk +wanted):\n%s", rel, diff)
		}
	}
}
