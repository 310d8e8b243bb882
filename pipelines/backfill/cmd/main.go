// Command backfill runs Tributary's backfill pipeline: it replays the streaming job's archive
// for an event-time range through the streaming pipeline's processing into the tables.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/internal/termlog"
	"github.com/tributary-dev/tributary/pipelines/backfill"
)

func main() {
	var o backfill.Options
	if err := options.Register(flag.CommandLine, &o); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	flag.CommandLine.Usage = func() {
		w := flag.CommandLine.Output()
		fmt.Fprintf(w, "Usage: %s [flags]\n\nTributary's backfill: replays the archive of [--from, --to) (or --range) into the tables.\n\n", os.Args[0])
		if err := options.Usage(w, &o); err != nil {
			fmt.Fprintln(w, err)
		}
	}
	flag.Parse()
	beam.Init()
	runner.Resolve() // before Validate: the rules depend on the runner
	if err := o.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	now := time.Now()
	cfg, err := backfill.NewConfig(o, now)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if *jobopts.JobName == "" {
		*jobopts.JobName = "tributary-backfill-" + now.UTC().Format("20060102-150405")
	}
	level, err := termlog.ParseLevel(o.LogLevel)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--logLevel:", err)
		os.Exit(2)
	}
	logs := termlog.New(os.Stderr, level)
	slog.SetDefault(slog.New(logs))
	defer logs.Flush()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	summary, err := backfill.Run(ctx, cfg, os.Stderr)
	logs.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if !summary.DryRun {
		summary.Print(os.Stdout)
	}
}
