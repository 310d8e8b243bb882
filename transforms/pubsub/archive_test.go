package pubsub

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// archivedRecords reads every WAL file under root's archive, keyed by message id, and the
// relative paths of the files.
func archivedRecords(t *testing.T, root string) (map[string]files.ArchiveRecord, []string) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(files.ArchivePrefix(root), "dt=*", "hr=*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]files.ArchiveRecord{}
	var rels []string
	for _, p := range paths {
		rel, _ := filepath.Rel(root, p)
		rels = append(rels, rel)
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := files.ReadArchiveRecords(data)
		if err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		for _, r := range recs {
			got[r.MessageID] = r
		}
	}
	return got, rels
}

func TestReadArchivesEveryMessageBeforeAck(t *testing.T) {
	srv, topic, sub := newTestSubscription(t, 30)
	const n = 500
	var want []any
	ids := map[string]string{} // message id -> data
	for i := range n {
		data := fmt.Sprintf("m%04d", i)
		attrs := map[string]string{"event_time": "not a time"} // the mark must reach the archive
		if i%2 == 0 {
			attrs["event_time"] = time.Now().UTC().Format(time.RFC3339)
		}
		ids[srv.Publish(topic, []byte(data), attrs)] = data
		want = append(want, data)
	}
	dir := t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	msgs := Read(s, ReadConfig{Subscription: sub, Endpoint: srv.Addr, TimestampAttribute: "event_time",
		IdleTimeout: 2 * time.Second, PullBatch: 100, Archive: files.WALConfig{Directory: dir, RunID: "run1"}})
	passert.Equals(s, beam.ParDo(s, messageString, msgs), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}

	got, paths := archivedRecords(t, dir)
	for id, data := range ids {
		r, ok := got[id]
		if !ok {
			t.Errorf("message %s acked but not archived", id)
			continue
		}
		if string(r.Data) != data || r.Format != files.ArchiveFormat {
			t.Errorf("message %s archived as %q format %d, want %q format %d", id, r.Data, r.Format, data, files.ArchiveFormat)
		}
		if wantErr := r.Attributes["event_time"] == "not a time"; wantErr != (r.TimestampError != "") {
			t.Errorf("message %s: timestamp error %q in the archive, want one: %v", id, r.TimestampError, wantErr)
		}
		if folder := r.PublishTime.UTC().Format("archive/dt=2006-01-02/hr=15/"); !strings.Contains(strings.Join(paths, " "), folder) {
			t.Errorf("message %s published at %v: no file under %s", id, r.PublishTime, folder)
		}
	}
	for _, p := range paths {
		if !walName.MatchString(filepath.Base(p)) {
			t.Errorf("archive file %s is not named wal-<hour>-run1-<hash>.jsonl.gz", p)
		}
	}
	for _, m := range srv.Messages() {
		if m.Acks != 1 {
			t.Errorf("message %s: %d acks, want 1", m.ID, m.Acks)
		}
	}
	t.Logf("%d messages in %d archive files", n, len(paths))
}

func init() { register.Function1x1[schemas.Message, string](messageString) }

func messageString(m schemas.Message) string { return string(m.Data) }

var walName = regexp.MustCompile(`^wal-[0-9]{8}T[0-9]{6}Z-run1-[0-9a-f]{16}\.jsonl\.gz$`)

// TestReadArchiveFailureAcksNothing: the archive refuses every write (its directory is a file),
// so the bundle fails, nothing is acked, and a second run receives every message again at once
// (the failed round nacked them).
func TestReadArchiveFailureAcksNothing(t *testing.T) {
	srv, topic, sub := newTestSubscription(t, 600) // redelivery must come from the nack, not the deadline
	const n = 200
	var want []any
	for i := range n {
		data := fmt.Sprintf("m%04d", i)
		srv.Publish(topic, []byte(data), nil)
		want = append(want, data)
	}
	blocked := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Read(s, ReadConfig{Subscription: sub, Endpoint: srv.Addr, IdleTimeout: 2 * time.Second, Archive: files.WALConfig{Directory: blocked}})
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), "the archive refused the round") {
		t.Fatalf("run with a failing archive: error %v, want the archive's refusal", err)
	}
	for _, m := range srv.Messages() {
		if m.Acks != 0 {
			t.Errorf("message %s acked %d times although the archive refused it", m.Data, m.Acks)
		}
	}

	dir := t.TempDir()
	p, s = beam.NewPipelineWithRoot()
	msgs := Read(s, ReadConfig{Subscription: sub, Endpoint: srv.Addr, IdleTimeout: 2 * time.Second, Archive: files.WALConfig{Directory: dir}})
	passert.Equals(s, beam.ParDo(s, messageString, msgs), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatalf("second run: %v", err)
	}
	got, _ := archivedRecords(t, dir)
	if len(got) != n {
		t.Errorf("second run archived %d messages, want %d", len(got), n)
	}
}

