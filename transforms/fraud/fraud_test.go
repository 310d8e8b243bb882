package fraud

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"google.golang.org/grpc/codes"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

func TestMain(m *testing.M) { ptest.Main(m) }

// buy is a purchase of user at beamtest.T0 + at costing usd.
func buy(id, user string, at time.Duration, usd int64) schemas.Event {
	return schemas.Event{EventID: id, EventType: schemas.Purchase, EventTime: beamtest.T0.Add(at), UserID: user,
		ProductID: "p1", Amount: schemas.Decimal(usd * schemas.DecimalScale), Currency: "USD",
		AmountUSD: schemas.Decimal(usd * schemas.DecimalScale)}
}

// burst is n purchases of user, every gap from start, of usd each, with ids prefix1..prefixN.
func burst(prefix, user string, start time.Duration, n int, gap time.Duration, usd int64) []schemas.Event {
	var evs []schemas.Event
	for i := range n {
		evs = append(evs, buy(fmt.Sprintf("%s%d", prefix, i+1), user, start+time.Duration(i)*gap, usd))
	}
	return evs
}

type step = beamtest.Step

func add(events ...schemas.Event) step   { return beamtest.Add(events...) }
func watermark(at time.Duration) step    { return beamtest.Watermark(beamtest.T0.Add(at)) }
func addAll(evs ...[]schemas.Event) step { return beamtest.Add(slices.Concat(evs...)...) }
func late(e schemas.Event) schemas.Event { e.Late = true; return e }

func stream(t *testing.T, steps []step) teststream.Config { return beamtest.Stream(t, steps) }

// run runs Detect over the stream and returns its alerts sorted by user, detection time and
// rule, and the tributary counters.
func run(t *testing.T, steps []step, cfg Config) ([]schemas.FraudAlert, map[string]int64, error) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	beamtest.Collect(s, t.Name(), Detect(s, teststream.Create(s, stream(t, steps)), cfg))
	return beamtest.Run(t, p, t.Name(), func(a, b schemas.FraudAlert) int {
		return strings.Compare(a.UserID+a.DetectedAt.Format(time.RFC3339Nano)+a.Rule, b.UserID+b.DetectedAt.Format(time.RFC3339Nano)+b.Rule)
	})
}

// velocity is the alert over purchases evs of user.
func velocity(user string, k int, window time.Duration, evs ...schemas.Event) schemas.FraudAlert {
	a := schemas.FraudAlert{UserID: user, Rule: schemas.RuleVelocity, DetectedAt: evs[len(evs)-1].EventTime,
		EvidenceStart: evs[0].EventTime, EvidenceEnd: evs[len(evs)-1].EventTime,
		Details: fmt.Sprintf("%d purchases within %v, more than the limit of %d", len(evs), window, k)}
	for _, e := range evs {
		a.Purchases = append(a.Purchases, schemas.AlertPurchase{EventID: e.EventID, EventTime: e.EventTime, AmountUSD: e.AmountUSD})
		a.TotalUSD = a.TotalUSD.AddDecimal(e.AmountUSD)
	}
	a.AlertID = AlertID(user, a.Rule, a.Purchases)
	return a
}

// anomaly is the alert on outlier e of user, after n purchases averaging mean USD from start.
func anomaly(user string, e schemas.Event, n, mean int64, start time.Duration) schemas.FraudAlert {
	a := schemas.FraudAlert{UserID: user, Rule: schemas.RuleAmountAnomaly, DetectedAt: e.EventTime,
		EvidenceStart: beamtest.T0.Add(start), EvidenceEnd: e.EventTime,
		Purchases:         []schemas.AlertPurchase{{EventID: e.EventID, EventTime: e.EventTime, AmountUSD: e.AmountUSD}},
		TotalUSD:          schemas.NumericOf(e.AmountUSD),
		BaselinePurchases: n, BaselineMeanUSD: schemas.NumericOf(schemas.Decimal(mean * schemas.DecimalScale)),
		Details: fmt.Sprintf("%s USD is more than 3 times the mean of %s USD over %d earlier purchases",
			e.AmountUSD, schemas.Decimal(mean*schemas.DecimalScale), n)}
	a.AlertID = AlertID(user, a.Rule, a.Purchases)
	return a
}

