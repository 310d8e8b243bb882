// Command streaming runs Tributary's streaming pipeline. With no --inputSubscription it runs in
// local mode: on Prism, against an in-process Pub/Sub fed by the synthetic generator.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/internal/termlog"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/pipelines/streaming/local"
)

func main() {
	var o streaming.Options
	if err := options.Register(flag.CommandLine, &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	listRunnerFlags := setUsage(flag.CommandLine, &o)
	flag.Parse()
	if *listRunnerFlags {
		printRunnerFlags(flag.CommandLine, &o)
		return
	}
	beam.Init()
	runner.Resolve() // before Validate: the rules depend on the runner
	if err := o.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	nameJob(time.Now())
	logs := setLogging(o.LogLevel)
	defer logs.Flush()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	summary, err := run(ctx, o)
	logs.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !summary.DryRun {
		summary.Print(os.Stdout)
	}
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
