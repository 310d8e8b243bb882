// Command streaming runs Tributary's streaming pipeline. With no --inputSubscription it runs in
// local mode: on Prism, against an in-process Pub/Sub fed by the synthetic generator.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/tributary-dev/tributary/internal/command"
	"github.com/tributary-dev/tributary/internal/termlog"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/pipelines/streaming/local"
)

func main() {
	var o streaming.Options
	command.Parse(&o, "Tributary's streaming pipeline. With no --inputSubscription it runs locally on Prism,\n"+
		"fed by an in-process Pub/Sub and the synthetic generator.")
	command.NameJob("streaming", time.Now())
	command.Run(o.LogLevel, func(ctx context.Context) (func(io.Writer) error, error) {
		summary, err := run(ctx, o)
		if err != nil || summary.DryRun {
			return nil, err
		}
		return summary.Print, nil
	})
}

// run runs the pipeline; in local mode (no --inputSubscription, refused by Validate off Prism)
// against an in-process Pub/Sub the generator feeds while the pipeline reads.
func run(ctx context.Context, o streaming.Options) (streaming.Summary, error) {
	cfg := streaming.NewConfig(o, time.Now())
	if o.InputSubscription != "" {
		return streaming.Run(ctx, cfg, os.Stderr)
	}
	gen := local.Generator(o.GenerateEvents, o.GenerateSeed, o.GenerateRate, o.TimestampAttribute, time.Now())
	if err := gen.Validate(); err != nil {
		return streaming.Summary{}, err
	}
	src, err := local.Start(ctx)
	if err != nil {
		return streaming.Summary{}, fmt.Errorf("starting local Pub/Sub: %w", err)
	}
	defer src.Close()
	cfg.UseLocalSource(src.Subscription, src.Server.Addr)
	termlog.Notice("local mode: publishing synthetic events to an in-process Pub/Sub",
		"events", gen.Count, "seed", gen.Seed, "subscription", src.Subscription)
	pubCtx, stopPublishing := context.WithCancel(ctx)
	defer stopPublishing()
	published := src.PublishInBackground(pubCtx, gen)
	summary, err := streaming.Run(ctx, cfg, os.Stderr)
	if err != nil {
		stopPublishing()
		<-published
		return streaming.Summary{}, err
	}
	if err := <-published; err != nil {
		return streaming.Summary{}, fmt.Errorf("publishing synthetic events: %w", err)
	}
	return summary, nil
}
