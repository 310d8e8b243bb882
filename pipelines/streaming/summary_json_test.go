package streaming

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestWriteSummaryJSON pins summary.json's schema (README documents it): the keys, their values
// from the counters, and that a second run replaces the first run's file.
func TestWriteSummaryJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	s := Summary{Elapsed: 4 * time.Second, Counters: map[string]int64{
		"pubsub.out": 1000, "pubsub.acked": 1000, "decode.out": 980, "dedup.duplicates": 20, "late.dropped": 5,
		"enrich.misses": 7, "events.out": 955, "product_metrics.out": 40, "fraud_alerts.out": 3, "alerts_topic.out": 3,
		"dead_letters.out": 20, "deadletter.invalid_json": 12, "deadletter.invalid_schema": 8,
		"archive.out": 1000, "archive.files": 4,
	}}
	s.Lag.Count, s.Lag.Min, s.Lag.Mean, s.Lag.Max = 955, 10, 200, 900
	for _, run := range []string{"run1", "run2"} {
		if err := WriteSummaryJSON(context.Background(), dir, run, s); err != nil {
			t.Fatalf("%s: %v", run, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	wantKeys := []string{"alerts_published", "archive_files", "archive_messages", "counters", "dead_letter_reasons",
		"duplicates_dropped", "elapsed_seconds", "enrichment_misses", "event_lag_ms", "events_per_second",
		"late_dropped", "messages_acked", "messages_read", "pipeline", "rows", "run_id", "valid_events", "version"}
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("summary.json keys (-want +got):\n%s", diff)
	}
	var j SummaryJSON
	if err := json.Unmarshal(b, &j); err != nil {
		t.Fatal(err)
	}
	want := SummaryJSON{
		Version: 1, Pipeline: "streaming", RunID: "run2", ElapsedSeconds: 4, EventsPerSecond: 250,
		MessagesRead: 1000, MessagesAcked: 1000, ValidEvents: 980, Duplicates: 20, Late: 5, EnrichmentMisses: 7,
		Rows: map[string]int64{"events": 955, "product_metrics": 40, "trending_products": 0, "user_sessions": 0,
			"fraud_alerts": 3, "dead_letters": 20},
		AlertsPublished: 3, DeadLetterReasons: map[string]int64{"invalid_json": 12, "invalid_schema": 8},
		ArchiveMessages: 1000, ArchiveFiles: 4, EventLagMs: &LagJSON{Count: 955, Min: 10, Mean: 200, Max: 900},
		Counters: s.Counters,
	}
	if diff := cmp.Diff(want, j); diff != "" {
		t.Errorf("summary.json (-want +got):\n%s", diff)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".tmp-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}
