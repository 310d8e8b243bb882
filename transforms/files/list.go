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

// List returns the files directly in the folder dir (a local directory or gs://bucket/path,
// on the store's side), sorted by location, without descending into sub-folders: a reader of
// one partition lists that partition only, never the bucket. A folder that does not exist holds
// no files (nil, no error). Temporary files of a local write that never finished (a crash
// between create and link) are left out: they are not part of what the store holds.
func (s *Store) List(ctx context.Context, dir string) ([]Object, error) {
	if isGCS(dir) != isGCS(s.prefix) {
		return nil, fmt.Errorf("%s: not in the store of %s", dir, s.prefix)
	}
	if g, ok := s.st.(*gcsStore); ok {
		return g.list(ctx, dir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var out []Object
	for _, e := range entries {
		if e.IsDir() || isTemporary(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the listing
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		out = append(out, Object{Location: filepath.Join(dir, e.Name()), Size: info.Size()})
	}
	return out, nil
}

// isTemporary reports a local store's temporary file (see localStore.create).
func isTemporary(name string) bool { return strings.HasPrefix(name, ".tmp-") }

func (g *gcsStore) list(ctx context.Context, dir string) ([]Object, error) {
	bucket, name, err := splitGCS(dir)
	if err != nil {
		return nil, err
	}
	prefix := strings.TrimSuffix(name, "/") + "/"
	if prefix == "/" {
		prefix = ""
	}
	// The delimiter keeps the listing to this folder: deeper names come back as prefixes,
	// which are skipped.
	q := &storage.Query{Prefix: prefix, Delimiter: "/"}
	if err := q.SetAttrSelection([]string{"Name", "Size", "CRC32C"}); err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	var out []Object
	it := g.client.Bucket(bucket).Objects(ctx, q)
	for {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", dir, err)
		}
		if a.Name == "" || strings.HasSuffix(a.Name, "/") {
			continue // a sub-folder, or a folder placeholder object
		}
		out = append(out, Object{Location: "gs://" + bucket + "/" + a.Name, Size: a.Size, CRC32C: a.CRC32C})
	}
	slices.SortFunc(out, func(a, b Object) int { return strings.Compare(a.Location, b.Location) })
	return out, nil
}

// Open returns a reader of the file at location (on the store's side). Close it.
func (s *Store) Open(ctx context.Context, location string) (io.ReadCloser, error) {
	if isGCS(location) != isGCS(s.prefix) {
		return nil, fmt.Errorf("%s: not in the store of %s", location, s.prefix)
	}
	if g, ok := s.st.(*gcsStore); ok {
		bucket, name, err := splitGCS(location)
		if err != nil {
			return nil, err
		}
		// The stores write no Content-Encoding, so Cloud Storage serves the bytes as written.
		r, err := g.client.Bucket(bucket).Object(name).NewReader(ctx)
		if err != nil {
			return nil, fmt.Errorf("opening %s: %w", location, err)
		}
		return r, nil
	}
	f, err := os.Open(location)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", location, err)
	}
	return f, nil
}
