package pubsub

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

func TestParseAttributeTime(t *testing.T) {
	ms := func(v int64) time.Time { return time.UnixMilli(v).UTC() }
	utc := func(y int, mo time.Month, d, h, mi, s, ms int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ms*1e6, time.UTC)
	}
	tests := []struct {
		in   string
		want time.Time // zero: rejected
	}{
		// Epoch milliseconds, as Long.parseLong reads them.
		{"1793534400000", ms(1793534400000)},
		{"+1793534400000", ms(1793534400000)},
		{"-1", ms(-1)},
		{"0", ms(0)},
		{"00017", ms(17)},
		{"1793534400", ms(1793534400)},                   // 10-digit seconds read as millis (1970): the band rejects it
		{"1793534400000000", ms(1793534400000000)},       // micros: year ~58800, outside the band
		{"1793534400000000000", ms(1793534400000000000)}, // nanos: outside Beam's range
		{"9223372036854775807", ms(math.MaxInt64)},
		{"-9223372036854775808", ms(math.MinInt64)},
		{"9223372036854775808", time.Time{}}, // overflows a long, and is not RFC 3339
		{"١٧٩٣٥٣٤٤٠٠٠٠٠", ms(1793534400000)}, // Arabic-Indic digits: Character.digit reads them
		{"", time.Time{}},
		{"+", time.Time{}},
		{"-", time.Time{}},
		{" 1", time.Time{}},
		{"1 ", time.Time{}},
		{"0x10", time.Time{}},
		{"1.5", time.Time{}},
		{"1e3", time.Time{}},
		// RFC 3339, as google-http-client's DateTime.parseRfc3339 reads it.
		{"2026-11-01T12:00:00Z", utc(2026, 11, 1, 12, 0, 0, 0)},
		{"2026-11-01t12:00:00z", utc(2026, 11, 1, 12, 0, 0, 0)},
		{"2026-11-01T13:00:00.250+01:00", utc(2026, 11, 1, 12, 0, 0, 250)},
		{"2026-11-01T12:00:00.123456789Z", utc(2026, 11, 1, 12, 0, 0, 123)}, // truncated to millis
		{"2026-11-01T12:00:00.9-00:30", utc(2026, 11, 1, 12, 30, 0, 900)},
		{"2026-11-01T12:00:00", utc(2026, 11, 1, 12, 0, 0, 0)}, // no zone: UTC
		{"2026-11-01", utc(2026, 11, 1, 0, 0, 0, 0)},           // date only: midnight UTC
		{"2026-02-30T00:00:00Z", utc(2026, 3, 2, 0, 0, 0, 0)},  // lenient calendar
		{"2026-11-01T24:00:60Z", utc(2026, 11, 2, 0, 1, 0, 0)},
		{"9999-12-31T23:59:59Z", utc(9999, 12, 31, 23, 59, 59, 0)}, // parses; the band rejects it
		{"2026-11-01T12:00:00.1234567890Z", time.Time{}},           // more than 9 fraction digits
		{"2026-11-01T12:00:00.Z", time.Time{}},
		{"2026-11-01Z", time.Time{}}, // a zone needs a time
		{"2026-11-01T12:00Z", time.Time{}},
		{"2026-11-01 12:00:00Z", time.Time{}},
		{"2026-11-01T12:00:00+0100", time.Time{}},
		{"2026-11-01T12:00:00Z ", time.Time{}},
		{"2026-1-01T12:00:00Z", time.Time{}},
		{"+2026-11-01T12:00:00Z", time.Time{}},
		{"２０２６-11-01", time.Time{}}, // \d is ASCII only in the pattern
		{"yesterday", time.Time{}},
	}
	for _, tc := range tests {
		got, err := parseAttributeTime(tc.in)
		if tc.want.IsZero() {
			if err == nil {
				t.Errorf("parseAttributeTime(%q) = %v, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("parseAttributeTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

// javaDigit relies on every run of Unicode decimal digits starting at a zero.
func TestDecimalDigitRuns(t *testing.T) {
	for _, rg := range unicode.Nd.R16 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %#x-%#x stride %d is not whole runs of ten", rg.Lo, rg.Hi, rg.Stride)
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if rg.Stride != 1 || (rg.Hi-rg.Lo+1)%10 != 0 {
			t.Errorf("Nd range %#x-%#x stride %d is not whole runs of ten", rg.Lo, rg.Hi, rg.Stride)
		}
	}
}

func TestTimestampBand(t *testing.T) {
	pub := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	cfg := ReadConfig{TimestampAttribute: "ts"}
	cfg.withDefaults()
	tests := []struct {
		name, attr string
		want       string // the TimestampError; empty: valid
	}{
		{"at the publish time", pub.Format(time.RFC3339), ""},
		{"at the skew limit", pub.Add(5 * time.Minute).Format(time.RFC3339Nano), ""},
		{"at the age limit", pub.Add(-31 * 24 * time.Hour).Format(time.RFC3339), ""},
		{"just past the skew", pub.Add(5*time.Minute + time.Millisecond).Format(time.RFC3339Nano), "after the publish time"},
		{"publish time + 25 h", pub.Add(25 * time.Hour).Format(time.RFC3339), "after the publish time"},
		{"just past the age", pub.Add(-31*24*time.Hour - time.Millisecond).Format(time.RFC3339Nano), "before the publish time"},
		{"9999-12-31T23:59:59Z", "9999-12-31T23:59:59Z", "after the publish time"},
		{"16-digit micros", "1793534400000000", "after the publish time"},
		{"19-digit nanos", "1793534400000000000", "outside Beam's timestamp range"},
		{"10-digit seconds", "1793534400", "before the publish time"},
		{"negative", "-1793534400000", "before the publish time"},
		{"above Beam's max timestamp", "9223372036854775", "outside Beam's timestamp range"},
		{"unparsable", "soon", "neither epoch milliseconds nor RFC 3339"},
		{"empty", "", "neither epoch milliseconds nor RFC 3339"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := newTimestamper()
			we := &watermarkEstimator{state: WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}}
			var r round
			msg := schemas.Message{Attributes: map[string]string{"ts": tc.attr}, PublishTime: pub}
			got := ts.timestamp(context.Background(), cfg, we, &r, &msg)
			if tc.want == "" {
				want, _ := parseAttributeTime(tc.attr)
				if msg.TimestampError != "" || !got.Equal(want) || !r.any || !r.min.Equal(want) {
					t.Errorf("got %v (error %q, observed %v); want %v, valid and observed", got, msg.TimestampError, r.any, want)
				}
				return
			}
			if !strings.Contains(msg.TimestampError, tc.want) || !strings.HasPrefix(msg.TimestampError, "timestamp attribute ts ") {
				t.Errorf("TimestampError = %q, want it to contain %q", msg.TimestampError, tc.want)
			}
			if tc.attr != "" && strings.Contains(msg.TimestampError, tc.attr) {
				t.Errorf("TimestampError %q quotes the value", msg.TimestampError)
			}
			if !got.Equal(pub) {
				t.Errorf("timestamp = %v, want the publish time %v", got, pub)
			}
			if r.any {
				t.Error("an invalid timestamp reached the watermark estimate")
			}
		})
	}
}

func TestTimestampMarks(t *testing.T) {
	pub := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	w := pub.Add(-time.Minute)
	cfg := ReadConfig{TimestampAttribute: "ts"}
	cfg.withDefaults()
	tests := []struct {
		name     string
		attrs    map[string]string
		wm       time.Time // the reported watermark; zero: none yet
		want     time.Time
		behind   bool
		observed bool
	}{
		{"no attribute: the publish time, observed", nil, time.Time{}, pub, false, true},
		{"no attribute after a watermark", nil, w, pub, false, true},
		{"on time", map[string]string{"ts": w.Format(time.RFC3339)}, w, w, false, true},
		{"behind the watermark: marked, not observed", map[string]string{"ts": w.Add(-time.Millisecond).Format(time.RFC3339Nano)}, w, w.Add(-time.Millisecond), true, false},
		{"nothing is behind before a first estimate", map[string]string{"ts": w.Add(-time.Hour).Format(time.RFC3339)}, time.Time{}, w.Add(-time.Hour), false, true},
		{"no attribute, publish time behind", nil, pub.Add(time.Second), pub, true, false},
		{"invalid and publish time behind", map[string]string{"ts": "x"}, pub.Add(time.Second), pub, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			we := &watermarkEstimator{state: WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}}
			if !tc.wm.IsZero() {
				we.state.WatermarkMillis = tc.wm.UnixMilli()
			}
			var r round
			msg := schemas.Message{Attributes: tc.attrs, PublishTime: pub}
			got := newTimestamper().timestamp(context.Background(), cfg, we, &r, &msg)
			if !got.Equal(tc.want) {
				t.Errorf("timestamp = %v, want %v", got, tc.want)
			}
			if behind := !msg.BehindWatermark.IsZero(); behind != tc.behind || behind && !msg.BehindWatermark.Equal(tc.wm) {
				t.Errorf("BehindWatermark = %v, want behind=%v (%v)", msg.BehindWatermark, tc.behind, tc.wm)
			}
			if observed := r.any || r.pub.any; observed != tc.observed {
				t.Errorf("observed = %v, want %v", observed, tc.observed)
			}
		})
	}
}