func TestReadConfigValidateNamesArchiveFields(t *testing.T) {
	base := ReadConfig{Subscription: "projects/p/subscriptions/s"}
	tests := []struct {
		name    string
		archive files.WALConfig
		want    string // "" for valid
	}{
		{"off", files.WALConfig{}, ""},
		{"valid", files.WALConfig{Directory: "gs://b/x", RunID: "r.1_2", GzipLevel: 1}, ""},
		{"bad run id", files.WALConfig{Directory: "d", RunID: "a/b"}, "Archive: files.WAL: RunID"},
		{"bad gzip level", files.WALConfig{Directory: "d", GzipLevel: 11}, "Archive: files.WAL: GzipLevel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Archive = tc.archive
			err := c.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if tc.want == "" && err != nil || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestMeasureArchiveFiles measures the write-ahead log's files per hour and bytes per file for
// README: at a paced 1k msg/s and at the highest rate the reader reaches on a backlog (pstest),
// with one reader and three (paced). It only runs with TRIBUTARY_MEASURE_WAL=1, as it takes minutes and
// reports numbers; the rate reached depends on the machine's load, which it logs.
func TestMeasureArchiveFiles(t *testing.T) {
	if os.Getenv("TRIBUTARY_MEASURE_WAL") == "" {
		t.Skip("set TRIBUTARY_MEASURE_WAL=1 to measure")
	}
	payload := func(i int) []byte { // the size of a generated event (about 300 bytes)
		return fmt.Appendf(nil, `{"event_id":"e-%08d","event_type":"add_to_cart","event_time":%q,"user_id":"u-%06d","session_id":"s-%06d","product_id":"p-%04d","quantity":1,"amount":12.5,"currency":"EUR","device":{"os":"android","country":"DE"},"campaign":"spring"}`,
			i, time.Now().UTC().Format(time.RFC3339Nano), i%10000, i%3000, i%500)
	}
	for _, tc := range []struct {
		name             string
		rate, n, readers int // rate 0: all published before the read starts
	}{
		{"1k msg/s", 1000, 30000, 1},
		{"1k msg/s, 3 readers", 1000, 30000, 3}, // each reader writes its own files
		{"8k msg/s", 8000, 120000, 1},           // the emulator's ceiling on these cores
		{"backlog", 0, 100000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, topic, sub := newTestSubscription(t, 60)
			if tc.rate == 0 {
				for i := range tc.n {
					srv.Publish(topic, payload(i), nil)
				}
			} else {
				go func() {
					tick := time.NewTicker(100 * time.Millisecond)
					defer tick.Stop()
					for i := 0; i < tc.n; i += tc.rate / 10 {
						<-tick.C
						for j := i; j < i+tc.rate/10; j++ {
							srv.Publish(topic, payload(j), nil)
						}
					}
				}()
			}
			dir := t.TempDir()
			p, s := beam.NewPipelineWithRoot()
			cfg := ReadConfig{Subscription: sub, Endpoint: srv.Addr, MaxMessages: int64(tc.n), Archive: files.WALConfig{Directory: dir}}
			if tc.readers > 1 { // several readers stop on idleness, not on a count
				cfg.NumReaders, cfg.MaxMessages, cfg.IdleTimeout = tc.readers, 0, 3*time.Second
			}
			Read(s, cfg)
			start := time.Now()
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			elapsed := time.Since(start)
			paths, _ := filepath.Glob(filepath.Join(dir, "archive", "dt=*", "hr=*", "wal-*"))
			if len(paths) < 2 {
				t.Fatalf("%d archive files, want several", len(paths))
			}
			var bytes int64
			var first, last time.Time
			for i, p := range paths {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				bytes += fi.Size()
				if m := fi.ModTime(); i == 0 || m.Before(first) {
					first = m
				}
				if m := fi.ModTime(); m.After(last) {
					last = m
				}
			}
			// Between the first file and the last, len(paths)-1 files were written (Prism's start-up,
			// in elapsed, is left out).
			span := last.Sub(first)
			load, _ := os.ReadFile("/proc/loadavg")
			t.Logf("%s: %d messages, run %v, files written over %v: %.0f msg/s, %d files: %.0f files/hour, %d bytes/file (%.1f bytes/message); load average %.14s",
				tc.name, tc.n, elapsed.Round(time.Millisecond), span.Round(time.Millisecond), float64(tc.n)/(span+DefaultMaxRoundTime).Seconds(), len(paths),
				float64(len(paths)-1)/span.Hours(), bytes/int64(len(paths)), float64(bytes)/float64(tc.n), load)
		})
	}
}
