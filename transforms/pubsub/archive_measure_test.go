package pubsub

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/transforms/files"
)

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
