package files

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
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
	return listAs(ctx, s, dir, false, func(e entry) Object { return e.Object })
}

// ListTree returns the slash-separated names, relative to dir, of every file under dir (a local
// directory or gs://bucket/path), sorted; by List's rules otherwise (none if dir does not exist,
// no temporary files).
func (s *Store) ListTree(ctx context.Context, dir string) ([]string, error) {
	return listAs(ctx, s, dir, true, func(e entry) string { return e.name })
}

// listAs is list with each entry mapped by f.
func listAs[T any](ctx context.Context, s *Store, dir string, recursive bool, f func(entry) T) ([]T, error) {
	entries, err := s.list(ctx, dir, recursive)
	if err != nil {
		return nil, err
	}
	out := make([]T, len(entries))
	for i, e := range entries {
		out[i] = f(e)
	}
	return out, nil
}

// entry is a listed file: what it holds and its slash-separated name relative to the folder
// listed.
type entry struct {
	Object
	name string
}

// list is List and ListTree: the files in dir, or with recursive every file below it, sorted
// by location.
func (s *Store) list(ctx context.Context, dir string, recursive bool) ([]entry, error) {
	if err := s.owns(dir); err != nil {
		return nil, err
	}
	var out []entry
	var err error
	if g, ok := s.st.(*gcsStore); ok {
		out, err = g.list(ctx, dir, recursive)
	} else {
		out, err = listLocal(dir, recursive)
	}
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", dir, err)
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.Location, b.Location) })
	return out, nil
}

// isTemporary reports a local store's temporary file (see localStore.create).
func isTemporary(name string) bool { return strings.HasPrefix(name, ".tmp-") }

func listLocal(dir string, recursive bool) ([]entry, error) {
	var out []entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil && p == dir:
			return err // a missing folder is told apart below
		case errors.Is(err, fs.ErrNotExist):
			return nil // removed since the listing
		case err != nil:
			return err
		case d.IsDir():
			if p != dir && !recursive {
				return fs.SkipDir
			}
			return nil
		case isTemporary(d.Name()):
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed since the listing
		}
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, entry{Object: Object{Location: p, Size: info.Size()}, name: filepath.ToSlash(rel)})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return out, err
}

// list makes one query: with a delimiter for one folder (deeper names come back as prefixes,
// which are skipped), without one for the tree.
func (g *gcsStore) list(ctx context.Context, dir string, recursive bool) ([]entry, error) {
	bucket, prefix, err := splitGCS(dir)
	if err != nil {
		return nil, err
	}
	if prefix = strings.TrimSuffix(prefix, "/"); prefix != "" {
		prefix += "/"
	}
	q := &storage.Query{Prefix: prefix}
	if !recursive {
		q.Delimiter = "/"
	}
	if err := q.SetAttrSelection([]string{"Name", "Size", "CRC32C"}); err != nil {
		return nil, err
	}
	var out []entry
	it := g.client.Bucket(bucket).Objects(ctx, q)
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if a.Name == "" || strings.HasSuffix(a.Name, "/") {
			continue // a sub-folder, or a folder placeholder object
		}
		out = append(out, entry{
			Object: Object{Location: "gs://" + bucket + "/" + a.Name, Size: a.Size, CRC32C: a.CRC32C},
			name:   strings.TrimPrefix(a.Name, prefix),
		})
	}
}
