package backfill

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/internal/termlog"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/transforms/archive"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/privacy"
)

// Config is what Build needs: the validated options with the range resolved at launch.
type Config struct {
	Options
	// From and To are the resolved range [From, To) of event time.
	From, To time.Time
	// Start is when the run was launched: its BigQuery changes order after earlier runs'.
	Start time.Time
	// RunID names the run (dead_letters.run_id).
	RunID string
	// PartitionDelay (paced) slows the reader between partitions; 0: none.
	PartitionDelay time.Duration
}

// NewConfig resolves the range of o at now; o has been validated.
func NewConfig(o Options, now time.Time) (Config, error) {
	now = now.UTC()
	from, to, err := ResolveRange(o.From, o.To, o.Range, now)
	if err != nil {
		return Config{}, err
	}
	return Config{Options: o, From: from, To: to, Start: now, RunID: "backfill-" + now.Format("20060102T150405Z")}, nil
}

// Partitions are the archive partitions the run reads: from From - Context to To + the archive
// lateness.
func (cfg Config) Partitions() []string {
	return Partitions(cfg.From, cfg.To, cfg.Context(), cfg.ArchiveLateness)
}

// Streaming is the streaming pipeline's Config for the core of this run: the shared options,
// the run's identity, and BigQuery changes of the backfill class.
func (cfg Config) Streaming() streaming.Config {
	return streaming.Config{Options: streaming.Options{CoreOptions: cfg.CoreOptions},
		Start: cfg.Start, RunID: cfg.RunID, Backfill: true, Replace: &bigquery.Range{From: cfg.From, To: cfg.To}}
}

// archiveRoot is the output root the archive sits under (archive.ReadConfig.Directory):
// --archive names the archive/ folder itself.
func archiveRoot(archiveDir string) string {
	d := strings.TrimSuffix(archiveDir, "/")
	if d == "archive" {
		return "."
	}
	return strings.TrimSuffix(d, "/archive")
}

// Build adds the backfill to s: the archive's partitions of the range and its context, replayed
// through streaming.Process, the rows of the range kept (InRange), then streaming.Write; no
// archive writer. The caller has validated cfg.Options.
func Build(s beam.Scope, cfg Config) streaming.Outputs {
	read := archive.Read(s, archive.ReadConfig{
		Directory:          archiveRoot(cfg.Archive),
		Partitions:         cfg.Partitions(),
		TimestampAttribute: cfg.TimestampAttribute,
		MaxTimestampSkew:   cfg.MaxTimestampSkew,
		MaxTimestampAge:    cfg.MaxTimestampAge,
		Paced:              cfg.Paced(),
		Lateness:           cfg.ArchiveLateness,
		PartitionDelay:     cfg.PartitionDelay,
	})
	msgs := beam.ParDo(s.Scope("backfill.Count"), &countReplayed{}, read.Messages)
	sc := cfg.Streaming()
	p := InRange(s, streaming.Process(s, msgs, sc), cfg.From, cfg.To)
	// An unreadable archive file is a dead letter of the run whatever its partition.
	p.DeadLetters = append(p.DeadLetters, read.DeadLetters)
	return streaming.Write(s, p, sc)
}

// preflight checks what needs the network before the job is built (skipped in a dry run): the
// token key and the BigQuery tables. The archive's partitions are listed by the reader.
func preflight(ctx context.Context, cfg Config) error {
	if runner.DryRun() {
		slog.Info("dry run: skipping the start-up checks that need the network (token key, BigQuery tables)")
		return nil
	}
	if err := privacy.CheckKey(ctx, cfg.Privacy()); err != nil {
		return err
	}
	if cfg.OutputDataset == "" {
		return nil
	}
	for _, t := range cfg.Streaming().BigQueryTables() {
		if err := bigquery.EnsureTable(ctx, t); err != nil {
			return err
		}
	}
	return nil
}

// StartLine is the line the run starts with: the range, its context and what is read.
func (cfg Config) StartLine() (string, []any) {
	parts := cfg.Partitions()
	mode := "batch"
	if cfg.Paced() {
		mode = "paced"
	}
	return "backfill: replaying the archive", []any{
		"from", cfg.From.Format(time.RFC3339), "to", cfg.To.Format(time.RFC3339),
		"context", cfg.Context().String(), "archiveLateness", cfg.ArchiveLateness.String(),
		"partitions", fmt.Sprintf("%d (%s … %s)", len(parts), parts[0], parts[len(parts)-1]),
		"replay", mode, "archive", cfg.Archive,
	}
}

// Run builds and runs the backfill on the runner Beam's --runner names (Prism by default),
// printing progress lines to progress while in-process workers run it, and returns the summary.
func Run(ctx context.Context, cfg Config, progress io.Writer) (streaming.Summary, error) {
	runner.Resolve()
	msg, args := cfg.StartLine()
	termlog.Notice(msg, args...)
	if err := preflight(ctx, cfg); err != nil {
		return streaming.Summary{}, err
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, cfg)
	summary, err := streaming.Execute(ctx, p, cfg.ProgressInterval, 0, progress)
	if err != nil || summary.DryRun {
		return summary, err
	}
	summary.Pipeline = "backfill"
	summary.Header = [][2]string{
		{"range", fmt.Sprintf("[%s, %s)", cfg.From.Format(time.RFC3339), cfg.To.Format(time.RFC3339))},
		{"context before from", cfg.Context().String()},
		{"partitions / files read", fmt.Sprintf("%d / %d", summary.Counters[archive.MetricPartitions], summary.Counters[archive.MetricFiles])},
		{"rows outside the range dropped", fmt.Sprint(summary.Counters[outsideRange])},
	}
	if n, ok := peakRSS(); ok && runner.InProcess() {
		// The in-process workers' peak too: what a replay of this range and rate needs.
		summary.Header = append(summary.Header, [2]string{"peak RSS (VmHWM)", mebibytes(n)})
	}
	return summary, nil
}
