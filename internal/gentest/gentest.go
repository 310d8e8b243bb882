// Package gentest holds the one stale-file check of generated files, imported only from tests:
// every generator (cmd/gendocs) exposes GeneratedFiles(root), and its package's test compares
// them with what is on disk.
package gentest

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Check runs a generator's GeneratedFiles over the repository root, fails t if it fails, checks
// its files with Current and returns them.
func Check(t testing.TB, root string, generatedFiles func(root string) (map[string][]byte, error)) map[string][]byte {
	t.Helper()
	files, err := generatedFiles(root)
	if err != nil {
		t.Fatalf("GeneratedFiles: %v", err)
	}
	Current(t, root, files)
	return files
}

// Current fails t for every file of generated (path under root → wanted content) that is
// missing or differs on disk, naming the file, the fix (make generate) and the diff.
func Current(t testing.TB, root string, generated map[string][]byte) {
	t.Helper()
	paths := make([]string, 0, len(generated))
	for p := range generated {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	for _, p := range paths {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			rel = p
		}
		got, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is missing; run make generate", rel)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, generated[p]) {
			diff := cmp.Diff(strings.Split(string(got), "\n"), strings.Split(string(generated[p]), "\n"))
			t.Errorf("%s is stale; run make generate (-on disk +wanted):\n%s", rel, diff)
		}
	}
}
