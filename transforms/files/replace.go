package files

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Replace writes data to location whole, replacing what is there: for files a run rewrites
// under a fixed name (summary.json), where Create's write-once rule does not fit. Readers see
// the old bytes or the new ones, never a mix: a rename locally, an atomic upload on Cloud
// Storage.
func (s *Store) Replace(ctx context.Context, location string, data []byte) error {
	h, err := s.object(location)
	if err != nil {
		return err
	}
	if h != nil {
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		w := h.NewWriter(wctx)
		w.ContentType = contentType(h.ObjectName())
		if _, err := w.Write(data); err != nil {
			cancel()
			w.Close()
			return fmt.Errorf("uploading %s: %w", location, err)
		}
		if err := w.Close(); err != nil {
			return fmt.Errorf("uploading %s: %w", location, err)
		}
		return nil
	}
	dir := filepath.Dir(location)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(location)+"-*")
	if err != nil {
		return fmt.Errorf("creating temporary file for %s: %w", location, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), location); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), location, err)
	}
	syncDir(dir)
	return nil
}
