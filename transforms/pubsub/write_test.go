package pubsub

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function1x1[schemas.DeadLetter, string](refusedSummary)
}

// refusedSummary renders a dead letter as "<message id> <step> <reason>".
func refusedSummary(d schemas.DeadLetter) string {
	return d.MessageID + " " + d.Step + " " + d.Reason
}

// newTestTopic starts pstest with a topic and returns the server and the topic path.
func newTestTopic(t *testing.T, opts ...pstest.ServerReactorOption) (*pstest.Server, string) {
	t.Helper()
	srv := pstest.NewServer(opts...)
	t.Cleanup(func() { srv.Close() })
	topic := "projects/test/topics/out"
	c, err := NewClient(context.Background(), topic, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(context.Background(), &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	return srv, topic
}

func manyAttributes(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[strings.Repeat("k", 1+i%200)+string(rune('a'+i%26))+string(rune('a'+i/26))] = "v"
	}
	return m
}

func TestWritePublishesAndRoutesPermanentRefusals(t *testing.T) {
	ok := []schemas.Message{
		{MessageID: "a", Data: []byte(`{"n":1}`), Attributes: map[string]string{"k": "v"}},
		{MessageID: "b", Data: []byte(`{"n":2}`)},
		{MessageID: "c", Attributes: map[string]string{"only": "attributes"}},
		{MessageID: "d", Attributes: manyAttributes(MaxAttributes)},
		{MessageID: "e", Data: make([]byte, 3_000_000)}, // pstest takes at most 4 MiB per request
	}
	bad := []schemas.Message{
		{MessageID: "empty"},
		{MessageID: "attrs", Data: []byte("x"), Attributes: manyAttributes(MaxAttributes + 1)},
		{MessageID: "key", Data: []byte("x"), Attributes: map[string]string{strings.Repeat("k", MaxAttributeKeyBytes+1): "v"}},
		{MessageID: "value", Data: []byte("x"), Attributes: map[string]string{"k": strings.Repeat("v", MaxAttributeBytes+1)}},
		{MessageID: "large", Data: make([]byte, 10_000_001)},
	}
	srv, topic := newTestTopic(t)
	p, s := beam.NewPipelineWithRoot()
	in := beam.CreateList(s, append(append([]schemas.Message{}, ok...), bad...))
	refused := Write(s, topic, in, WriteConfig{Endpoint: srv.Addr, MaxInFlight: 2})
	var want []any
	for _, m := range bad {
		want = append(want, m.MessageID+" "+WriteStep+" "+ReasonPublishRefused)
	}
	passert.Equals(s, beam.ParDo(s, refusedSummary, refused), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	type published struct {
		Data  int
		Attrs int
	}
	var got, wantPub []published
	for _, m := range srv.Messages() {
		got = append(got, published{len(m.Data), len(m.Attributes)})
	}
	for _, m := range ok {
		wantPub = append(wantPub, published{len(m.Data), len(m.Attributes)})
	}
	less := func(s []published) {
		sort.Slice(s, func(i, j int) bool { return s[i].Data < s[j].Data || s[i].Data == s[j].Data && s[i].Attrs < s[j].Attrs })
	}
	less(got)
	less(wantPub)
	if diff := cmp.Diff(wantPub, got); diff != "" {
		t.Errorf("published (-want +got):\n%s", diff)
	}
}

func TestWriteSplitsServerRefusals(t *testing.T) {
	tests := []struct {
		name     string
		code     codes.Code
		wantFail bool // the bundle fails, so the runner retries the input
	}{
		{"invalid argument is a dead letter", codes.InvalidArgument, false},
		{"unavailable fails the bundle", codes.Unavailable, true},
		{"permission denied fails the bundle", codes.PermissionDenied, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, topic := newTestTopic(t, pstest.WithErrorInjection("Publish", tc.code, "injected"))
			p, s := beam.NewPipelineWithRoot()
			in := beam.Create(s, schemas.Message{MessageID: "m1", Data: []byte("x")})
			refused := Write(s, topic, in, WriteConfig{Endpoint: srv.Addr, PublishTimeout: 3 * time.Second})
			if !tc.wantFail {
				passert.Equals(s, beam.ParDo(s, refusedSummary, refused), "m1 "+WriteStep+" "+ReasonPublishRefused)
			}
			err := ptest.Run(p)
			if tc.wantFail {
				if err == nil {
					t.Fatal("pipeline succeeded, want the bundle to fail")
				}
				if strings.Contains(err.Error(), "\"x\"") {
					t.Errorf("bundle error carries the payload: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestWriteRejectsBadTopic(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Write with a subscription path did not panic")
		}
	}()
	_, s := beam.NewPipelineWithRoot()
	Write(s, "projects/p/subscriptions/s", beam.Create(s, schemas.Message{Data: []byte("x")}), WriteConfig{})
}

func TestCheckPublishable(t *testing.T) {
	const topic = "projects/test/topics/out"
	overhead := len(topic) + 5
	tests := []struct {
		name string
		msg  schemas.Message
		ok   bool
	}{
		{"data only", schemas.Message{Data: []byte("x")}, true},
		{"attributes only", schemas.Message{Attributes: map[string]string{"k": "v"}}, true},
		{"neither", schemas.Message{Data: []byte{}}, false},
		{"100 attributes", schemas.Message{Data: []byte("x"), Attributes: manyAttributes(100)}, true},
		{"101 attributes", schemas.Message{Data: []byte("x"), Attributes: manyAttributes(101)}, false},
		{"key of 256 bytes", schemas.Message{Data: []byte("x"), Attributes: map[string]string{strings.Repeat("k", 256): "v"}}, true},
		{"key of 257 bytes", schemas.Message{Data: []byte("x"), Attributes: map[string]string{strings.Repeat("k", 257): "v"}}, false},
		{"empty key", schemas.Message{Data: []byte("x"), Attributes: map[string]string{"": "v"}}, false},
		{"value of 1024 bytes", schemas.Message{Data: []byte("x"), Attributes: map[string]string{"k": strings.Repeat("v", 1024)}}, true},
		{"value of 1025 bytes", schemas.Message{Data: []byte("x"), Attributes: map[string]string{"k": strings.Repeat("v", 1025)}}, false},
		{"invalid UTF-8 value", schemas.Message{Data: []byte("x"), Attributes: map[string]string{"k": "\xff"}}, false},
		// The data field's tag and a 4-byte length take 5 bytes.
		{"at the size limit", schemas.Message{Data: make([]byte, MaxMessageBytes-overhead-5)}, true},
		{"one byte over", schemas.Message{Data: make([]byte, MaxMessageBytes-overhead-4)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPublishable(topic, tc.msg)
			if (err == nil) != tc.ok {
				t.Errorf("CheckPublishable = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
