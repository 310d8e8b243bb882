// Package tributary embeds the repository's sample reference data (testdata/reference) in every
// binary that imports it and serves it as a read-only Beam filesystem under sample://, so the
// defaults of --productCatalog and --currencyRates resolve on any worker, not only where the
// repository is checked out: sample://products.csv is testdata/reference/products.csv.
package tributary

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"io"
	"io/fs"
	"path"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
)

// SampleScheme is the scheme of the embedded sample files.
const SampleScheme = "sample://"

//go:embed testdata/reference
var sample embed.FS

func init() {
	filesystem.Register(strings.TrimSuffix(SampleScheme, "://"), func(context.Context) filesystem.Interface { return sampleFS{} })
}

// IsSample reports whether path names an embedded sample file.
func IsSample(path string) bool { return strings.HasPrefix(path, SampleScheme) }

// sampleFS is the read-only filesystem of the embedded sample files.
type sampleFS struct{}

func (sampleFS) name(uri string) string {
	return path.Join("testdata/reference", strings.TrimPrefix(uri, SampleScheme))
}

func (sampleFS) Close() error { return nil }

func (f sampleFS) List(_ context.Context, glob string) ([]string, error) {
	names, err := fs.Glob(sample, f.name(glob))
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = SampleScheme + strings.TrimPrefix(n, "testdata/reference/")
	}
	return names, nil
}

func (f sampleFS) OpenRead(_ context.Context, uri string) (io.ReadCloser, error) {
	b, err := sample.ReadFile(f.name(uri))
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (sampleFS) OpenWrite(context.Context, string) (io.WriteCloser, error) {
	return nil, errors.New("sample:// files are embedded in the binary and read-only")
}

func (f sampleFS) Size(_ context.Context, uri string) (int64, error) {
	info, err := fs.Stat(sample, f.name(uri))
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
