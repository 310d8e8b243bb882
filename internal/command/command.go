// Package command is the start-up the pipelines' commands share: flags from an options struct
// with --help by group (Beam's runner flags behind --help_runner), validation that exits 2 as
// flag.Parse does, a readable default job name, the terminal log, and the run with its summary.
package command

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/internal/termlog"
)

// helpRunner is the flag that lists Beam's runner flags, which --help leaves out.
const helpRunner = "help_runner"

// Options is a pipeline's options struct (see internal/options).
type Options interface{ Validate() error }

// Parse registers o's flags on the command line, parses them, initializes Beam, resolves the
// runner and validates o. --help prints about and o's flags by group, as README's parameter
// table lists them; --help_runner lists Beam's runner flags and exits. A bad flag exits 2.
func Parse(o Options, about string) {
	fs := flag.CommandLine
	if err := options.Register(fs, o); err != nil {
		Fail(err)
	}
	list := fs.Bool(helpRunner, false, "list Beam's runner flags (--runner, --endpoint, --job_name, ...) and exit")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s [flags]\n\n%s\n\n", fs.Name(), about)
		if err := options.Usage(w, o); err != nil {
			fmt.Fprintln(w, err)
		}
		n, _ := options.CountRunnerFlags(fs, o, helpRunner)
		fmt.Fprintf(w, "\nBeam's runner flags (--runner, --endpoint, --environment_type, --job_name and %d more): --%s lists them.\n", n-4, helpRunner)
	}
	flag.Parse()
	if *list {
		fmt.Fprintln(os.Stdout, "Beam's runner flags (Tributary's own: --help):")
		if err := options.RunnerUsage(os.Stdout, fs, o, helpRunner); err != nil {
			Fail(err)
		}
		os.Exit(0)
	}
	beam.Init()
	runner.Resolve() // before Validate: the rules depend on the runner
	if err := o.Validate(); err != nil {
		Fail(err)
	}
}

// Fail reports a bad flag and exits 2, as flag.Parse does.
func Fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(2)
}

// NameJob gives the job a readable default name (Prism's UI, Dataflow's console) instead of
// Beam's go-job-1-<nanos>: tributary-<pipeline>-<UTC start time>.
func NameJob(pipeline string, now time.Time) {
	if *jobopts.JobName == "" {
		*jobopts.JobName = "tributary-" + pipeline + "-" + now.UTC().Format("20060102-150405")
	}
}

// Run replaces the logger beam.Init set up with the terminal log at level (the runner's lines
// below it dropped, repeats counted; a dry run's output is its log, so it logs at INFO at
// least), runs run with a context an interrupt cancels and prints the summary it returns to
// stdout (nil: none). A failure exits 1.
func Run(level string, run func(context.Context) (summary func(io.Writer) error, err error)) {
	l, err := termlog.ParseLevel(level)
	if err != nil {
		Fail(fmt.Errorf("--logLevel: %w", err))
	}
	if runner.DryRun() {
		l = min(l, slog.LevelInfo)
	}
	logs := termlog.New(os.Stderr, l)
	slog.SetDefault(slog.New(logs))
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	summary, err := run(ctx)
	cancel()
	logs.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if summary != nil {
		summary(os.Stdout) // a stdout that fails does not fail a finished run
	}
}
