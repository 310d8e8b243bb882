package pubsub

import (
	"context"
	"fmt"
	"regexp"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

var subscriptionPath = regexp.MustCompile(`^projects/([^/]+)/subscriptions/([^/]+)$`)
var topicPath = regexp.MustCompile(`^projects/([^/]+)/topics/([^/]+)$`)

// ProjectOf returns the project of a full subscription or topic path.
func ProjectOf(path string) (string, error) {
	if m := subscriptionPath.FindStringSubmatch(path); m != nil {
		return m[1], nil
	}
	if m := topicPath.FindStringSubmatch(path); m != nil {
		return m[1], nil
	}
	return "", fmt.Errorf("%q is not projects/<project>/subscriptions/<name> or projects/<project>/topics/<name>", path)
}

// NewClient connects to Pub/Sub for the project of path. A non-empty endpoint (host:port) is an
// emulator or in-process test server reached without TLS or credentials; otherwise the client
// uses Google's endpoint, or PUBSUB_EMULATOR_HOST when that is set.
func NewClient(ctx context.Context, path, endpoint string) (*pubsub.Client, error) {
	project, err := ProjectOf(path)
	if err != nil {
		return nil, err
	}
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts,
			option.WithEndpoint(endpoint),
			option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	c, err := pubsub.NewClient(ctx, project, opts...)
	if err != nil {
		return nil, fmt.Errorf("creating pubsub client for %s: %w", path, err)
	}
	return c, nil
}
