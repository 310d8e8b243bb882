package streaming

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// ErrPubsubNotFound is wrapped by CheckPubsub's error for a missing subscription or topic.
var ErrPubsubNotFound = errors.New("not found")

// pubsubResource is one Pub/Sub resource the pipeline needs at start-up.
type pubsubResource struct {
	flag, what, path, endpoint string
	topic                      bool
}

// CheckPubsub checks, before the pipeline is built, that the input subscription exists and that
// the alerts and dead-letter topics exist when set, so a missing one is a one-line start-up error
// naming it rather than a failure deep inside the first bundle. It needs pubsub.subscriptions.get
// and pubsub.topics.get (roles/pubsub.viewer); on PermissionDenied it warns and goes on. A dry
// run skips it.
func CheckPubsub(ctx context.Context, cfg Config) error {
	var rs []pubsubResource
	if cfg.InputSubscription != "" {
		rs = append(rs, pubsubResource{"inputSubscription", "input subscription", cfg.InputSubscription, cfg.PubsubEndpoint, false})
	}
	if cfg.AlertsTopic != "" {
		rs = append(rs, pubsubResource{"alertsTopic", "alerts topic", cfg.AlertsTopic, cfg.PubsubEndpoint, true})
	}
	if cfg.DeadLetterTopic != "" {
		rs = append(rs, pubsubResource{"deadLetterTopic", "dead-letter topic", cfg.DeadLetterTopic, cfg.PubsubEndpoint, true})
	}
	for _, r := range rs {
		if err := r.check(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (r pubsubResource) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c, err := pubsub.NewClient(ctx, r.path, r.endpoint)
	if err != nil {
		return fmt.Errorf("--%s: %w", r.flag, err)
	}
	defer c.Close()
	if r.topic {
		_, err = c.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: r.path})
	} else {
		_, err = c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: r.path})
	}
	switch status.Code(err) {
	case codes.OK:
		return nil
	case codes.NotFound:
		create := "gcloud pubsub subscriptions create <name> --topic=<topic>"
		if r.topic {
			create = "gcloud pubsub topics create <name>"
		}
		return fmt.Errorf("%s %s %w: create it (terraform/, or %s) or fix --%s", r.what, r.path, ErrPubsubNotFound, create, r.flag)
	case codes.PermissionDenied:
		perm := "pubsub.subscriptions.get"
		if r.topic {
			perm = "pubsub.topics.get"
		}
		slog.Warn(fmt.Sprintf("cannot check that the %s exists (grant roles/pubsub.viewer for %s); going on", r.what, perm), "resource", r.path)
		return nil
	}
	return fmt.Errorf("checking the %s %s (--%s): %v", r.what, r.path, r.flag, status.Convert(err).Message())
}
