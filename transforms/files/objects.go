package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// ListTree returns the slash-separated names, relative to dir, of every file under dir (a local
// directory or gs://bucket/path), sorted; none if dir does not exist. Local temporary files
// (".tmp-" names, a write in flight or abandoned) are left out.
func (s *Store) ListTree(ctx context.Context, dir string) ([]string, error) {
	if isGCS(dir) != isGCS(s.prefix) {
		return nil, fmt.Errorf("%s: not in the store of %s", dir, s.prefix)
	}
	var names []string
	if g, ok := s.st.(*gcsStore); ok {
		bucket, prefix, err := splitGCS(dir)
		if err != nil {
			return nil, err
		}
		if prefix = strings.TrimSuffix(prefix, "/"); prefix != "" {
			prefix += "/"
		}
		q := &storage.Query{Prefix: prefix}
		if err := q.SetAttrSelection([]string{"Name"}); err != nil {
			return nil, err
		}
		it := g.client.Bucket(bucket).Objects(ctx, q)
		for {
			a, err := it.Next()
			if errors.Is(err, iterator.Done) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", dir, err)
			}
			names = append(names, strings.TrimPrefix(a.Name, prefix))
		}
		slices.Sort(names)
		return names, nil
	}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".tmp-") {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	slices.Sort(names)
	return names, nil
}

// Read returns the bytes of the file at location. A missing file is an error that wraps
// fs.ErrNotExist, on Cloud Storage as locally.
func (s *Store) Read(ctx context.Context, location string) ([]byte, error) {
	if isGCS(location) != isGCS(s.prefix) {
		return nil, fmt.Errorf("%s: not in the store of %s", location, s.prefix)
	}
	if g, ok := s.st.(*gcsStore); ok {
		bucket, name, err := splitGCS(location)
		if err != nil {
			return nil, err
		}
		r, err := g.client.Bucket(bucket).Object(name).NewReader(ctx)
		if errors.Is(err, storage.ErrObjectNotExist) {
			return nil, fmt.Errorf("reading %s: %w", location, fs.ErrNotExist)
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", location, err)
		}
		defer r.Close()
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", location, err)
		}
		return data, nil
	}
	data, err := os.ReadFile(location)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", location, err)
	}
	return data, nil
}

// Delete removes the file at location; a file already gone is not an error. Nothing in this
// package relies on a delete for correctness: callers use it to clean up what a newer
// manifest or generation has already made unreachable.
func (s *Store) Delete(ctx context.Context, location string) error {
	if isGCS(location) != isGCS(s.prefix) {
		return fmt.Errorf("%s: not in the store of %s", location, s.prefix)
	}
	if g, ok := s.st.(*gcsStore); ok {
		bucket, name, err := splitGCS(location)
		if err != nil {
			return err
		}
		err = g.client.Bucket(bucket).Object(name).Delete(ctx)
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
