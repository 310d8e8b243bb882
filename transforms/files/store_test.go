package files

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// sliceLines yields ls in order, as a lineSorter's each does.
func sliceLines(ls ...string) func(func([]byte) error) error {
	return func(fn func([]byte) error) error {
		for _, l := range ls {
			if err := fn([]byte(l)); err != nil {
				return err
			}
		}
		return nil
	}
}

// noise is n bytes of hex that gzip cannot shrink much.
func noise(n int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n/2)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return hex.EncodeToString(b)
}

var errInjected = errors.New("injected failure")

// failingLines yields ls, then fails: a bundle dying mid-file.
func failingLines(ls ...string) func(func([]byte) error) error {
	return func(fn func([]byte) error) error {
		if err := sliceLines(ls...)(fn); err != nil {
			return err
		}
		return errInjected
	}
}

// TestCreate calls the write path directly, as a retried or concurrent bundle would.
func TestCreate(t *testing.T) {
	const name = "dt=2026-11-01/hr=12/f.jsonl.gz"
	type write struct {
		lines        func(func([]byte) error) error
		wantExisting bool
		wantErr      error
	}
	tests := []struct {
		name   string
		writes []write
		want   map[string][]string
	}{
		{
			name: "a repeated write finds the identical file and keeps it",
			writes: []write{
				{lines: sliceLines("a", "b")},
				{lines: sliceLines("a", "b"), wantExisting: true},
			},
			want: map[string][]string{name: {"a", "b"}},
		},
		{
			name: "different content under the same name is an error and leaves the first file",
			writes: []write{
				{lines: sliceLines("a", "b")},
				{lines: sliceLines("a", "c"), wantErr: ErrDifferentContent},
			},
			want: map[string][]string{name: {"a", "b"}},
		},
		{
			name: "a write that fails midway leaves nothing, and its retry writes the file",
			writes: []write{
				{lines: failingLines(noise(2<<20), "b"), wantErr: errInjected},
				{lines: sliceLines("a", "b")},
			},
			want: map[string][]string{name: {"a", "b"}},
		},
	}
	for _, tg := range targets {
		for _, tc := range tests {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				prefix, c, st := tg.open(t)
				ctx := context.Background()
				if g, ok := st.st.(*gcsStore); ok {
					g.chunkSize = 256 << 10 // so a large write uploads chunks before it fails
				}
				for i, w := range tc.writes {
					res, err := writeLines(ctx, st.st, Join(prefix, name), gzip.DefaultCompression, w.lines)
					if !errors.Is(err, w.wantErr) {
						t.Fatalf("write %d: error %v, want %v", i, err, w.wantErr)
					}
					if errors.Is(err, ErrDifferentContent) && !strings.Contains(err.Error(), Join(prefix, name)) {
						t.Errorf("write %d: error %q does not name the file", i, err)
					}
					if err == nil && res.Existing != w.wantExisting {
						t.Errorf("write %d: existing = %v, want %v", i, res.Existing, w.wantExisting)
					}
				}
				if diff := cmp.Diff(tc.want, decodeFiles(t, listFiles(t, c, prefix))); diff != "" {
					t.Errorf("files (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestLineSorter(t *testing.T) {
	var in []string
	for i := range 1000 {
		in = append(in, fmt.Sprintf("line-%d", (i*7919)%1000))
	}
	in = append(in, "", "dup", "dup")
	want := slices.Clone(in)
	slices.Sort(want)
	tests := []struct {
		name      string
		maxBytes  int64
		wantSpill bool
	}{
		{"in memory", 1 << 20, false},
		{"spilled in runs and merged", 2000, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "tmp")
			s := newLineSorter(dir, tc.maxBytes)
			for _, l := range in {
				if err := s.add([]byte(l)); err != nil {
					t.Fatal(err)
				}
			}
			if got := len(s.runs) > 0; got != tc.wantSpill {
				t.Errorf("spilled = %v, want %v", got, tc.wantSpill)
			}
			var got []string
			if err := s.each(func(l []byte) error { got = append(got, string(l)); return nil }); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
			s.close()
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("%d spill files left in the temp directory", len(left))
			}
		})
	}
}

func TestSweepSpills(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * staleSpillAge)
	for name, mtime := range map[string]time.Time{
		spillPrefix + "stale": old, spillPrefix + "in-use": time.Now(), "someone-elses": old,
	} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	sweepSpills(dir)
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if diff := cmp.Diff([]string{"someone-elses", spillPrefix + "in-use"}, left); diff != "" {
		t.Errorf("files left (-want +got):\n%s", diff)
	}
}

// TestStoreCreate is the path of sinks that name their own files (the tables' NDJSON files):
// on both targets a file appears whole, a retry finds it, and nothing is ever overwritten.
func TestStoreCreate(t *testing.T) {
	const name = "bq/events/part-0123456789abcdef.json"
	type create struct {
		data         string
		wantExisting bool
		wantErr      error
	}
	tests := []struct {
		name    string
		creates []create
		want    string
	}{
		{"a new file", []create{{data: "one\n"}}, "one\n"},
		{"a retry finds the identical file", []create{{data: "one\n"}, {data: "one\n", wantExisting: true}}, "one\n"},
		{"different bytes never replace a file", []create{{data: "one\n"}, {data: "two\n", wantErr: ErrDifferentContent}}, "one\n"},
	}
	for _, tg := range targets {
		for _, tc := range tests {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				prefix, c, st := tg.open(t)
				for i, cr := range tc.creates {
					existing, err := st.Create(context.Background(), Join(prefix, name), []byte(cr.data))
					if !errors.Is(err, cr.wantErr) {
						t.Fatalf("create %d: error %v, want %v", i, err, cr.wantErr)
					}
					if err == nil && existing != cr.wantExisting {
						t.Errorf("create %d: existing = %v, want %v", i, existing, cr.wantExisting)
					}
				}
				got := map[string]string{}
				for n, data := range listFiles(t, c, prefix) {
					got[n] = string(data)
				}
				if diff := cmp.Diff(map[string]string{name: tc.want}, got); diff != "" {
					t.Errorf("files (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestStoreCreateRefusesTheOtherSide(t *testing.T) {
	ctx := context.Background()
	st, err := OpenStore(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// A gs:// location in a local store would otherwise become a folder named "gs:".
	if _, err := st.Create(ctx, "gs://lake/out/x.json", []byte("x")); err == nil {
		t.Error("a local store created a gs:// location")
	}
}
