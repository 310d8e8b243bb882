// Package local is the streaming pipeline's local mode: an in-process Pub/Sub server (pstest)
// with a topic and a subscription, fed by the synthetic generator, standing in for
// --inputSubscription so a run needs no cloud account and no emulator. It lives apart from
// package streaming, which the workers need, and only the launcher (cmd/) and tests import it.
package local

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// Local mode's in-process Pub/Sub resources.
const (
	Topic        = "projects/tributary-local/topics/events"
	Subscription = "projects/tributary-local/subscriptions/events"
)

// Source is the in-process Pub/Sub server with its topic and subscription.
type Source struct {
	Server       *pstest.Server
	Topic        string
	Subscription string
}

// Start starts the server and creates the topic and subscription.
func Start(ctx context.Context) (*Source, error) {
	srv := pstest.NewServer()
	c, err := pubsub.NewClient(ctx, Topic, srv.Addr)
	if err != nil {
		srv.Close()
		return nil, err
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: Topic}); err != nil {
		srv.Close()
		return nil, fmt.Errorf("creating local topic: %w", err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: Subscription, Topic: Topic, AckDeadlineSeconds: 60}); err != nil {
		srv.Close()
		return nil, fmt.Errorf("creating local subscription: %w", err)
	}
	return &Source{Server: srv, Topic: Topic, Subscription: Subscription}, nil
}

// Publish feeds the server with the generator.
func (l *Source) Publish(ctx context.Context, cfg generate.Config, progress func(generate.Stats)) (generate.Stats, error) {
	c, err := pubsub.NewClient(ctx, l.Topic, l.Server.Addr)
	if err != nil {
		return generate.Stats{}, err
	}
	defer c.Close()
	pub := c.Publisher(l.Topic)
	defer pub.Stop()
	return generate.Publish(ctx, pub, cfg, progress)
}

// PublishInBackground publishes cfg's events while the pipeline runs; the channel delivers
// the result once.
func (l *Source) PublishInBackground(ctx context.Context, cfg generate.Config) <-chan error {
	done := make(chan error, 1)
	go func() {
		_, err := l.Publish(ctx, cfg, func(generate.Stats) {})
		done <- err
	}()
	return done
}

// Close stops the server.
func (l *Source) Close() error { return l.Server.Close() }

// Generator is the synthetic traffic of local mode: events mostly valid, with a little of
// everything the pipeline must handle, their event times ending about now.
func Generator(events, seed int64, rate float64, timestampAttribute string, now time.Time) generate.Config {
	cfg := generate.Config{
		Start:              now.Add(-time.Duration(events) * generate.DefaultInterval).Truncate(time.Minute),
		Count:              events,
		Seed:               seed,
		MalformedFraction:  0.01,
		DuplicateFraction:  0.02,
		LateFraction:       0.01,
		TimestampAttribute: timestampAttribute,
	}
	if rate > 0 {
		// --generateRate: published at that rate, event times following the wall clock from now.
		cfg.Start, cfg.Rate, cfg.Interval = now, rate, generate.IntervalOf(rate)
	}
	return cfg
}
