package pubsub

import (
	"errors"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

func TestDecodeNative(t *testing.T) {
	published := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	raw, err := proto.Marshal(&pubsubpb.PubsubMessage{Data: []byte(`{"a":1}`), Attributes: map[string]string{"event_time": "x"},
		MessageId: "m-1", PublishTime: timestamppb.New(published)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeNative(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := schemas.Message{Data: []byte(`{"a":1}`), Attributes: map[string]string{"event_time": "x"}, MessageID: "m-1", PublishTime: published}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decodeNative (-want +got):\n%s", diff)
	}
	if _, err := decodeNative([]byte{0xff, 0xff, 0xff}); !errors.Is(err, errNotMessage) {
		t.Errorf("decodeNative(garbage) error = %v, want errNotMessage", err)
	}
}

// TestReadNativeTranslation checks the external transform in the pipeline proto: the URN, the
// payload (subscription, timestamp attribute, attributes on) and the decode step after it.
func TestReadNativeTranslation(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	cfg := NativeReadConfig{Subscription: "projects/p/subscriptions/events", TimestampAttribute: "event_time"}
	ReadNative(s, cfg)
	pb := beamtest.PipelineProto(t, p)
	var found bool
	for _, tr := range pb.GetComponents().GetTransforms() {
		if tr.GetSpec().GetUrn() != NativeReadURN {
			continue
		}
		found = true
		var got pipepb.PubSubReadPayload
		if err := proto.Unmarshal(tr.GetSpec().GetPayload(), &got); err != nil {
			t.Fatal(err)
		}
		want := &pipepb.PubSubReadPayload{Subscription: cfg.Subscription, TimestampAttribute: "event_time", WithAttributes: true}
		if diff := cmp.Diff(want, &got, protocmp.Transform()); diff != "" {
			t.Errorf("payload (-want +got):\n%s", diff)
		}
		for _, out := range tr.GetOutputs() {
			if b := pb.GetComponents().GetPcollections()[out].GetIsBounded(); b != pipepb.IsBounded_UNBOUNDED {
				t.Errorf("native source output is %v, want UNBOUNDED", b)
			}
		}
	}
	if !found {
		t.Fatalf("no %s transform in the pipeline proto", NativeReadURN)
	}
}

func TestNativeReadConfigValidate(t *testing.T) {
	if err := (NativeReadConfig{Subscription: "events"}).Validate(); err == nil {
		t.Error("Validate accepted a subscription that is not a path")
	}
	if err := (NativeReadConfig{Subscription: "projects/p/subscriptions/s"}).Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}
