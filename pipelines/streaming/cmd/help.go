package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/internal/termlog"
	"github.com/tributary-dev/tributary/pipelines/streaming"
)

// helpRunner is the flag that lists Beam's runner flags, which --help leaves out.
const helpRunner = "help_runner"

// setUsage makes --help print Tributary's flags by group, as README's parameter table lists
// them, and one line pointing to --help_runner for Beam's runner flags.
func setUsage(fs *flag.FlagSet, o *streaming.Options) *bool {
	list := fs.Bool(helpRunner, false, "list Beam's runner flags (--runner, --endpoint, --job_name, ...) and exit")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s [flags]\n\nTributary's streaming pipeline. With no --inputSubscription it runs locally on Prism,\n"+
			"fed by an in-process Pub/Sub and the synthetic generator.\n\n", fs.Name())
		if err := options.Usage(w, o); err != nil {
			fmt.Fprintln(w, err)
		}
		n, _ := options.CountRunnerFlags(fs, o, helpRunner)
		fmt.Fprintf(w, "\nBeam's runner flags (--runner, --endpoint, --environment_type, --job_name and %d more): --%s lists them.\n", n-4, helpRunner)
	}
	return list
}

// printRunnerFlags lists the flags --help leaves out.
func printRunnerFlags(fs *flag.FlagSet, o *streaming.Options) {
	fmt.Fprintln(os.Stdout, "Beam's runner flags (Tributary's own: --help):")
	if err := options.RunnerUsage(os.Stdout, fs, o, helpRunner); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

// setLogging replaces the logger beam.Init set up: the runner's lines below level are dropped
// and repeats are counted (termlog); Validate has checked level.
func setLogging(level string) *termlog.Handler {
	l, err := termlog.ParseLevel(level)
	if err != nil {
		fmt.Fprintln(os.Stderr, "--logLevel:", err)
		os.Exit(2)
	}
	if runner.DryRun() {
		// A dry run's output is its log: the pipeline proto and the Job JSON, at INFO.
		l = min(l, slog.LevelInfo)
	}
	h := termlog.New(os.Stderr, l)
	slog.SetDefault(slog.New(h))
	return h
}

// nameJob gives the job a readable default name (Prism's UI, Dataflow's console) instead of
// Beam's go-job-1-<nanos>: tributary-streaming-<UTC start time>.
func nameJob(now time.Time) {
	if *jobopts.JobName == "" {
		*jobopts.JobName = "tributary-streaming-" + now.UTC().Format("20060102-150405")
	}
}
