package streaming

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/internal/sample" // sample:// reference data, on the workers too
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/privacy"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// NewConfig is the Config of a run of o launched at now.
func NewConfig(o Options, now time.Time) Config {
	now = now.UTC()
	return Config{Options: o, Start: now, RunID: now.Format("20060102T150405Z")}
}

// UseLocalSource points cfg at local mode's in-process Pub/Sub (package local) and, unless
// --maxMessages says otherwise, stops the run after the generated events (with several
// readers, which refuse --maxMessages, after localIdleTimeout without a message instead).
func (cfg *Config) UseLocalSource(subscription, endpoint string) {
	cfg.InputSubscription, cfg.PubsubEndpoint = subscription, endpoint
	if cfg.NumReaders > 1 {
		if cfg.IdleTimeout == 0 {
			cfg.IdleTimeout = localIdleTimeout
		}
		return
	}
	if cfg.MaxMessages == 0 {
		cfg.MaxMessages = cfg.GenerateEvents
	}
}

// localIdleTimeout stops a local run with several readers once the generator's events are read.
const localIdleTimeout = 10 * time.Second

// Run builds and runs the pipeline on the runner named by Beam's --runner flag (Prism by
// default; --runner=direct runs on Prism). The caller has validated cfg.Options and, in local
// mode, pointed cfg at the in-process Pub/Sub (UseLocalSource). Progress lines go to progress
// while it runs on in-process workers; the Summary holds the final metrics, or only DryRun after
// a Dataflow dry run.
func Run(ctx context.Context, cfg Config, progress io.Writer) (Summary, error) {
	runner.Resolve()
	if err := Preflight(ctx, cfg); err != nil {
		return Summary{}, err
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, cfg)
	summary, err := execute(ctx, p, cfg.ProgressInterval, cfg.MaxMessages, progress)
	if err != nil || summary.DryRun {
		return summary, err
	}
	return summary, writeRunSummary(ctx, cfg.OutputDirectory, cfg.RunID, summary)
}

// Preflight is what the launcher checks and says before building the job: the delivery
// warning of the runner, which reference data is the embedded sample, then the checks that
// need the network (the token key, the BigQuery tables, the subscription and topics), skipped in
// a dry run so that one needs no credentials.
func Preflight(ctx context.Context, cfg Config) error {
	o := cfg.Options
	if w := DeliveryWarning(*runners.Runner); w != "" {
		slog.Warn(w)
	}
	for flag, path := range map[string]string{"productCatalog": o.ProductCatalog, "currencyRates": o.CurrencyRates} {
		if sample.Is(path) {
			slog.Info("--"+flag+" is the sample data embedded in the binary; pass a gs:// URI for real data", "path", path)
		}
	}
	if runner.DryRun() {
		slog.Info("dry run: skipping the start-up checks that need the network (token key, BigQuery tables, Pub/Sub subscription and topics)")
		return nil
	}
	if err := privacy.CheckKey(ctx, o.Privacy()); err != nil {
		return flagError(err)
	}
	if o.OutputDataset != "" {
		// A missing table is a start-up error naming it, not a failure inside the first bundle.
		for _, t := range (Config{Options: o}).BigQueryTables() {
			if err := bigquery.EnsureTable(ctx, t); err != nil {
				return err
			}
		}
	}
	// Likewise a missing subscription or topic.
	return CheckPubsub(ctx, cfg)
}

// Execute runs p as Run does, for another pipeline built on Core (the backfill): progress lines
// every interval while in-process workers run it, then the summary.
func Execute(ctx context.Context, p *beam.Pipeline, every time.Duration, total int64, progress io.Writer) (Summary, error) {
	return execute(ctx, p, every, total, progress)
}

// execute runs p, printing progress while in-process workers run it, and returns the summary.
// total is the number of messages the run stops after (0: unknown), for the progress bar.
func execute(ctx context.Context, p *beam.Pipeline, every time.Duration, total int64, progress io.Writer) (Summary, error) {
	dry := runner.DryRun()
	stop := make(chan struct{})
	if runner.InProcess() && !dry {
		go reportProgress(progress, every, total, stop)
	}
	start := time.Now()
	pr, err := beamx.RunWithMetrics(ctx, p)
	close(stop)
	if err != nil {
		return Summary{}, fmt.Errorf("running the pipeline: %w", err)
	}
	if dry {
		return Summary{DryRun: true}, nil
	}
	return newSummary(telemetry.FromPipeline(pr), time.Since(start)), nil
}
