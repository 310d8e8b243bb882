package generate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/schemas"
)

var base = generate.Config{
	Count:             10_000,
	MalformedFraction: 0.05,
	DuplicateFraction: 0.05,
	LateFraction:      0.05,
	Seed:              7,
	Start:             time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC),
}

func with(f func(*generate.Config)) generate.Config {
	c := base
	f(&c)
	return c
}

func TestMessagesDeterministic(t *testing.T) {
	tests := []struct {
		name string
		a, b generate.Config
		same bool
	}{
		{"same seed", base, base, true},
		{"same seed, oversized", with(func(c *generate.Config) { c.Oversized = true }), with(func(c *generate.Config) { c.Oversized = true }), true},
		{"different seed", base, with(func(c *generate.Config) { c.Seed = 8 }), false},
		{"different start", base, with(func(c *generate.Config) { c.Start = c.Start.Add(time.Second) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := slices.Collect(generate.Messages(tt.a)), slices.Collect(generate.Messages(tt.b))
			// cmp.Diff walks []byte element by element, minutes on 1 MiB payloads: find the
			// first difference cheaply, then diff just that message.
			i := firstDifference(a, b)
			if tt.same && i >= 0 {
				t.Errorf("message %d differs for equal configs (-a +b):\n%s", i, cmp.Diff(a[i], b[i]))
			}
			if !tt.same && i < 0 {
				t.Error("Messages are identical for different configs")
			}
		})
	}
}

// firstDifference returns the index of the first message that differs between a and b of equal
// length, or -1.
func firstDifference(a, b []generate.Message) int {
	for i := range a {
		if !bytes.Equal(a[i].Data, b[i].Data) || !maps.Equal(a[i].Attributes, b[i].Attributes) || a[i].Kind != b[i].Kind {
			return i
		}
	}
	return -1
}

func TestMessagesFractions(t *testing.T) {
	tests := []struct {
		name                       string
		malformed, duplicate, late float64
	}{
		{"none", 0, 0, 0},
		{"defaults of the binary", 0.02, 0.02, 0.01},
		{"even", 0.05, 0.05, 0.05},
		{"heavy", 0.3, 0.2, 0.1},
		{"all malformed", 1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := with(func(c *generate.Config) {
				c.MalformedFraction, c.DuplicateFraction, c.LateFraction = tt.malformed, tt.duplicate, tt.late
			})
			var kinds [4]float64
			for m := range generate.Messages(cfg) {
				kinds[m.Kind]++
			}
			n := float64(cfg.Count)
			want := map[generate.Kind]float64{
				generate.Malformed: tt.malformed, generate.Duplicate: tt.duplicate, generate.Late: tt.late,
				generate.Valid: 1 - tt.malformed - tt.duplicate - tt.late,
			}
			for k, w := range want {
				if got := kinds[k] / n; math.Abs(got-w) > 0.015 {
					t.Errorf("%v fraction = %.4f, want %.2f ± 0.015", k, got, w)
				}
			}
		})
	}
}

