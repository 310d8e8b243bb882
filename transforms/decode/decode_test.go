package decode_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.Function1x2(stampWithPublishTime)
	register.Function2x1(describeTimestamp)
	register.Function1x2(withoutRecordTime)
}

// stampWithPublishTime gives a message its publish time as event timestamp, as the Pub/Sub
// source does.
func stampWithPublishTime(m schemas.Message) (beam.EventTime, schemas.Message) {
	return mtime.FromTime(m.PublishTime), m
}

// describeTimestamp makes an event's element timestamp comparable by passert.
func describeTimestamp(ts beam.EventTime, e schemas.Event) string {
	return fmt.Sprintf("%s@%s late=%t", e.EventID, ts.ToTime().Format(time.RFC3339Nano), e.Late)
}

// withoutRecordTime clears the time a dead letter was recorded (time.Now) so that it compares
// equal to the expected one, after checking it was set.
func withoutRecordTime(d schemas.DeadLetter) (schemas.DeadLetter, error) {
	if d.Time.IsZero() || time.Since(d.Time) > time.Hour {
		return d, fmt.Errorf("dead letter %s recorded at %v, want about now", d.MessageID, d.Time)
	}
	d.Time = time.Time{}
	return d, nil
}

func TestDecode(t *testing.T) {
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	payload := func(id, eventType string, at time.Time) string {
		return strings.NewReplacer("e1", id, "page_view", eventType, "2024-05-01T12:00:00Z", at.Format(time.RFC3339Nano)).
			Replace(pv(`"product_id":"p1","amount":19.99`))
	}
	msgs := []schemas.Message{
		// Received 2 s after it happened: on time.
		{Data: []byte(payload("on-time", schemas.Purchase, t0.Add(250*time.Millisecond))), Attributes: map[string]string{"src": "web"},
			PublishTime: t0.Add(2 * time.Second), MessageID: "m1"},
		// Exactly at the lateness budget (1 m + 10 m): still on time.
		{Data: []byte(payload("at-budget", schemas.AddToCart, t0.Add(-11*time.Minute))), PublishTime: t0, MessageID: "m2"},
		// 2 h behind its source timestamp: late.
		{Data: []byte(payload("late", schemas.PageView, t0.Add(-2*time.Hour))), PublishTime: t0, MessageID: "m3"},
		// Not JSON (and not UTF-8): the dead letter must carry these bytes exactly.
		{Data: []byte("{\"event_id\":\xff\x00"), Attributes: map[string]string{"k": "v", "src": "app"}, PublishTime: t0, MessageID: "m4"},
		{Data: []byte(payload("bad-type", "foo", t0)), Attributes: map[string]string{"k": "w"}, PublishTime: t0, MessageID: "m5"},
		// A valid payload whose timestamp attribute the source refused: a dead letter.
		{Data: []byte(payload("bad-ts", schemas.PageView, t0)), Attributes: map[string]string{"event_time": "9999-12-31T23:59:59Z"},
			PublishTime: t0, MessageID: "m6", TimestampError: "timestamp attribute event_time is more than 5m0s (max timestamp skew) after the publish time"},
		// Arrived behind the source's watermark: the mark travels with the event, which stays on
		// time by the payload-vs-timestamp rule.
		{Data: []byte(payload("behind", schemas.PageView, t0)), PublishTime: t0, MessageID: "m7", BehindWatermark: t0.Add(time.Hour)},
		// Envelope v2 in the same stream as v1.
		{Data: []byte(strings.Replace(payload("v2", schemas.Purchase, t0), `}`, `,"schema_version":2,"discount":5,"channel":"store"}`, 1)),
			PublishTime: t0.Add(time.Second), MessageID: "m8"},
	}
	event := func(id, eventType string, at time.Time, msg schemas.Message, late bool) schemas.Event {
		return schemas.Event{EventID: id, EventType: eventType, EventTime: at, UserID: "u1", ProductID: "p1",
			Amount: 19_990_000_000, Currency: "USD", SchemaVersion: 1, MessageID: msg.MessageID,
			PublishTime: msg.PublishTime, Late: late}
	}
	behind := event("behind", schemas.PageView, t0, msgs[6], false)
	behind.BehindWatermark = t0.Add(time.Hour)
	v2 := event("v2", schemas.Purchase, t0, msgs[7], false)
	v2.SchemaVersion, v2.Discount, v2.Channel = 2, 5_000_000_000, schemas.ChannelStore
	wantEvents := []any{
		v2,
		event("on-time", schemas.Purchase, t0.Add(250*time.Millisecond), msgs[0], false),
		event("at-budget", schemas.AddToCart, t0.Add(-11*time.Minute), msgs[1], false),
		event("late", schemas.PageView, t0.Add(-2*time.Hour), msgs[2], true),
		behind,
	}
	wantStamps := []any{
		"v2@2024-05-01T12:00:00Z late=false",
		"behind@2024-05-01T12:00:00Z late=false",
		"on-time@2024-05-01T12:00:00.25Z late=false",
		"at-budget@2024-05-01T11:49:00Z late=false",
		"late@2024-05-01T10:00:00Z late=true",
	}
	deadLetter := func(msg schemas.Message, reason string) schemas.DeadLetter {
		_, err := decode.Parse(msg)
		if err == nil {
			t.Fatalf("message %s parses", msg.MessageID)
		}
		return schemas.DeadLetter{Step: "decode", Reason: reason, Error: err.Error(), Payload: msg.Data,
			PayloadSize: int64(len(msg.Data)), Attributes: msg.Attributes, MessageID: msg.MessageID, PublishTime: msg.PublishTime}
	}
	wantDead := []any{
		deadLetter(msgs[3], deadletter.ReasonInvalidJSON),
		deadLetter(msgs[4], deadletter.ReasonInvalidSchema),
		schemas.DeadLetter{Step: "decode", Reason: deadletter.ReasonInvalidTimestamp, Error: msgs[5].TimestampError, Payload: msgs[5].Data,
			PayloadSize: int64(len(msgs[5].Data)), Attributes: msgs[5].Attributes, MessageID: "m6", PublishTime: t0},
	}

	p, s := beam.NewPipelineWithRoot()
	in := beam.ParDo(s, stampWithPublishTime, beam.CreateList(s, msgs))
	out := decode.Decode(s, in, decode.Config{MaxOutOfOrderness: time.Minute, AllowedLateness: 10 * time.Minute})
	passert.Equals(s, out.Events, wantEvents...)
	passert.Equals(s, beam.ParDo(s, describeTimestamp, out.Events), wantStamps...)
	passert.Equals(s, beam.ParDo(s, withoutRecordTime, out.DeadLetters), wantDead...)

	res, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatalf("pipeline failed: %v", err)
	}
	counters := map[string]int64{}
	for _, c := range res.Metrics().AllMetrics().Counters() {
		if c.Namespace() == telemetry.Namespace {
			counters[c.Name()] += c.Result()
		}
	}
	for name, want := range map[string]int64{"decode.in": 8, "decode.out": 5, "deadletter.invalid_json": 1, "deadletter.invalid_schema": 1, "deadletter.invalid_timestamp": 1} {
		if counters[name] != want {
			t.Errorf("counter %s = %d, want %d (all: %v)", name, counters[name], want, counters)
		}
	}
}

func TestDecodeRejectsNegativeDurations(t *testing.T) {
	for _, cfg := range []decode.Config{{MaxOutOfOrderness: -time.Second}, {AllowedLateness: -1}} {
		func() {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, "decode.Decode: invalid config") {
					t.Errorf("Decode(%+v) panicked with %v, want an invalid config message", cfg, r)
				}
			}()
			_, s := beam.NewPipelineWithRoot()
			decode.Decode(s, beam.Create(s, schemas.Message{}), cfg)
		}()
	}
	if err := (decode.Config{}).Validate(); err != nil {
		t.Errorf("the zero Config is invalid: %v", err)
	}
	if err := (decode.Config{AllowedLateness: -1}).Validate(); err == nil || !strings.Contains(err.Error(), "AllowedLateness") {
		t.Errorf("Validate of a negative AllowedLateness = %v, want an error naming it", err)
	}
}
