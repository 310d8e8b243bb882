package files

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"google.golang.org/api/iterator"

	"github.com/tributary-dev/tributary/internal/gcstest"
)

func TestMain(m *testing.M) { ptest.Main(m) }

const testBucket = "lake"

// fakeGCS starts fake-gcs-server in-process with one bucket, points STORAGE_EMULATOR_HOST at
// it (the writer's client reads it, as in production) and returns a client for checking.
func fakeGCS(t testing.TB) *storage.Client {
	t.Helper()
	gcstest.Start(t, testBucket)
	c, err := storage.NewClient(context.Background(), storage.WithJSONReads())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// target is where a test writes: a local directory or a bucket prefix.
type target struct {
	name   string
	prefix func(t testing.TB) (prefix string, c *storage.Client)
}

var targets = []target{
	{"local", func(t testing.TB) (string, *storage.Client) { return t.TempDir(), nil }},
	{"gcs", func(t testing.TB) (string, *storage.Client) { return "gs://" + testBucket + "/out", fakeGCS(t) }},
}

// open returns a fresh prefix of the target, a client for checking (nil locally) and a store
// of the prefix, closed when the test ends.
func (tg target) open(t testing.TB) (prefix string, c *storage.Client, st *Store) {
	t.Helper()
	prefix, c = tg.prefix(t)
	st, err := OpenStore(context.Background(), prefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return prefix, c, st
}

// listFiles returns every file under prefix by its slash-separated name relative to prefix,
// temporary files included (a test fails if any is left).
func listFiles(t testing.TB, c *storage.Client, prefix string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	ctx := context.Background()
	if !isGCS(prefix) {
		err := filepath.WalkDir(prefix, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(prefix, p)
			out[filepath.ToSlash(rel)] = data
			return err
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		return out
	}
	bucket, dir, err := splitGCS(prefix)
	if err != nil {
		t.Fatal(err)
	}
	it := c.Bucket(bucket).Objects(ctx, &storage.Query{Prefix: dir + "/"})
	for {
		a, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.Bucket(bucket).Object(a.Name).NewReader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimPrefix(a.Name, dir+"/")] = data
	}
	return out
}

// decodeFiles gunzips every file into its lines.
func decodeFiles(t testing.TB, files map[string][]byte) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, data := range files {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var lines []string
		sc := bufio.NewScanner(zr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = lines
	}
	return out
}

// byShard is what a window's pane should hold: its lines sorted and split by Shard.
func byShard(start time.Time, window time.Duration, numShards int, pane int64, lines ...string) map[string][]string {
	return byShardRun(start, window, "", numShards, pane, lines...)
}

func byShardRun(start time.Time, window time.Duration, run string, numShards int, pane int64, lines ...string) map[string][]string {
	out := map[string][]string{}
	for _, l := range lines {
		name := FileName(start, start.Add(window), run, Shard([]byte(l), numShards), numShards, pane, DefaultSuffix)
		out[name] = append(out[name], l)
	}
	for _, ls := range out {
		slices.Sort(ls)
	}
	return out
}

func merge(ms ...map[string][]string) map[string][]string {
	out := map[string][]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
