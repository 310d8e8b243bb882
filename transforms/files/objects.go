package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"cloud.google.com/go/storage"
)

// owns refuses a location on the other side (gs:// or local) of the store's prefix.
func (s *Store) owns(location string) error {
	if isGCS(location) != isGCS(s.prefix) {
		return fmt.Errorf("%s: not in the store of %s", location, s.prefix)
	}
	return nil
}

// object returns the Cloud Storage object at location, or nil in a local store.
func (s *Store) object(location string) (*storage.ObjectHandle, error) {
	if err := s.owns(location); err != nil {
		return nil, err
	}
	g, ok := s.st.(*gcsStore)
	if !ok {
		return nil, nil
	}
	bucket, name, err := splitGCS(location)
	if err != nil {
		return nil, err
	}
	return g.client.Bucket(bucket).Object(name), nil
}

// Open returns a reader of the file at location (on the store's side). Close it. A missing
// file is an error that wraps fs.ErrNotExist, on Cloud Storage as locally.
func (s *Store) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	h, err := s.object(location)
	if err != nil {
		return nil, err
	}
	if h == nil {
		f, err := os.Open(location)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", location, err)
		}
		return f, nil
	}
	// The stores write no Content-Encoding, so Cloud Storage serves the bytes as written.
	r, err := h.NewReader(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, fmt.Errorf("opening %s: %w", location, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", location, err)
	}
	return r, nil
}

// Read returns the bytes of the file at location, by Open's rules.
func (s *Store) Read(ctx context.Context, location string) ([]byte, error) {
	r, err := s.Open(ctx, location)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", location, err)
	}
	return data, nil
}

// Delete removes the file at location; a file already gone is not an error. Nothing in this
// package relies on a delete for correctness: callers use it to clean up what a newer
// manifest or generation has already made unreachable.
func (s *Store) Delete(ctx context.Context, location string) error {
	h, err := s.object(location)
	if err != nil {
		return err
	}
	if h != nil {
		err = h.Delete(ctx)
		if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
			return fmt.Errorf("deleting %s: %w", location, err)
		}
		return nil
	}
	if err := os.Remove(location); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("deleting %s: %w", location, err)
	}
	syncDir(filepath.Dir(location))
	return nil
}