// mix checks the event-type, currency and product distributions of the valid events.
func TestMessagesMix(t *testing.T) {
	types, currencies := map[string]float64{}, map[string]float64{}
	var n, withProduct, unknownProduct, extra float64
	for m := range generate.Messages(base) {
		if m.Kind != generate.Valid {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal(m.Data, &e); err != nil {
			t.Fatal(err)
		}
		n++
		types[e["event_type"].(string)]++
		if c, ok := e["currency"].(string); ok {
			currencies[c]++
		}
		if p, ok := e["product_id"].(string); ok {
			withProduct++
			if p >= "p-9900" {
				unknownProduct++
			}
		}
		if _, ok := e["experiment"]; ok {
			extra++
		}
	}
	tests := []struct {
		name      string
		got, want float64
	}{
		{"page_view", types["page_view"] / n, 0.60},
		{"add_to_cart", types["add_to_cart"] / n, 0.20},
		{"purchase", types["purchase"] / n, 0.15},
		{"refund", types["refund"] / n, 0.05},
		{"unknown product", unknownProduct / withProduct, 0.01},
		{"unknown field", extra / n, 0.02},
		{"USD", currencies["USD"] / (n - types["page_view"]), 0.62},
		{"XXX", currencies["XXX"] / (n - types["page_view"]), 0.005},
	}
	for _, tt := range tests {
		if math.Abs(tt.got-tt.want) > 0.03 {
			t.Errorf("%s fraction = %.4f, want about %.3f", tt.name, tt.got, tt.want)
		}
	}
	for _, c := range []string{"EUR", "GBP", "JPY", "CAD"} {
		if currencies[c] == 0 {
			t.Errorf("no %s events", c)
		}
	}
}

// checkEvent applies the v1 envelope's rules (design.md, "The events") to a payload and
// returns the decoded object.
func checkEvent(data []byte) (map[string]json.RawMessage, error) {
	if len(data) > 1<<20 {
		return nil, errors.New("over 1 MiB")
	}
	var e map[string]json.RawMessage
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, err
	}
	str := func(k string) (string, error) {
		var s string
		raw, ok := e[k]
		if !ok {
			return "", fmt.Errorf("missing %s", k)
		}
		if err := json.Unmarshal(raw, &s); err != nil || s == "" {
			return "", fmt.Errorf("%s: not a non-empty string: %s", k, raw)
		}
		return s, nil
	}
	id, err := str("event_id")
	if err != nil {
		return nil, err
	}
	if len(id) > 128 {
		return nil, errors.New("event_id too long")
	}
	typ, err := str("event_type")
	if err != nil {
		return nil, err
	}
	if !slices.Contains([]string{schemas.PageView, schemas.AddToCart, schemas.Purchase, schemas.Refund}, typ) {
		return nil, fmt.Errorf("bad event_type %q", typ)
	}
	ts, err := str("event_time")
	if err != nil {
		return nil, err
	}
	if _, err := time.Parse(time.RFC3339, ts); err != nil {
		return nil, err
	}
	if _, err := str("user_id"); err != nil {
		return nil, err
	}
	if _, err := str("product_id"); err != nil && typ != schemas.PageView {
		return nil, err
	}
	if raw, ok := e["amount"]; ok {
		if _, err := schemas.ParseDecimalBytes(raw); err != nil {
			return nil, fmt.Errorf("amount %s: %w", raw, err)
		}
		if i := bytes.IndexByte(raw, '.'); i < 0 || len(raw)-i != 3 {
			return nil, fmt.Errorf("amount %s: want 2 fraction digits", raw)
		}
	} else if typ == schemas.Purchase || typ == schemas.Refund {
		return nil, errors.New("missing amount")
	}
	if raw, ok := e["quantity"]; ok {
		var q int
		if err := json.Unmarshal(raw, &q); err != nil || q < 1 || q > 5 {
			return nil, fmt.Errorf("quantity %s: want 1..5", raw)
		}
	}
	if string(e["schema_version"]) != "1" {
		return nil, fmt.Errorf("schema_version %s", e["schema_version"])
	}
	return e, nil
}

