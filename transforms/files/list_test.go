package files

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestStoreList lists one folder on both targets: its files only, not a sub-folder's, not a
// sibling folder sharing its name as a prefix, and no local temporary file; a missing folder
// holds nothing.
func TestStoreList(t *testing.T) {
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			prefix, _ := tg.prefix(t)
			ctx := context.Background()
			st, err := OpenStore(ctx, prefix)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			for _, name := range []string{"hr=10/b.gz", "hr=10/a.gz", "hr=10/sub/c.gz", "hr=100/d.gz", "hr=11/e.gz"} {
				if _, err := st.Create(ctx, Join(prefix, name), []byte(name)); err != nil {
					t.Fatal(err)
				}
			}
			if !isGCS(prefix) {
				os.WriteFile(filepath.Join(prefix, "hr=10", ".tmp-a.gz-123"), []byte("partial"), 0o644)
			}
			objs, err := st.List(ctx, Join(prefix, "hr=10"))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				rc, err := st.Open(ctx, o.Location)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				b.ReadFrom(rc)
				rc.Close()
				rel := strings.TrimPrefix(filepath.ToSlash(strings.TrimPrefix(o.Location, prefix)), "/")
				if b.String() != rel || o.Size != int64(len(rel)) {
					t.Errorf("%s: read %q (size %d), want its name", o.Location, b.String(), o.Size)
				}
				got = append(got, rel)
			}
			if diff := cmp.Diff([]string{"hr=10/a.gz", "hr=10/b.gz"}, got); diff != "" {
				t.Errorf("listing (-want +got):\n%s", diff)
			}
			if objs, err := st.List(ctx, Join(prefix, "hr=12")); err != nil || len(objs) != 0 {
				t.Errorf("missing folder: %v, %v; want nothing, no error", objs, err)
			}
		})
	}
}

// TestScanArchiveRefusesTruncatedFile: a gzip stream cut short is an error, never a short file.
func TestScanArchiveRefusesTruncatedFile(t *testing.T) {
	whole := gzipped(t, strings.Repeat(`{"data":"e30=","publish_time":"2026-11-01T12:00:00Z","message_id":"m","format":2}`+"\n", 50))
	if recs, err := ReadArchiveRecords(whole); err != nil || len(recs) != 50 {
		t.Fatalf("whole file: %d records, %v; want 50", len(recs), err)
	}
	// The last 8 bytes are gzip's checksum and size; cutting into them leaves every line whole.
	if recs, err := ReadArchiveRecords(whole[:len(whole)-6]); err == nil {
		t.Errorf("truncated file read as %d records without an error", len(recs))
	}
}
