package sample

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/google/go-cmp/cmp"
)

// TestSampleFilesystem reads every sample file through Beam's filesystem registry and compares
// it with the file in data/.
func TestSampleFilesystem(t *testing.T) {
	ctx := context.Background()
	fsys, err := filesystem.New(ctx, "sample://products.csv")
	if err != nil {
		t.Fatal(err)
	}
	names, err := fsys.List(ctx, "sample://*.csv")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"sample://currency_rates.csv", "sample://products.csv"}, names); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ uri, file string }{
		{"sample://products.csv", "data/products.csv"},
		{"sample://currency_rates.csv", "data/currency_rates.csv"},
	} {
		r, err := fsys.OpenRead(ctx, tc.uri)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s differs from %s", tc.uri, tc.file)
		}
		if n, err := fsys.Size(ctx, tc.uri); err != nil || n != int64(len(want)) {
			t.Errorf("Size(%s) = %d, %v; want %d", tc.uri, n, err, len(want))
		}
	}
	if _, err := fsys.OpenRead(ctx, "sample://missing.csv"); err == nil {
		t.Error("OpenRead of a missing sample file succeeded")
	}
	if _, err := fsys.OpenWrite(ctx, "sample://products.csv"); err == nil {
		t.Error("OpenWrite succeeded on the read-only sample filesystem")
	}
}
