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

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/internal/termlog"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/privacy"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// Run builds and runs the pipeline on the runner named by Beam's --runner flag (Prism by
// default). With no input subscription it runs in local mode: an in-process Pub/Sub fed by the
// generator, stopping after the generated messages. Progress lines go to progress while it
// runs; the returned Summary holds the final metrics.
func Run(ctx context.Context, o Options, progress io.Writer) (Summary, error) {
	if w := DeliveryWarning(*runners.Runner); w != "" {
		slog.Warn(w)
	}
	now := time.Now().UTC()
	cfg := Config{Options: o, Start: now, RunID: now.Format("20060102T150405Z")}
	if err := privacy.CheckKey(ctx, o.Privacy()); err != nil {
		return Summary{}, flagError(err)
	}
	if o.OutputDataset != "" {
		// A missing table is a start-up error naming it, not a failure inside the first bundle.
		for _, t := range cfg.BigQueryTables() {
			if err := bigquery.EnsureTable(ctx, t); err != nil {
				return Summary{}, err
			}
		}
	}
	// Likewise a missing subscription or topic (a dry run, which builds no job, skips this).
	if err := CheckPubsub(ctx, cfg); err != nil {
		return Summary{}, err
	}
	var published chan error
	if o.InputSubscription == "" {
		local, err := StartLocalSource(ctx)
		if err != nil {
			return Summary{}, fmt.Errorf("starting local Pub/Sub: %w", err)
		}
		defer local.Close()
		cfg.InputSubscription, cfg.PubsubEndpoint = local.Subscription, local.Server.Addr
		if cfg.MaxMessages == 0 {
			cfg.MaxMessages = o.GenerateEvents
		}
		gen := LocalGeneratorConfig(o, time.Now())
		if err := gen.Validate(); err != nil {
			return Summary{}, err
		}
		termlog.Notice("local mode: publishing synthetic events to an in-process Pub/Sub",
			"events", gen.Count, "seed", gen.Seed, "subscription", local.Subscription)
		published = make(chan error, 1)
		go func() {
			_, err := local.Publish(ctx, gen, func(generate.Stats) {})
			published <- err
		}()
	}

	p, s := beam.NewPipelineWithRoot()
	Build(s, cfg)

	stop := make(chan struct{})
	go reportProgress(progress, o.ProgressInterval, cfg.MaxMessages, stop)
	start := time.Now()
	pr, err := beamx.RunWithMetrics(ctx, p)
	close(stop)
	elapsed := time.Since(start)
	if published != nil {
		if perr := <-published; perr != nil && err == nil {
			err = fmt.Errorf("publishing synthetic events: %w", perr)
		}
	}
	if err != nil {
		return Summary{}, fmt.Errorf("running the streaming pipeline: %w", err)
	}
	summary := newSummary(telemetry.FromPipeline(pr), elapsed)
	return summary, writeRunSummary(ctx, o.OutputDirectory, cfg.RunID, summary)
}
