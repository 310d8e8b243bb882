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
		slog.Info("local mode: publishing synthetic events to an in-process Pub/Sub",
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
	go reportProgress(progress, o.ProgressInterval, stop)
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
	return newSummary(telemetry.FromPipeline(pr), elapsed), nil
}

// reportProgress prints a line of process-local totals every interval until stop closes. With
// Prism in-process the workers share this process; on a remote runner the totals stay zero and
// the runner's own UI shows progress.
func reportProgress(w io.Writer, every time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	start := time.Now()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			c := telemetry.Snapshot()
			read := c["pubsub.out"]
			fmt.Fprintf(w, "progress %5.0fs: read %d (%.0f/s), events %d, product_metrics %d, dead letters %d, duplicates %d, late %d\n",
				time.Since(start).Seconds(), read, float64(read)/time.Since(start).Seconds(), c["events.out"],
				c["product_metrics.out"], c["dead_letters.out"], c["dedup.duplicates"], c["late.dropped"])
		}
	}
}
