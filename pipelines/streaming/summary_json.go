package streaming

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/tributary-dev/tributary/transforms/files"
)

// SummaryFile is the name of the run summary under --outputDirectory.
const SummaryFile = "summary.json"

// SummaryJSON is summary.json: the summary table's numbers for scripts (CI asserts on a run
// without parsing the table). The schema is fixed: fields are only ever added, and Version
// changes if one changes meaning. README's "summary.json" section documents it.
type SummaryJSON struct {
	Version          int     `json:"version"` // 1
	Pipeline         string  `json:"pipeline"`
	RunID            string  `json:"run_id"`
	ElapsedSeconds   float64 `json:"elapsed_seconds"`
	EventsPerSecond  float64 `json:"events_per_second"`
	MessagesRead     int64   `json:"messages_read"`
	MessagesAcked    int64   `json:"messages_acked"`
	ValidEvents      int64   `json:"valid_events"`
	Duplicates       int64   `json:"duplicates_dropped"`
	Late             int64   `json:"late_dropped"`
	EnrichmentMisses int64   `json:"enrichment_misses"`
	// Rows holds the rows written per table, every table present.
	Rows              map[string]int64 `json:"rows"`
	AlertsPublished   int64            `json:"alerts_published"`
	DeadLetterReasons map[string]int64 `json:"dead_letter_reasons"`
	ArchiveMessages   int64            `json:"archive_messages"`
	ArchiveFiles      int64            `json:"archive_files"`
	// EventLagMs is processing minus event time at the sink; null when nothing was measured.
	EventLagMs *LagJSON `json:"event_lag_ms"`
	// Counters holds every tributary counter by name, the rows above included.
	Counters map[string]int64 `json:"counters"`
}

// LagJSON is a distribution in milliseconds.
type LagJSON struct {
	Count int64 `json:"count"`
	Min   int64 `json:"min"`
	Mean  int64 `json:"mean"`
	Max   int64 `json:"max"`
}

// summaryTables are the tables of SummaryJSON.Rows.
var summaryTables = []string{"events", "product_metrics", "trending_products", "user_sessions", "fraud_alerts", "dead_letters"}

// JSON returns the summary in summary.json's schema.
func (s Summary) JSON(runID string) SummaryJSON {
	c := s.Counters
	j := SummaryJSON{
		Version: 1, Pipeline: "streaming", RunID: runID,
		ElapsedSeconds: s.Elapsed.Seconds(), EventsPerSecond: s.EventsPerSecond(),
		MessagesRead: c["pubsub.out"], MessagesAcked: c["pubsub.acked"], ValidEvents: c["decode.out"],
		Duplicates: c["dedup.duplicates"], Late: c["late.dropped"], EnrichmentMisses: c["enrich.misses"],
		Rows: map[string]int64{}, AlertsPublished: c["alerts_topic.out"], DeadLetterReasons: map[string]int64{},
		ArchiveMessages: c["archive.out"], ArchiveFiles: c["archive.files"], Counters: map[string]int64{},
	}
	for _, t := range summaryTables {
		j.Rows[t] = c[t+".out"]
	}
	for name, v := range c {
		j.Counters[name] = v
		if reason, ok := strings.CutPrefix(name, "deadletter."); ok {
			j.DeadLetterReasons[reason] = v
		}
	}
	if s.Lag.Count > 0 {
		j.EventLagMs = &LagJSON{Count: s.Lag.Count, Min: s.Lag.Min, Mean: s.Lag.Mean, Max: s.Lag.Max}
	}
	return j
}

// writeRunSummary writes summary.json at the end of a run whose metrics came back to this
// process; a Dataflow launch returns before the job has numbers, its console shows them.
func writeRunSummary(ctx context.Context, dir, runID string, s Summary) error {
	if strings.HasPrefix(strings.ToLower(*runners.Runner), "dataflow") {
		return nil
	}
	return WriteSummaryJSON(ctx, dir, runID, s)
}

// WriteSummaryJSON writes the summary to <dir>/summary.json through the files store (local or
// gs://), replacing an earlier run's.
func WriteSummaryJSON(ctx context.Context, dir, runID string, s Summary) error {
	b, err := json.MarshalIndent(s.JSON(runID), "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", SummaryFile, err)
	}
	st, err := files.OpenStore(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Replace(ctx, files.Join(dir, SummaryFile), append(b, '\n')); err != nil {
		return fmt.Errorf("writing the run summary: %w", err)
	}
	return nil
}