func TestWatermarkEstimator(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	type obs struct {
		at       time.Duration // processing time since t0
		min, max time.Duration // event times since t0 observed in the round
		none     bool          // the round observed no timestamp
		pub      bool          // the times are publish times of messages without the attribute
		pending  bool
	}
	tests := []struct {
		name   string
		rounds []obs
		want   time.Time
	}{
		{"unset before any timestamp", []obs{{none: true}}, time.Time{}},
		{"minimum of the round minus skew", []obs{{at: time.Hour, min: 30 * time.Second, max: 90 * time.Second, pending: true}}, t0.Add(20 * time.Second)},
		{"out-of-order older round holds it", []obs{
			{at: time.Hour, min: 60 * time.Second, max: 70 * time.Second, pending: true},
			{at: time.Hour + time.Second, min: 20 * time.Second, max: 200 * time.Second, pending: true},
		}, t0.Add(50 * time.Second)},
		{"old samples expire after the sample period", []obs{
			{at: time.Hour, min: 20 * time.Second, max: 30 * time.Second, pending: true},
			{at: time.Hour + 90*time.Second, min: 100 * time.Second, max: 120 * time.Second, pending: true},
		}, t0.Add(90 * time.Second)},
		{"never moves back", []obs{
			{at: time.Hour, min: 100 * time.Second, max: 100 * time.Second},
			{at: time.Hour + time.Second, min: 10 * time.Second, max: 10 * time.Second},
		}, t0.Add(90 * time.Second)},
		{"idle for a sample period moves to the newest seen", []obs{
			{at: time.Hour, min: 10 * time.Second, max: 300 * time.Second},
			{at: time.Hour + 2*time.Minute, none: true},
		}, t0.Add(300 * time.Second)},
		{"idle but pending holds", []obs{
			{at: time.Hour, min: 10 * time.Second, max: 300 * time.Second},
			{at: time.Hour + 2*time.Minute, none: true, pending: true},
		}, t0},
		// A timestamp ahead of the clock (the band allows some skew) cannot pull the watermark
		// past processing time − maxOutOfOrderness, idle or not.
		{"idle advance stops at now − maxOutOfOrderness", []obs{
			{at: 0, min: -time.Minute, max: 4 * time.Minute},
			{at: 2 * time.Minute, none: true},
		}, t0.Add(2*time.Minute - 10*time.Second)},
		{"publish times move it in a stream without attributes", []obs{
			{at: time.Hour, min: 30 * time.Second, max: 40 * time.Second, pub: true, pending: true},
		}, t0.Add(20 * time.Second)},
		{"publish times are ignored among recent attributes", []obs{
			{at: time.Hour, min: 30 * time.Second, max: 40 * time.Second, pending: true},
			{at: time.Hour + time.Second, min: 50 * time.Minute, max: 50 * time.Minute, pub: true, pending: true},
			{at: time.Hour + 2*time.Minute, none: true},
		}, t0.Add(40 * time.Second)},
		{"sampled estimate stops at now − maxOutOfOrderness", []obs{
			{at: 0, min: 3 * time.Minute, max: 4 * time.Minute, pending: true},
		}, t0.Add(-10 * time.Second)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &watermarkEstimator{state: WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}}
			for _, o := range tc.rounds {
				var r round
				switch {
				case o.none:
				case o.pub:
					r.observePublish(t0.Add(o.min))
					r.observePublish(t0.Add(o.max))
				default:
					r.observe(t0.Add(o.min))
					r.observe(t0.Add(o.max))
				}
				e.observeRound(t0.Add(o.at), r, o.pending, 10*time.Second, DefaultSamplePeriod)
			}
			if tc.want.IsZero() {
				if e.state.WatermarkMillis != unsetMillis {
					t.Errorf("watermark = %v, want unset", e.CurrentWatermark())
				}
				return
			}
			if got := e.CurrentWatermark(); !got.Equal(tc.want) {
				t.Errorf("watermark = %v, want %v", got.UTC(), tc.want)
			}
		})
	}
}

