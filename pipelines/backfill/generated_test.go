package backfill

import (
	"path/filepath"
	"testing"

	"github.com/tributary-dev/tributary/internal/gentest"
)

// TestGeneratedFilesAreCurrent fails when a file generated from Options (templates/backfill/
// metadata.json, README's backfill table, the scheduler module's variables) no longer matches
// what cmd/gendocs would write.
func TestGeneratedFilesAreCurrent(t *testing.T) {
	if files := gentest.Check(t, filepath.Join("..", ".."), GeneratedFiles); len(files) != 3 {
		t.Errorf("%d generated files, want metadata, Terraform variables and README", len(files))
	}
}
