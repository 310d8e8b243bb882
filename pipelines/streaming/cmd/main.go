// Command streaming runs Tributary's streaming pipeline. With no --inputSubscription it runs
// locally on Prism against an in-process Pub/Sub fed by the synthetic generator.
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
	"github.com/tributary-dev/tributary/pipelines/streaming"
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
	if err := o.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	nameJob(time.Now())
	logs := setLogging(o.LogLevel)
	defer logs.Flush()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	summary, err := streaming.Run(ctx, o, os.Stderr)
	logs.Flush()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	summary.Print(os.Stdout)
}