// One message with a poisonous timestamp among valid ones never moves the watermark, even
// after the estimator idles; a later on-time message is not behind it.
func TestPoisonTimestampDoesNotMoveWatermark(t *testing.T) {
	pub := time.Now().UTC().Truncate(time.Millisecond)
	cfg := ReadConfig{TimestampAttribute: "ts"}
	cfg.withDefaults()
	for _, poison := range []string{"9999-12-31T23:59:59Z", "1793534400000000", "1793534400000000000",
		"1793534400", pub.Add(25 * time.Hour).Format(time.RFC3339), "-1", "9223372036854775"} {
		t.Run(poison, func(t *testing.T) {
			ts := newTimestamper()
			we := &watermarkEstimator{state: WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis}}
			var r round
			for _, v := range []string{pub.Add(-time.Minute).Format(time.RFC3339Nano), poison} {
				m := schemas.Message{Attributes: map[string]string{"ts": v}, PublishTime: pub}
				ts.timestamp(context.Background(), cfg, we, &r, &m)
			}
			we.observeRound(pub, r, false, 10*time.Second, DefaultSamplePeriod)
			we.observeRound(pub.Add(2*time.Minute), round{}, false, 10*time.Second, DefaultSamplePeriod) // idle
			if got, want := we.CurrentWatermark(), pub.Add(-time.Minute); !got.Equal(want) {
				t.Errorf("watermark = %v, want %v (the newest valid timestamp)", got, want)
			}
			later := schemas.Message{Attributes: map[string]string{"ts": pub.Add(time.Second).Format(time.RFC3339Nano)}, PublishTime: pub.Add(2 * time.Minute)}
			ts.timestamp(context.Background(), cfg, we, &round{}, &later)
			if diff := cmp.Diff(schemas.Message{}, schemas.Message{BehindWatermark: later.BehindWatermark, TimestampError: later.TimestampError}); diff != "" {
				t.Errorf("a later on-time message was marked (-want +got):\n%s", diff)
			}
		})
	}
}
