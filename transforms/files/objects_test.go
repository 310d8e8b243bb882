package files

import (
	"context"
	"errors"
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStoreListReadDelete checks ListTree (recursive, sorted, relative, no temporary files, none
// for a missing folder), Read (a missing file wraps fs.ErrNotExist) and Delete (a missing file
// is no error), locally and on Cloud Storage.
func TestStoreListReadDelete(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			prefix, _ := tg.prefix(t)
			ctx := context.Background()
			st, err := OpenStore(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			dir := Join(prefix, "bq/events")
			if names, err := st.ListTree(ctx, dir); err != nil || len(names) != 0 {
				t.Fatalf("ListTree of a missing folder = %v, %v; want none", names, err)
			}
			for _, n := range []string{"dt=2026-11-01/hr=11/b.json", "dt=2026-11-01/hr=10/a.json", "flat.json"} {
				if _, err := st.Create(ctx, Join(dir, n), []byte(n)); err != nil {
					t.Fatal(err)
				}
			}
			// Another folder whose name starts like dir's must not be listed with it.
			if _, err := st.Create(ctx, Join(prefix, "bq/events_other/x.json"), []byte("x")); err != nil {
				t.Fatal(err)
			}
			names, err := st.ListTree(ctx, dir)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"dt=2026-11-01/hr=10/a.json", "dt=2026-11-01/hr=11/b.json", "flat.json"}, names); diff != "" {
				t.Errorf("ListTree (-want +got):\n%s", diff)
			}
			if data, err := st.Read(ctx, Join(dir, "flat.json")); err != nil || string(data) != "flat.json" {
				t.Errorf("Read = %q, %v", data, err)
			}
			if err := st.Delete(ctx, Join(dir, "flat.json")); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, Join(dir, "flat.json")); err != nil {
				t.Errorf("Delete of a missing file: %v", err)
			}
			if _, err := st.Read(ctx, Join(dir, "flat.json")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Read of a deleted file: %v, want fs.ErrNotExist", err)
			}
			if names, _ := st.ListTree(ctx, dir); len(names) != 2 {
				t.Errorf("ListTree after Delete = %v", names)
			}
		})
	}
}
