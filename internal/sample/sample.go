// Package sample embeds the repository's sample reference data (the CSV files in data/) in every
// binary that imports it and serves it as a read-only Beam filesystem under sample://, so the
// defaults of --productCatalog and --currencyRates resolve on any worker, not only where the
// repository is checked out: sample://products.csv is internal/sample/data/products.csv.
package sample

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

// Scheme is the scheme of the embedded sample files.
const Scheme = "sample://"

// dir is the embedded directory that Scheme names.
const dir = "data"

//go:embed data
var files embed.FS

func init() {
	filesystem.Register(strings.TrimSuffix(Scheme, "://"), func(context.Context) filesystem.Interface { return sampleFS{} })
}

// Is reports whether path names an embedded sample file.
func Is(path string) bool { return strings.HasPrefix(path, Scheme) }

// sampleFS is the read-only filesystem of the embedded sample files.
type sampleFS struct{}

func (sampleFS) name(uri string) string {
	return path.Join(dir, strings.TrimPrefix(uri, Scheme))
}

func (sampleFS) Close() error { return nil }

func (f sampleFS) List(_ context.Context, glob string) ([]string, error) {
	names, err := fs.Glob(files, f.name(glob))
	if err != nil {
		return nil, err
	}
	for i, n := range names {
		names[i] = Scheme + strings.TrimPrefix(n, dir+"/")
	}
	return names, nil
}

func (f sampleFS) OpenRead(_ context.Context, uri string) (io.ReadCloser, error) {
	b, err := files.ReadFile(f.name(uri))
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

func (sampleFS) OpenWrite(context.Context, string) (io.WriteCloser, error) {
	return nil, errors.New("sample:// files are embedded in the binary and read-only")
}

func (f sampleFS) Size(_ context.Context, uri string) (int64, error) {
	info, err := fs.Stat(files, f.name(uri))
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}