func TestDetect(t *testing.T) {
	quick := burst("a", "u1", 0, 7, 5*time.Second, 10) // 7 purchases in 30 s
	again := burst("b", "u1", 5*time.Minute, 6, time.Second, 10)
	baseline := []schemas.Event{buy("n1", "u2", 0, 10), buy("n2", "u2", 10*time.Minute, 10), buy("n3", "u2", 20*time.Minute, 10)}
	atLimit := buy("n4", "u2", 30*time.Minute, 30) // exactly 3 × the mean: not above
	outlier := buy("n5", "u2", 40*time.Minute, 100)
	after := buy("n6", "u2", 50*time.Minute, 10)
	early := []schemas.Event{buy("e1", "u3", 0, 10), buy("e2", "u3", time.Minute, 100)} // above 3 × but only one before
	ooo := burst("o", "u1", 0, 6, 10*time.Second, 10)                                   // o1..o6 at 0..50 s
	noUSD := buy("x1", "u1", 5*time.Second, 10)
	noUSD.AmountUSD = 0 // unknown currency

	tests := []struct {
		name     string
		cfg      Config
		steps    []step
		want     []schemas.FraudAlert
		counters map[string]int64
	}{
		{
			name:  "velocity fires exactly once for K+1 quick purchases, again after the burst",
			steps: []step{addAll(quick), watermark(3 * time.Minute), addAll(again)},
			want: []schemas.FraudAlert{
				velocity("u1", 5, time.Minute, quick[:6]...),
				velocity("u1", 5, time.Minute, again...),
			},
			counters: map[string]int64{"fraud.in": 13, "fraud.out": 2},
		},
		{
			name: "K+1 purchases over exactly T are not within T",
			cfg:  Config{VelocityCount: 2, VelocityWindow: 10 * time.Second},
			steps: []step{addAll(burst("a", "u1", 0, 3, 5*time.Second, 10), // 0, 5, 10 s: 10 s apart
				burst("b", "u1", time.Minute, 3, 4*time.Second, 10))}, // 60, 64, 68 s
			want: []schemas.FraudAlert{velocity("u1", 2, 10*time.Second, burst("b", "u1", time.Minute, 3, 4*time.Second, 10)...)},
		},
		{
			// Issue 8 item 11: the alert's total wrapped in int64 units.
			name:  "a velocity alert's total beyond an int64 of 1e-9 units does not wrap",
			steps: []step{addAll(burst("big", "u9", 0, 6, 5*time.Second, 9223372036))},
			want:  []schemas.FraudAlert{velocity("u9", 5, time.Minute, burst("big", "u9", 0, 6, 5*time.Second, 9223372036)...)},
		},
		{
			name:  "anomaly fires on the outlier only, after S purchases",
			steps: []step{addAll(baseline, []schemas.Event{atLimit, outlier, after}, early)},
			want:  []schemas.FraudAlert{anomaly("u2", outlier, 4, 15, 0)},
		},
		{
			name: "out-of-order purchases within the allowed lateness give the in-order alert",
			cfg:  Config{AllowedLateness: time.Minute},
			steps: []step{
				add(ooo[2], ooo[0]), watermark(30 * time.Second),
				add(ooo[4], ooo[1]), watermark(55 * time.Second), // o2 (10 s) is behind the watermark
				add(ooo[3], ooo[5]),
				watermark(5 * time.Minute),
				add(buy("too-late", "u1", 15*time.Second, 10)), // after o6 was evaluated at 1m50s
			},
			want:     []schemas.FraudAlert{velocity("u1", 5, time.Minute, ooo...)},
			counters: map[string]int64{"fraud.late_dropped": 1},
		},
		{
			name:     "repeats, purchases marked late and unknown currencies",
			steps:    []step{add(quick[0], quick[1], quick[0], quick[2], late(quick[3]), quick[4], noUSD, quick[0])},
			want:     []schemas.FraudAlert{velocity("u1", 4, time.Minute, quick[0], quick[1], noUSD, quick[2], quick[4])},
			cfg:      Config{VelocityCount: 4},
			counters: map[string]int64{"fraud.in": 8, "fraud.duplicates": 2, "fraud.late_dropped": 1, "fraud.no_usd_amount": 1},
		},
		{
			// The state is cleared by its timer while the watermark waits at 3h; the purchase at
			// 3h then starts afresh: no baseline, no anomaly.
			name:     "state is cleared after the TTL and a later purchase starts fresh",
			cfg:      Config{StateTTL: time.Hour},
			steps:    []step{addAll(baseline[:3]), watermark(3 * time.Hour), add(buy("z", "u2", 3*time.Hour, 100))},
			counters: map[string]int64{"fraud.expired": 2, "fraud.out": 0},
		},
		{
			// The same events with the watermark moving only at the end: the TTL is applied in
			// event time, so the alerts are the same; one clearing, at the end.
			name:     "the TTL applies in event time whatever the watermark does",
			cfg:      Config{StateTTL: time.Hour},
			steps:    []step{addAll(baseline[:3]), add(buy("z", "u2", 3*time.Hour, 100))},
			counters: map[string]int64{"fraud.expired": 1, "fraud.out": 0},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, counters, err := run(t, tc.steps, tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("alerts (-want +got):\n%s", diff)
			}
			for name, w := range tc.counters {
				if counters[name] != w {
					t.Errorf("counter %s = %d, want %d", name, counters[name], w)
				}
			}
		})
	}
}

