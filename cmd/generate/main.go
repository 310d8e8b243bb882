// Command generate publishes synthetic commerce events to a Pub/Sub topic (or the emulator named
// by PUBSUB_EMULATOR_HOST), deterministic given --seed.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"regexp"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/tributary-dev/tributary/internal/generate"
)

var topicName = regexp.MustCompile(`^projects/([^/]+)/topics/[^/]+$`)

func main() {
	var cfg generate.Config
	topic := flag.String("topic", "", "topic to publish to, projects/<project>/topics/<topic> (required)")
	flag.Int64Var(&cfg.Count, "count", 10000, "number of messages, malformed ones and duplicates included")
	flag.Float64Var(&cfg.Rate, "rate", 0, "messages per second, 0 = as fast as possible")
	flag.IntVar(&cfg.Users, "users", generate.DefaultUsers, "number of distinct users")
	flag.IntVar(&cfg.Products, "products", generate.DefaultProducts, "number of catalog products p-0001…")
	flag.Float64Var(&cfg.MalformedFraction, "malformedFraction", 0.02, "fraction of messages that are dead letters")
	flag.Float64Var(&cfg.DuplicateFraction, "duplicateFraction", 0.02, "fraction of messages that repeat an earlier one")
	flag.Float64Var(&cfg.LateFraction, "lateFraction", 0.01, "fraction of events whose payload time trails the event clock by --lateBy")
	flag.DurationVar(&cfg.LateBy, "lateBy", generate.DefaultLateBy, "how late the late events are")
	flag.Int64Var(&cfg.Seed, "seed", 1, "random seed; the same flags give the same messages")
	start := flag.String("start", "", "event time of the first event, RFC 3339 (default now minus count×interval)")
	flag.DurationVar(&cfg.Interval, "interval", generate.DefaultInterval, "event-time spacing between messages")
	flag.BoolVar(&cfg.Oversized, "oversized", false, "let a few malformed messages be payloads over 1 MiB")
	flag.Parse()

	m := topicName.FindStringSubmatch(*topic)
	if m == nil {
		usage("invalid --topic: want projects/<project>/topics/<topic>, got %q", *topic)
	}
	cfg.Start = time.Now().Add(-time.Duration(cfg.Count) * cfg.Interval).Truncate(time.Millisecond)
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			usage("invalid --start: %v", err)
		}
		cfg.Start = t
	}
	if err := cfg.Validate(); err != nil {
		usage("%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	client, err := pubsub.NewClient(ctx, m[1])
	if err != nil {
		slog.Error("creating Pub/Sub client", "err", err)
		os.Exit(1)
	}
	defer client.Close()
	publisher := client.Publisher(*topic)
	defer publisher.Stop()

	s, err := generate.Publish(ctx, publisher, cfg, func(s generate.Stats) {
		slog.Info("progress", "published", s.Published, "of", cfg.Count, "per_second", perSecond(s))
	})
	slog.Info("summary", "topic", *topic, "published", s.Published, "valid", s.Valid, "malformed", s.Malformed,
		"duplicates", s.Duplicates, "late", s.Late, "elapsed", s.Elapsed.Round(time.Millisecond), "per_second", perSecond(s))
	if err != nil {
		slog.Error("publishing failed", "err", err)
		os.Exit(1) // deferred Stop and Close are skipped: the process is going away anyway
	}
}

func perSecond(s generate.Stats) string {
	return fmt.Sprintf("%.0f", float64(s.Published)/s.Elapsed.Seconds())
}

// usage reports an invalid flag the way flag.Parse does: message, usage, exit 2.
func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	flag.Usage()
	os.Exit(2)
}