func eventTime(t *testing.T, e map[string]json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(e["event_time"], &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMessagesByKind(t *testing.T) {
	cfg := with(func(c *generate.Config) { c.Oversized, c.MalformedFraction = true, 0.2 })
	var (
		valid     = map[string]generate.Message{} // by Data
		ids       = map[string]bool{}
		counts    [4]int
		noAttr    int
		oversized int
	)
	i := 0
	for m := range generate.Messages(cfg) {
		clock := cfg.Start.Add(time.Duration(i) * generate.DefaultInterval).Format("2006-01-02T15:04:05.000Z07:00")
		i++
		counts[m.Kind]++
		attr, hasAttr := m.Attributes["event_time"]
		if hasAttr && m.Kind != generate.Duplicate && attr != clock {
			t.Fatalf("message %d: attribute %s, want the event clock %s", i-1, attr, clock)
		}
		switch m.Kind {
		case generate.Valid, generate.Late:
			e, err := checkEvent(m.Data)
			if err != nil {
				t.Fatalf("%v message %s: %v", m.Kind, m.Data, err)
			}
			if !hasAttr {
				t.Fatalf("%v message %s has no event_time attribute", m.Kind, m.Data)
			}
			id := string(e["event_id"])
			if ids[id] {
				t.Fatalf("event_id %s repeats outside a duplicate", id)
			}
			ids[id] = true
			payload := eventTime(t, e)
			if m.Kind == generate.Valid {
				if payload != attr {
					t.Fatalf("attribute %s != payload event_time %s", attr, payload)
				}
				valid[string(m.Data)] = m
				break
			}
			p, _ := time.Parse(time.RFC3339, payload)
			a, _ := time.Parse(time.RFC3339, attr)
			if got := a.Sub(p); got != generate.DefaultLateBy {
				t.Fatalf("late message %s: attribute - payload time = %v, want %v", m.Data, got, generate.DefaultLateBy)
			}
		case generate.Duplicate:
			orig, ok := valid[string(m.Data)]
			if !ok {
				t.Fatalf("duplicate %s repeats no earlier valid message", m.Data)
			}
			if diff := cmp.Diff(orig.Attributes, m.Attributes); diff != "" {
				t.Fatalf("duplicate attributes differ (-orig +dup):\n%s", diff)
			}
		case generate.Malformed:
			if _, err := checkEvent(m.Data); err == nil {
				t.Fatalf("malformed message passes the schema: %s", m.Data)
			}
			if !hasAttr {
				noAttr++
			}
			if len(m.Data) > 1<<20 {
				oversized++
			}
		}
	}
	if noAttr == 0 || noAttr == counts[generate.Malformed] {
		t.Errorf("%d of %d malformed messages lack the attribute, want some", noAttr, counts[generate.Malformed])
	}
	if oversized == 0 {
		t.Error("no oversized message with Oversized set")
	}
	for k, n := range counts {
		if n == 0 {
			t.Errorf("no %v messages", generate.Kind(k))
		}
	}
}

func TestMessagesOversizedOnlyWhenEnabled(t *testing.T) {
	cfg := with(func(c *generate.Config) { c.MalformedFraction, c.DuplicateFraction, c.LateFraction = 1, 0, 0 })
	for m := range generate.Messages(cfg) {
		if len(m.Data) > 1<<20 {
			t.Fatalf("oversized message without Oversized")
		}
	}
}

func TestMessagesSmallConfigs(t *testing.T) {
	// One user and one product must work (no empty ranges); early duplicates have nothing to
	// repeat and become valid events.
	cfg := generate.Config{Count: 100, Users: 1, Products: 1, DuplicateFraction: 1}
	got := slices.Collect(generate.Messages(cfg))
	if got[0].Kind != generate.Valid || got[1].Kind != generate.Duplicate {
		t.Errorf("kinds = %v, %v; want valid, duplicate", got[0].Kind, got[1].Kind)
	}
	if !bytes.Contains(got[0].Data, []byte(`"user_id":"u-0001"`)) {
		t.Errorf("first message %s: want user u-0001", got[0].Data)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  generate.Config
		want string // substring of the error, "" for none
	}{
		{"ok", base, ""},
		{"defaults", generate.Config{Count: 1}, ""},
		{"all fractions at most 1", with(func(c *generate.Config) { c.MalformedFraction, c.DuplicateFraction, c.LateFraction = 0.5, 0.25, 0.25 }), ""},
		{"zero count", with(func(c *generate.Config) { c.Count = 0 }), "invalid --count: must be > 0"},
		{"negative rate", with(func(c *generate.Config) { c.Rate = -1 }), "invalid --rate"},
		{"NaN rate", with(func(c *generate.Config) { c.Rate = math.NaN() }), "invalid --rate"},
		{"negative users", with(func(c *generate.Config) { c.Users = -1 }), "invalid --users"},
		{"too many products", with(func(c *generate.Config) { c.Products = 9001 }), "invalid --products: must be in [1,9000]"},
		{"malformed > 1", with(func(c *generate.Config) { c.MalformedFraction = 1.5 }), "invalid --malformedFraction: must be in [0,1]"},
		{"duplicate < 0", with(func(c *generate.Config) { c.DuplicateFraction = -0.1 }), "invalid --duplicateFraction: must be in [0,1]"},
		{"late NaN", with(func(c *generate.Config) { c.LateFraction = math.NaN() }), "invalid --lateFraction: must be in [0,1]"},
		{"sum > 1", with(func(c *generate.Config) { c.MalformedFraction, c.DuplicateFraction, c.LateFraction = 0.5, 0.5, 0.1 }), "must be <= 1"},
		{"negative lateBy", with(func(c *generate.Config) { c.LateBy = -time.Minute }), "invalid --lateBy"},
		{"negative interval", with(func(c *generate.Config) { c.Interval = -time.Second }), "invalid --interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryFlag(t *testing.T) {
	err := generate.Config{Count: -1, Rate: -1}.Validate()
	for _, flag := range []string{"--count", "--rate"} {
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("Validate() = %v, want it to name %s", err, flag)
		}
	}
}

const topicName = "projects/proj/topics/events"

// newServer starts an in-process Pub/Sub server with the topic topicName and a subscription
// to it, and returns a client connected to it.
func newServer(t *testing.T, opts ...pstest.ServerReactorOption) (*pstest.Server, *pubsub.Client) {
	t.Helper()
	ctx := t.Context()
	srv := pstest.NewServer(opts...)
	t.Cleanup(func() { srv.Close() })
	client, err := pubsub.NewClient(ctx, "proj",
		option.WithEndpoint(srv.Addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	if _, err := client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: topicName}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: "projects/proj/subscriptions/events", Topic: topicName,
	}); err != nil {
		t.Fatal(err)
	}
	return srv, client
}

func publisher(t *testing.T, c *pubsub.Client, topic string) *pubsub.Publisher {
	p := c.Publisher(topic)
	t.Cleanup(p.Stop)
	return p
}

func TestPublish(t *testing.T) {
	tests := []struct {
		name string
		cfg  generate.Config
	}{
		{"fast", with(func(c *generate.Config) { c.Count = 3000; c.Oversized = true; c.MalformedFraction = 0.2 })},
		{"rate limited", with(func(c *generate.Config) { c.Count = 300; c.Rate = 200 })},
	}
	type msg struct {
		Data       string
		Attributes map[string]string
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := newServer(t)
			var progress int
			stats, err := generate.Publish(t.Context(), publisher(t, client, topicName), tt.cfg, func(generate.Stats) { progress++ })
			if err != nil {
				t.Fatal(err)
			}

			var want []msg
			wantStats := generate.Stats{Published: tt.cfg.Count}
			for m := range generate.Messages(tt.cfg) {
				want = append(want, msg{string(m.Data), m.Attributes})
				switch m.Kind {
				case generate.Valid:
					wantStats.Valid++
				case generate.Malformed:
					wantStats.Malformed++
				case generate.Duplicate:
					wantStats.Duplicates++
				case generate.Late:
					wantStats.Late++
				}
			}
			var got []msg
			for _, m := range srv.Messages() {
				got = append(got, msg{string(m.Data), m.Attributes})
			}
			// The client sends batches concurrently, so the server's order is not the publish order.
			byContent := cmpopts.SortSlices(func(a, b msg) bool {
				return a.Data < b.Data || a.Data == b.Data && fmt.Sprint(a.Attributes) < fmt.Sprint(b.Attributes)
			})
			if diff := cmp.Diff(want, got, byContent, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("server messages differ from Messages(cfg) (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(wantStats, stats, cmpopts.IgnoreFields(generate.Stats{}, "Elapsed")); diff != "" {
				t.Errorf("Stats differ (-want +got):\n%s", diff)
			}
			if tt.cfg.Rate > 0 {
				if min := time.Duration(float64(tt.cfg.Count-1) / tt.cfg.Rate * float64(time.Second)); stats.Elapsed < min {
					t.Errorf("Elapsed = %v at rate %v, want >= %v", stats.Elapsed, tt.cfg.Rate, min)
				}
				if progress == 0 {
					t.Error("no progress reported in a run over a second")
				}
			}
		})
	}
}

func TestPublishFails(t *testing.T) {
	canceled, cancel := context.WithCancel(t.Context())
	cancel()
	small := with(func(c *generate.Config) { c.Count = 500 })
	tests := []struct {
		name   string
		ctx    context.Context // default t.Context()
		opts   []pstest.ServerReactorOption
		topic  string // default topicName
		cfg    generate.Config
		want   string
		wantIs error
	}{
		{name: "server rejects", cfg: small, want: "PermissionDenied",
			opts: []pstest.ServerReactorOption{pstest.WithErrorInjection("Publish", codes.PermissionDenied, "injected")}},
		{name: "no such topic", cfg: small, topic: "projects/proj/topics/missing", want: "NotFound"},
		{name: "canceled", cfg: small, ctx: canceled, wantIs: context.Canceled},
		{name: "invalid config", cfg: generate.Config{}, want: "invalid --count"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, client := newServer(t, tt.opts...)
			ctx, topic := tt.ctx, tt.topic
			if ctx == nil {
				ctx = t.Context()
			}
			if topic == "" {
				topic = topicName
			}
			stats, err := generate.Publish(ctx, publisher(t, client, topic), tt.cfg, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("Publish() = %v, want an error containing %q (is %v)", err, tt.want, tt.wantIs)
			}
			t.Log(err)
			if stats.Published >= max(tt.cfg.Count, 1) {
				t.Errorf("Published = %d, want fewer than all %d", stats.Published, tt.cfg.Count)
			}
		})
	}
}

