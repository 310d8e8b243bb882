package streaming

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// Summary is what a finished run reports. After a dry run only DryRun is set, and there is
// nothing to print.
type Summary struct {
	DryRun   bool
	Elapsed  time.Duration
	Counters map[string]int64
	Lag      struct{ Count, Min, Mean, Max int64 }
	// Pipeline names the pipeline in the title (empty: streaming); Header holds lines a
	// pipeline prints before the table rows (the backfill's range and partitions).
	Pipeline string
	Header   [][2]string
}

func newSummary(r telemetry.Results, elapsed time.Duration) Summary {
	s := Summary{Elapsed: elapsed, Counters: r.Counters}
	if d, ok := r.Distributions["event_lag_ms"]; ok && d.Count > 0 {
		s.Lag.Count, s.Lag.Min, s.Lag.Max, s.Lag.Mean = d.Count, d.Min, d.Max, d.Sum/d.Count
	}
	return s
}

// EventsPerSecond is the rate of messages read over the whole run.
func (s Summary) EventsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(messagesRead(s.Counters)) / s.Elapsed.Seconds()
}

// Print writes the summary as a table.
func (s Summary) Print(w io.Writer) error {
	c := s.Counters
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	line := func(name string, v any, note string) { fmt.Fprintf(tw, "  %s\t%12v\t%s\n", name, v, note) }
	pipeline := s.Pipeline
	if pipeline == "" {
		pipeline = "streaming"
	}
	fmt.Fprintf(tw, "Tributary %s: summary after %s\n", pipeline, s.Elapsed.Round(time.Millisecond))
	for _, h := range s.Header {
		line(h[0], h[1], "")
	}
	line("messages read", messagesRead(c), fmt.Sprintf("%.0f events/s", s.EventsPerSecond()))
	if s.Pipeline == "" {
		line("messages acked", c["pubsub.acked"], "")
	}
	line("valid events decoded", c["decode.out"], "")
	line("duplicates dropped", c["dedup.duplicates"], "dedup.duplicates")
	line("late events kept out of windows", c["late.dropped"], "late.dropped")
	line("enrichment misses", c["enrich.misses"], "unknown product or currency")
	line("rows: events", c["events.out"], "")
	line("rows: product_metrics", c["product_metrics.out"], "")
	line("rows: trending_products", c["trending_products.out"], "")
	line("rows: user_sessions", c["user_sessions.out"], "")
	line("rows: fraud_alerts", c["fraud_alerts.out"], fmt.Sprintf("%d published", c["alerts_topic.out"]))
	line("rows: dead_letters", c["dead_letters.out"], deadLetterReasons(c))
	if s.Pipeline == "" {
		line("archive: messages / files", fmt.Sprintf("%d / %d", c["archive.out"], c["archive.files"]), "")
	}
	if s.Lag.Count > 0 {
		line("event lag ms (min/mean/max)", fmt.Sprintf("%d/%d/%d", s.Lag.Min, s.Lag.Mean, s.Lag.Max), "processing − event time at the sink")
	}
	return tw.Flush()
}

func deadLetterReasons(c map[string]int64) string {
	var parts []string
	for _, name := range telemetry.Names(c) {
		if reason, ok := strings.CutPrefix(name, "deadletter."); ok {
			parts = append(parts, fmt.Sprintf("%s %d", reason, c[name]))
		}
	}
	return strings.Join(parts, ", ")
}
