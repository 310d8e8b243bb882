package streaming

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/grpc/codes"

	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// TestCheckPubsub checks the start-up check against pstest: existing resources pass, a missing
// subscription or topic is an error naming it and its flag, PermissionDenied only warns.
func TestCheckPubsub(t *testing.T) {
	const (
		topic   = "projects/p/topics/events"
		sub     = "projects/p/subscriptions/events"
		missing = "projects/p/topics/missing"
	)
	ctx := context.Background()
	newServer := func(t *testing.T, opts ...pstest.ServerReactorOption) string {
		srv := pstest.NewServer(opts...)
		t.Cleanup(func() { srv.Close() })
		c, err := pubsub.NewClient(ctx, topic, srv.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topic}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{Name: sub, Topic: topic}); err != nil {
			t.Fatal(err)
		}
		return srv.Addr
	}
	for _, tc := range []struct {
		name              string
		sub, alerts, dead string
		opts              []pstest.ServerReactorOption
		wantErr           []string // substrings of the error; nil: no error
	}{
		{name: "all exist", sub: sub, alerts: topic, dead: topic},
		{name: "unset topics", sub: sub},
		{name: "missing subscription", sub: "projects/p/subscriptions/nope", alerts: topic,
			wantErr: []string{"input subscription projects/p/subscriptions/nope not found", "--inputSubscription"}},
		{name: "missing alerts topic", sub: sub, alerts: missing, dead: topic,
			wantErr: []string{"alerts topic " + missing + " not found", "--alertsTopic"}},
		{name: "missing dead-letter topic", sub: sub, alerts: topic, dead: missing,
			wantErr: []string{"dead-letter topic " + missing + " not found", "--deadLetterTopic"}},
		{name: "permission denied warns", sub: sub, alerts: missing,
			opts: []pstest.ServerReactorOption{pstest.WithErrorInjection("GetTopic", codes.PermissionDenied, "denied")}},
		{name: "other errors fail", sub: sub,
			opts:    []pstest.ServerReactorOption{pstest.WithErrorInjection("GetSubscription", codes.InvalidArgument, "bad")},
			wantErr: []string{"checking the input subscription " + sub, "bad"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := newServer(t, tc.opts...)
			cfg := Config{PubsubEndpoint: addr}
			cfg.InputSubscription, cfg.AlertsTopic, cfg.DeadLetterTopic = tc.sub, tc.alerts, tc.dead
			err := CheckPubsub(ctx, cfg)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("CheckPubsub: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckPubsub: no error, want one containing %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
			if strings.Contains(tc.name, "missing") != errors.Is(err, ErrPubsubNotFound) {
				t.Errorf("errors.Is(err, ErrPubsubNotFound) = %v for %q", errors.Is(err, ErrPubsubNotFound), err)
			}
		})
	}
}