func BenchmarkMessages(b *testing.B) {
	cfg := base
	cfg.Count = int64(b.N)
	b.ReportAllocs()
	start := time.Now()
	var size int
	for m := range generate.Messages(cfg) {
		size += len(m.Data)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	b.SetBytes(int64(size / max(b.N, 1)))
}

func ExampleMessages() {
	cfg := generate.Config{Count: 2, Seed: 1, Start: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	for m := range generate.Messages(cfg) {
		fmt.Println(m.Kind, m.Attributes["event_time"], string(m.Data))
	}
	// Output:
	// valid 2026-01-01T00:00:00.000Z {"event_id":"e-1-0","event_type":"page_view","event_time":"2026-01-01T00:00:00.000Z","user_id":"u-0111","session_hint":"s-1-111-0","product_id":"p-0002","device":{"os":"android","country":"US"},"attributes":{"source":"app"},"schema_version":1}
	// valid 2026-01-01T00:00:00.050Z {"event_id":"e-1-1","event_type":"add_to_cart","event_time":"2026-01-01T00:00:00.050Z","user_id":"u-0843","session_hint":"s-1-843-0","product_id":"p-0037","quantity":5,"amount":408.50,"currency":"USD","device":{"os":"ios","country":"US"},"attributes":{"source":"app"},"schema_version":1}
}