// newTopic starts pstest with a topic and returns the server and the topic path.
func newTopic(t *testing.T, opts ...pstest.ServerReactorOption) (*pstest.Server, string) {
	t.Helper()
	srv := pstest.NewServer(opts...)
	t.Cleanup(func() { srv.Close() })
	topic := "projects/test/topics/alerts"
	c, err := pubsub.NewClient(t.Context(), topic, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.TopicAdminClient.CreateTopic(t.Context(), &pubsubpb.Topic{Name: topic}); err != nil {
		t.Fatal(err)
	}
	return srv, topic
}

// runPublishing runs Detect into AlertMessages and pubsub.Write, as the streaming pipeline wires
// an alerts topic.
func runPublishing(t *testing.T, steps []step, topic, endpoint string) ([]schemas.FraudAlert, map[string]int64, error) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	alerts := Detect(s, teststream.Create(s, stream(t, steps)), Config{})
	beamtest.Collect(s, t.Name(), alerts)
	pubsub.Write(s, topic, AlertMessages(s, alerts), pubsub.WriteConfig{Endpoint: endpoint, Metrics: "alerts_topic",
		PublishTimeout: 5 * time.Second})
	return beamtest.Run[schemas.FraudAlert](t, p, t.Name(), nil)
}

func TestAlertsArePublished(t *testing.T) {
	srv, topic := newTopic(t)
	steps := []step{addAll(burst("a", "u1", 0, 6, time.Second, 10), burst("b", "u2", 0, 6, time.Second, 10))}
	got, counters, err := runPublishing(t, steps, topic, srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	var published []schemas.FraudAlert
	for _, m := range srv.Messages() {
		var a schemas.FraudAlert
		if err := json.Unmarshal(m.Data, &a); err != nil {
			t.Fatalf("message %s: %v", m.ID, err)
		}
		want := map[string]string{"alert_id": a.AlertID, "rule": a.Rule, "user_id": a.UserID,
			"detected_at": a.DetectedAt.Format(time.RFC3339Nano)}
		if diff := cmp.Diff(want, m.Attributes); diff != "" {
			t.Errorf("attributes of %s (-want +got):\n%s", a.AlertID, diff)
		}
		published = append(published, a)
	}
	byID := cmpopts.SortSlices(func(a, b schemas.FraudAlert) bool { return a.AlertID < b.AlertID })
	if len(got) != 2 {
		t.Errorf("%d alerts, want 2", len(got))
	}
	if diff := cmp.Diff(got, published, byID); diff != "" {
		t.Errorf("published alerts (-rows +published):\n%s", diff)
	}
	if counters["alerts_topic.out"] != 2 {
		t.Errorf("alerts_topic.out = %d, want 2", counters["alerts_topic.out"])
	}
}

func TestAlertPublishFailureFailsTheBundle(t *testing.T) {
	srv, topic := newTopic(t, pstest.WithErrorInjection("Publish", codes.PermissionDenied, "no publishing today"))
	steps := []step{addAll(burst("a", "u1", 0, 6, time.Second, 10))}
	_, _, err := runPublishing(t, steps, topic, srv.Addr)
	if err == nil || !strings.Contains(err.Error(), "no publishing today") || !strings.Contains(err.Error(), topic) {
		t.Errorf("pipeline error = %v, want the publish failure for %s", err, topic)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		flag string // "" when valid
	}{
		{Config{}, ""},
		{Config{VelocityCount: 10, VelocityWindow: time.Hour, AnomalyMultiplier: 2.5, AnomalyMinPurchases: 1,
			StateTTL: time.Hour, AllowedLateness: time.Minute}, ""},
		{Config{VelocityCount: -1}, "VelocityCount"},
		{Config{VelocityWindow: -time.Second}, "VelocityWindow"},
		{Config{AnomalyMultiplier: 0.5}, "AnomalyMultiplier"},
		{Config{AnomalyMinPurchases: -3}, "AnomalyMinPurchases"},
		{Config{StateTTL: 30 * time.Second}, "StateTTL"},
		{Config{AllowedLateness: -1}, "AllowedLateness"},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (err == nil) != (tc.flag == "") || (err != nil && !strings.Contains(err.Error(), tc.flag+":")) {
			t.Errorf("%+v.Validate() = %v, want an error naming %q", tc.cfg, err, tc.flag)
		}
	}
}

func TestStateCoders(t *testing.T) {
	p := purchase{At: -5, EventID: "é", AmountUSD: 7, HasUSD: true}
	if got, err := decodePurchase(encodePurchase(p)); err != nil || got != p {
		t.Errorf("purchase round trip = %+v, %v; want %+v", got, err, p)
	}
	h := history{Evaluated: true, Cursor: p, Recent: []purchase{p, {EventID: "x"}}, Disarmed: true,
		USDCount: 3, USDSum: schemas.NumericMax, BaselineStart: 9, Deferred: []purchase{{At: 1}}}
	b := encodeHistory(h)
	got, err := decodeHistory(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(h, got); diff != "" {
		t.Errorf("history round trip (-want +got):\n%s", diff)
	}
	for n := range len(b) {
		if _, err := decodeHistory(b[:n]); err == nil {
			t.Errorf("decoding %d of %d bytes: no error", n, len(b))
		}
	}
}

func TestAlertID(t *testing.T) {
	ps := []schemas.AlertPurchase{{EventID: "a"}, {EventID: "b"}}
	id := AlertID("u", schemas.RuleVelocity, ps)
	if len(id) != 32 {
		t.Errorf("AlertID = %q, want 32 hex digits", id)
	}
	for _, other := range []string{
		AlertID("v", schemas.RuleVelocity, ps),
		AlertID("u", schemas.RuleAmountAnomaly, ps),
		AlertID("u", schemas.RuleVelocity, ps[:1]),
		AlertID("u", schemas.RuleVelocity, []schemas.AlertPurchase{{EventID: "ab"}}),
	} {
		if other == id {
			t.Errorf("AlertID collides: %q", id)
		}
	}
}

// benchEvents are n events of 500 users, 100 ms apart; every every-th is a purchase.
func benchEvents(n, every int) []schemas.Event {
	evs := make([]schemas.Event, n)
	for i := range evs {
		evs[i] = buy(fmt.Sprint(i), fmt.Sprintf("u%d", i%500), time.Duration(i)*100*time.Millisecond, int64(10+i%7))
		if i%every != 0 {
			evs[i].EventType = schemas.PageView
		}
	}
	return evs
}

// BenchmarkDetect measures the detector on Prism: events/s through key, buffer, timers and
// both rules, for a stream of purchases only and for one where a quarter are purchases.
func BenchmarkDetect(b *testing.B) {
	for _, bc := range []struct {
		name  string
		every int
	}{{"purchases", 1}, {"quarter_purchases", 4}} {
		b.Run(bc.name, func(b *testing.B) {
			beamtest.Bench(b, benchEvents(20000, bc.every), func(s beam.Scope, events beam.PCollection) beam.PCollection {
				return Detect(s, events, Config{})
			})
		})
	}
}
