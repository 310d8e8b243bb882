// Package files writes Tributary's file outputs to a local directory or Cloud Storage (gs://):
// windowed, sharded files of lines for any stream (Write), the raw archive that backfills replay
// (WriteArchive), and the atomic file writes every local sink uses (WriteAtomic).
//
// Every file appears whole or not at all, under a name fixed by its window, shard and pane, and
// is created only if the name is free: on Cloud Storage with a DoesNotExist precondition (an
// upload is atomic), locally with a synced temporary file hard-linked into place. A retried
// bundle writes the same bytes (lines are sorted), finds its file and checks it is identical.
package files

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// WriteAtomic writes data to path so that path never holds a partial file: the bytes go to a
// temporary file in the same directory, are synced, and are renamed into place. A retried
// bundle that writes the same content to the same path leaves one identical file.
func WriteAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}

// ContentName returns a file name derived from the content, so a retried bundle with the same
// rows writes the same file instead of a duplicate.
func ContentName(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
