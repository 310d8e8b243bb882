package streaming

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
	localTopic        = "projects/tributary-local/topics/events"
	localSubscription = "projects/tributary-local/subscriptions/events"
)

// LocalSource is an in-process Pub/Sub server (pstest) with a topic and a subscription, fed by
// the synthetic generator: local mode needs no cloud account and no emulator.
type LocalSource struct {
	Server       *pstest.Server
	Topic        string
	Subscription string
}

// StartLocalSource starts the server and creates the topic and subscription.
func StartLocalSource(ctx context.Context) (*LocalSource, error) {
	srv := pstest.NewServer()
	c, err := pubsub.NewClient(ctx, localTopic, srv.Addr)
	if err != nil {
		srv.Close()
		return nil, err
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: localTopic}); err != nil {
		srv.Close()
		return nil, fmt.Errorf("creating local topic: %w", err)
	}
	if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: localSubscription, Topic: localTopic, AckDeadlineSeconds: 60}); err != nil {
		srv.Close()
		return nil, fmt.Errorf("creating local subscription: %w", err)
	}
	return &LocalSource{Server: srv, Topic: localTopic, Subscription: localSubscription}, nil
}

// Publish feeds the server with the generator.
func (l *LocalSource) Publish(ctx context.Context, cfg generate.Config, progress func(generate.Stats)) (generate.Stats, error) {
	c, err := pubsub.NewClient(ctx, l.Topic, l.Server.Addr)
	if err != nil {
		return generate.Stats{}, err
	}
	defer c.Close()
	pub := c.Publisher(l.Topic)
	defer pub.Stop()
	return generate.Publish(ctx, pub, cfg, progress)
}

// Close stops the server.
func (l *LocalSource) Close() error { return l.Server.Close() }

// LocalGeneratorConfig is the synthetic traffic of local mode: mostly valid events, with a
// little of everything the pipeline must handle, their event times ending about now; with
// --generateRate, published at that rate with event times following the wall clock from now.
func LocalGeneratorConfig(o Options, now time.Time) generate.Config {
	cfg := generate.Config{
		Start:              now.Add(-time.Duration(o.GenerateEvents) * generate.DefaultInterval).Truncate(time.Minute),
		Count:              o.GenerateEvents,
		Seed:               o.GenerateSeed,
		MalformedFraction:  0.01,
		DuplicateFraction:  0.02,
		LateFraction:       0.01,
		TimestampAttribute: o.TimestampAttribute,
	}
	if o.GenerateRate > 0 {
		cfg.Start, cfg.Rate, cfg.Interval = now, o.GenerateRate, generate.IntervalOf(o.GenerateRate)
	}
	return cfg
}
