// Command backfill runs Tributary's backfill pipeline: it replays the streaming job's archive
// for an event-time range through the streaming pipeline's processing into the tables.
package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/tributary-dev/tributary/internal/command"
	"github.com/tributary-dev/tributary/pipelines/backfill"
)

func main() {
	var o backfill.Options
	command.Parse(&o, "Tributary's backfill: replays the archive of [--from, --to) (or --range) into the tables.")
	now := time.Now()
	cfg, err := backfill.NewConfig(o, now)
	if err != nil {
		command.Fail(err)
	}
	command.NameJob("backfill", now)
	command.Run(o.LogLevel, func(ctx context.Context) (func(io.Writer) error, error) {
		summary, err := backfill.Run(ctx, cfg, os.Stderr)
		if err != nil || summary.DryRun {
			return nil, err
		}
		return summary.Print, nil
	})
}
