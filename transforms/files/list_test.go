package files

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStoreList lists one folder with List and its tree with ListTree, on both targets: the
// folder's files (List: not a sub-folder's), not a sibling folder's that shares its name as a
// prefix, no local temporary file, no folder placeholder object; a missing folder holds nothing.
func TestStoreList(t *testing.T) {
	files := []string{"hr=10/b.gz", "hr=10/a.gz", "hr=10/sub/c.gz", "hr=100/d.gz", "hr=11/e.gz"}
	tests := []struct {
		name string
		list func(ctx context.Context, st *Store, dir string) ([]string, error)
		want []string
	}{
		{"List", func(ctx context.Context, st *Store, dir string) ([]string, error) {
			objs, err := st.List(ctx, dir)
			var locations []string
			for _, o := range objs {
				locations = append(locations, o.Location)
				if o.Size != int64(len(o.Location)) {
					t.Errorf("%s: size %d, want %d", o.Location, o.Size, len(o.Location))
				}
			}
			return locations, err
		}, []string{"hr=10/a.gz", "hr=10/b.gz"}},
		{"ListTree", func(ctx context.Context, st *Store, dir string) ([]string, error) {
			names, err := st.ListTree(ctx, dir)
			for i, n := range names {
				names[i] = Join(dir, n)
			}
			return names, err
		}, []string{"hr=10/a.gz", "hr=10/b.gz", "hr=10/sub/c.gz"}},
	}
	for _, tg := range targets {
		for _, tc := range tests {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				prefix, c, st := tg.open(t)
				ctx := context.Background()
				for _, name := range files {
					// Each file holds its location, so its size tells a listing's Size is right.
					if _, err := st.Create(ctx, Join(prefix, name), []byte(Join(prefix, name))); err != nil {
						t.Fatal(err)
					}
				}
				if c == nil {
					os.WriteFile(filepath.Join(prefix, "hr=10", ".tmp-a.gz-123"), []byte("partial"), 0o644)
					os.WriteFile(filepath.Join(prefix, "hr=10", "sub", ".tmp-c.gz-123"), []byte("partial"), 0o644)
				} else {
					w := c.Bucket(testBucket).Object("out/hr=10/sub/").NewWriter(ctx)
					if err := w.Close(); err != nil {
						t.Fatal(err)
					}
				}
				got, err := tc.list(ctx, st, Join(prefix, "hr=10"))
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, n := range tc.want {
					want = append(want, Join(prefix, n))
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("listing (-want +got):\n%s", diff)
				}
				if got, err := tc.list(ctx, st, Join(prefix, "hr=12")); err != nil || len(got) != 0 {
					t.Errorf("missing folder: %v, %v; want nothing, no error", got, err)
				}
			})
		}
	}
}
