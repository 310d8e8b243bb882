package files

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
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

func TestWALWritesOneFilePerPublishHourAndRetriesIdempotently(t *testing.T) {
	h := time.Date(2026, 12, 1, 22, 59, 59, 0, time.UTC)
	msgs := []schemas.Message{
		{Data: []byte("a"), PublishTime: h, MessageID: "1", TimestampError: "unparsable"},
		{Data: []byte("b"), PublishTime: h.Add(2 * time.Second), MessageID: "2", Attributes: map[string]string{"k": "v"}},
	}
	dir := t.TempDir()
	w, err := OpenWAL(context.Background(), WALConfig{Directory: dir, RunID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for range 2 { // the second write is a retry of the same batch: same names, no new files
		if err := w.Write(context.Background(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "archive", "dt=*", "hr=*", "wal-*-r1-*.jsonl.gz"))
	var got []string
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, filepath.Dir(p))
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := ReadArchiveRecords(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.Format != ArchiveFormat {
				t.Errorf("%s: format %d, want %d", r.MessageID, r.Format, ArchiveFormat)
			}
			got = append(got, filepath.ToSlash(rel)+" "+r.MessageID+" "+string(r.Data)+" "+r.TimestampError)
		}
	}
	want := []string{"archive/dt=2026-12-01/hr=22 1 a unparsable", "archive/dt=2026-12-01/hr=23 2 b "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("archived (-want +got):\n%s", diff)
	}
}

func TestReadArchiveRecordsFormats(t *testing.T) {
	tests := []struct {
		name    string
		lines   string
		formats []int // nil: an error
	}{
		{"format 1", `{"data":"YQ==","publish_time":"2026-12-01T00:00:00Z","message_id":"1"}` + "\n", []int{1}},
		{"format 2", `{"data":"YQ==","publish_time":"2026-12-01T00:00:00Z","message_id":"1","format":2}` + "\n", []int{2}},
		{"mixed", `{"message_id":"1","publish_time":"2026-12-01T00:00:00Z"}` + "\n" + `{"message_id":"2","publish_time":"2026-12-01T00:00:00Z","format":2}` + "\n", []int{1, 2}},
		{"unknown format", `{"message_id":"1","publish_time":"2026-12-01T00:00:00Z","format":3}` + "\n", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := ReadArchiveRecords(gzipped(t, tc.lines))
			if tc.formats == nil {
				if err == nil {
					t.Fatal("decoded without error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, r := range recs {
				got = append(got, r.Format)
			}
			if diff := cmp.Diff(tc.formats, got); diff != "" {
				t.Errorf("formats (-want +got):\n%s", diff)
			}
			msgs, err := ReadArchiveFile(gzipped(t, tc.lines))
			if err != nil || len(msgs) != len(recs) {
				t.Errorf("ReadArchiveFile: %d messages, %v; want %d", len(msgs), err, len(recs))
			}
		})
	}
}
