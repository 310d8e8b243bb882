package backfill

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/archive"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/files"
)

// TestBackfillRedeliveryAndNoPublishTime replays an archive with what a crash and a hand edit
// leave in it: one message archived three times (the first run's WAL, the relaunched run's WAL
// after a redelivery, and a windowed format-1 file of the event hour before, another partition),
// and a hand-made line without a publish time. The message reaches the events table once (dedup
// counts the two copies), and the line becomes a dead letter in its partition's hour of the lake,
// never under dt=0001-01-01.
func TestBackfillRedeliveryAndNoPublishTime(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a backfill on Prism")
	}
	ctx := context.Background()
	hour := time.Date(2026, 10, 2, 11, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	gen := generate.Config{Count: 20, Users: 3, Seed: 5, Start: hour.Add(-15 * time.Second), Interval: time.Second}
	var all []schemas.Message
	n := 0
	for m := range generate.Messages(gen) {
		clock := gen.Start.Add(time.Duration(n) * gen.Interval)
		all = append(all, schemas.Message{Data: m.Data, Attributes: m.Attributes,
			PublishTime: clock.Add(20 * time.Second), MessageID: fmt.Sprint("m", n)})
		n++
	}
	again := all[0] // event time 10:59:45, published 11:00:05
	for run, msgs := range map[string][]schemas.Message{"run1": all, "run2": {again}} {
		w, err := files.OpenWAL(ctx, files.WALConfig{Directory: dir, RunID: run})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(ctx, msgs); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	line, err := json.Marshal(again)
	if err != nil {
		t.Fatal(err)
	}
	start := hour.Add(-time.Hour) // the windowed archive's folder is the event-time window's start
	putArchiveFile(t, dir, files.FileName(start, hour, "run0", 0, 1, 0, files.DefaultSuffix), string(line)+"\n")
	noPub := `{"data":"e30=","attributes":{"event_time":"` + hour.Add(time.Minute).Format(time.RFC3339) + `"},"message_id":"nopub","format":2}` + "\n"
	putArchiveFile(t, dir, hour.Format("dt=2006-01-02/hr=15")+"/handmade.jsonl.gz", noPub)

	bo := defaults[Options](t)
	bo.Archive = filepath.Join(dir, "archive")
	bo.OutputDirectory = filepath.Join(dir, "out")
	bo.From, bo.To = start.Format(time.RFC3339), hour.Add(time.Hour).Format(time.RFC3339)
	if err := bo.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg, err := NewConfig(bo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Run(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}

	var againID struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal(again.Data, &againID); err != nil {
		t.Fatal(err)
	}
	events := map[string]int{}
	for _, r := range readRows(t, bo.OutputDirectory, schemas.TableEvents) {
		events[fmt.Sprint(r["event_id"])]++
	}
	if len(events) != len(all) || events[againID.EventID] != 1 {
		t.Errorf("events: %d ids, %s %d times; want %d ids, each once", len(events), againID.EventID, events[againID.EventID], len(all))
	}
	if d := s.Counters["dedup.duplicates"]; d != 2 {
		t.Errorf("dedup.duplicates = %d, want 2 (the redelivery and the windowed copy)", d)
	}
	var dead []map[string]any
	for _, r := range readRows(t, bo.OutputDirectory, schemas.TableDeadLetters) {
		if r["reason"] == archive.ReasonNoPublishTime {
			dead = append(dead, r)
		}
	}
	if len(dead) != 1 || dead[0]["publish_time"] != hour.Format(time.RFC3339) {
		t.Errorf("dead letters of reason %s: %v; want one, published at its partition's hour %s", archive.ReasonNoPublishTime, dead, hour.Format(time.RFC3339))
	}
	if c := s.Counters[archive.MetricNoPublishTime]; c != 1 {
		t.Errorf("%s = %d, want 1", archive.MetricNoPublishTime, c)
	}
	filepath.WalkDir(bo.OutputDirectory, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(path, "dt=0001-01-01") {
			t.Errorf("%s: a row without a time in the lake", path)
			return filepath.SkipAll
		}
		return nil
	})
}

// putArchiveFile writes lines, gzipped, at name under dir's archive.
func putArchiveFile(t *testing.T, dir, name, lines string) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(lines))
	zw.Close()
	ctx := context.Background()
	st, err := files.OpenStore(ctx, files.ArchivePrefix(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Create(ctx, files.Join(files.ArchivePrefix(dir), name), buf.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// readRows reads a table's live NDJSON rows under root.
func readRows(t *testing.T, root, table string) []map[string]any {
	t.Helper()
	raw, err := bigquery.ReadFileRows(context.Background(), root, table)
	if err != nil {
		t.Fatalf("reading %s: %v", table, err)
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		if err := json.Unmarshal(r, &out[i]); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
	}
	return out
}
