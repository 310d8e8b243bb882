package files

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"testing"
)

// TestStoreOpenReadDelete checks Open and Read (a missing file wraps fs.ErrNotExist) and Delete
// (a missing file is no error), locally and on Cloud Storage.
func TestStoreOpenReadDelete(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			prefix, _, st := tg.open(t)
			ctx := context.Background()
			loc := Join(prefix, "bq/events/flat.json")
			if _, err := st.Create(ctx, loc, []byte("flat")); err != nil {
				t.Fatal(err)
			}
			rc, err := st.Open(ctx, loc)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(data) != "flat" {
				t.Errorf("Open: read %q, %v", data, err)
			}
			if data, err := st.Read(ctx, loc); err != nil || string(data) != "flat" {
				t.Errorf("Read = %q, %v", data, err)
			}
			if err := st.Delete(ctx, loc); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, loc); err != nil {
				t.Errorf("Delete of a missing file: %v", err)
			}
			if _, err := st.Read(ctx, loc); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Read of a deleted file: %v, want fs.ErrNotExist", err)
			}
			if _, err := st.Open(ctx, loc); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("Open of a deleted file: %v, want fs.ErrNotExist", err)
			}
			if _, err := st.Read(ctx, "gs://other/x.json"); tg.name == "local" && err == nil {
				t.Error("Read of a gs:// location in a local store: no error")
			}
		})
	}
}
