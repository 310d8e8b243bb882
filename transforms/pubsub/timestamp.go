package pubsub

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
	"unicode"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// Defaults of the timestamp band (ReadConfig.MaxTimestampSkew, MaxTimestampAge).
const (
	// DefaultMaxTimestampSkew bounds how far an attribute may run ahead of the publish time,
	// which Pub/Sub's clock sets when it accepts the message: only a producer clock running
	// fast puts an event after it, and 5 minutes (Kerberos' default clock tolerance) covers a
	// badly synchronized host while keeping a future-dated event from opening windows ahead.
	DefaultMaxTimestampSkew = 5 * time.Minute
	// DefaultMaxTimestampAge bounds how far an attribute may trail the publish time: 31 days,
	// Pub/Sub's longest (topic) retention, so a historical backlog of that age republished
	// through Pub/Sub still passes; anything older belongs to a backfill from the archive.
	DefaultMaxTimestampAge = 31 * 24 * time.Hour
)

// errNoTimestamp: the attribute is absent.
var errNoTimestamp = errors.New("no timestamp attribute")

// parseAttributeTime reads a timestamp attribute exactly as Beam Java's PubsubIO does
// (PubsubClient: Long.parseLong, else google-http-client's DateTime.parseRfc3339), so that the
// portable source and Dataflow's native one agree on which messages have a valid timestamp:
//
//   - epoch milliseconds: an optional sign and decimal digits (Long.parseLong also takes
//     non-ASCII decimal digits, so this does too) within int64;
//   - RFC 3339 as that parser's pattern has it: YYYY-MM-DD, optionally [Tt]HH:MM:SS with a
//     fraction of 1 to 9 digits, optionally [Zz] or ±HH:MM (a time without a zone is UTC; a
//     zone needs a time). Fields are read leniently, as java.util.GregorianCalendar does
//     (2026-02-30 is March 2); the fraction is truncated to milliseconds.
//
// The result has millisecond precision, Beam's.
func parseAttributeTime(v string) (time.Time, error) {
	if ms, ok := javaParseLong(v); ok {
		return time.UnixMilli(ms).UTC(), nil
	}
	if t, ok := javaParseRFC3339(v); ok {
		return t, nil
	}
	return time.Time{}, errors.New("is neither epoch milliseconds nor RFC 3339")
}

// javaParseLong is Java's Long.parseLong(v, 10).
func javaParseLong(v string) (int64, bool) {
	neg, digits := false, v
	if len(v) > 0 && (v[0] == '-' || v[0] == '+') {
		neg, digits = v[0] == '-', v[1:]
	}
	if digits == "" {
		return 0, false
	}
	// Accumulate negatively, as Java does, so that math.MinInt64 parses.
	var n int64
	for _, r := range digits {
		d, ok := javaDigit(r)
		if !ok || n < (math.MinInt64+int64(d))/10 {
			return 0, false
		}
		n = n*10 - int64(d)
	}
	if !neg {
		if n == math.MinInt64 {
			return 0, false
		}
		n = -n
	}
	return n, true
}

// javaDigit is Character.digit(r, 10): the value of a Unicode decimal digit (category Nd).
// Unicode keeps each script's digits contiguous, 0 to 9, so the value is the offset in its run.
func javaDigit(r rune) (int, bool) {
	if r >= '0' && r <= '9' {
		return int(r - '0'), true
	}
	if r < 0x80 || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if r >= rune(rg.Lo) && r <= rune(rg.Hi) {
			return int(r-rune(rg.Lo)) % 10, true
		}
	}
	return 0, false
}

// javaParseRFC3339 is DateTime.parseRfc3339 of google-http-client (the version Beam ships):
// the pattern (\d{4})-(\d{2})-(\d{2})([Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?)?([Zz]|([+-])(\d{2}):(\d{2}))?
// matched whole, fields set on a lenient GregorianCalendar in GMT.
func javaParseRFC3339(v string) (time.Time, bool) {
	digits := func(i, n int) (int, bool) {
		if i+n > len(v) {
			return 0, false
		}
		return num(v[i : i+n])
	}
	year, ok1 := digits(0, 4)
	month, ok2 := digits(5, 2)
	day, ok3 := digits(8, 2)
	if !ok1 || !ok2 || !ok3 || v[4] != '-' || v[7] != '-' {
		return time.Time{}, false
	}
	i := 10
	var hour, minute, sec, nsec int
	timeGiven := i < len(v) && (v[i] == 'T' || v[i] == 't')
	if timeGiven {
		var ok4, ok5, ok6 bool
		hour, ok4 = digits(i+1, 2)
		minute, ok5 = digits(i+4, 2)
		sec, ok6 = digits(i+7, 2)
		if !ok4 || !ok5 || !ok6 || v[i+3] != ':' || v[i+6] != ':' {
			return time.Time{}, false
		}
		i += 9
		if i < len(v) && v[i] == '.' {
			j := i + 1
			for j < len(v) && j-i <= 9 && v[j] >= '0' && v[j] <= '9' {
				nsec = nsec*10 + int(v[j]-'0')
				j++
			}
			if j == i+1 {
				return time.Time{}, false
			}
			for n := j - i - 1; n < 9; n++ {
				nsec *= 10
			}
			i = j
		}
	}
	shift := 0 // minutes east of UTC
	if i < len(v) {
		switch {
		case !timeGiven: // a zone without a time (or trailing characters)
			return time.Time{}, false
		case v[i] == 'Z' || v[i] == 'z':
			i++
		case v[i] == '+' || v[i] == '-':
			h, ok1 := digits(i+1, 2)
			m, ok2 := digits(i+4, 2)
			if !ok1 || !ok2 || v[i+3] != ':' {
				return time.Time{}, false
			}
			shift = h*60 + m
			if v[i] == '-' {
				shift = -shift
			}
			i += 6
		}
	}
	if i != len(v) {
		return time.Time{}, false
	}
	// time.Date normalizes out-of-range fields as a lenient GregorianCalendar does. (Before
	// 1582 Java's calendar is Julian; no band admits such dates.)
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC).Add(-time.Duration(shift) * time.Minute)
	return time.UnixMilli(t.UnixMilli() + int64(nsec/1e6)).UTC(), true
}

// num reads ASCII decimal digits (Java's \d without UNICODE_CHARACTER_CLASS).
func num(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// Beam's timestamp range, up to the end of the global window: an element beyond it belongs to
// no window.
var (
	minTimestamp = mtime.MinTimestamp.ToTime()
	maxTimestamp = mtime.EndOfGlobalWindowTime.ToTime()
)

// checkBand reports why t is not a usable event time for a message published at publishTime:
// outside Beam's range, more than maxSkew after the publish time, or more than maxAge before it.
func checkBand(t, publishTime time.Time, maxSkew, maxAge time.Duration) error {
	switch {
	case t.Before(minTimestamp) || t.After(maxTimestamp):
		return errors.New("is outside Beam's timestamp range")
	case t.After(publishTime.Add(maxSkew)):
		return fmt.Errorf("is more than %v (max timestamp skew) after the publish time", maxSkew)
	case t.Before(publishTime.Add(-maxAge)):
		return fmt.Errorf("is more than %v (max timestamp age) before the publish time", maxAge)
	}
	return nil
}

// eventTime applies the attribute rule to msg: the attribute's time when it is valid; else the
// publish time with errNoTimestamp (no attribute) or what is wrong with the attribute.
func eventTime(msg schemas.Message, attribute string, maxSkew, maxAge time.Duration) (time.Time, error) {
	v, ok := msg.Attributes[attribute]
	if !ok || attribute == "" {
		return msg.PublishTime, errNoTimestamp
	}
	ts, err := parseAttributeTime(v)
	if err == nil {
		err = checkBand(ts, msg.PublishTime, maxSkew, maxAge)
	}
	if err != nil {
		return msg.PublishTime, err
	}
	return ts, nil
}

func timestampError(attribute string, err error) string {
	return fmt.Sprintf("timestamp attribute %s %v", attribute, err)
}

// Timestamp returns the element timestamp Read gives msg (the attribute rule and the band of
// maxSkew and maxAge around its publish time, to the millisecond) and, for an invalid attribute,
// the TimestampError Read records ("" otherwise). A replay of archived messages uses it to give
// each message the timestamp the source gave it.
func Timestamp(msg schemas.Message, attribute string, maxSkew, maxAge time.Duration) (time.Time, string) {
	ts, err := eventTime(msg, attribute, maxSkew, maxAge)
	var why string
	if err != nil && err != errNoTimestamp {
		why = timestampError(attribute, err)
	}
	return ts.Truncate(time.Millisecond), why
}

// timestamper assigns each message its element timestamp and the source's marks.
type timestamper struct {
	noTimestamps, invalidTimestamps, behindWatermark telemetry.Counter
}

func newTimestamper() timestamper {
	return timestamper{
		noTimestamps:      telemetry.NewCounter("pubsub.no_timestamp"),
		invalidTimestamps: telemetry.NewCounter("pubsub.invalid_timestamp"),
		behindWatermark:   telemetry.NewCounter("pubsub.behind_watermark"),
	}
}

// timestamp returns msg's element timestamp and records it in the round:
//
//   - a valid attribute (parsable as Beam Java reads it, within the band around the publish
//     time): that time;
//   - no attribute: the publish time, as Beam Java's PubsubIO uses without a timestamp
//     attribute; it feeds the watermark like an attribute would, so the watermark follows
//     (while the stream carries no attributes: see observeRound);
//   - an invalid attribute: the publish time, with msg.TimestampError set; it never reaches
//     the watermark estimate, so one bad producer cannot move the watermark;
//
// and, whichever it is, marks msg.BehindWatermark when the timestamp is behind the watermark
// already reported (such a timestamp is left out of the estimate: it cannot lower a monotone
// watermark, and would only hold it still for a sample period).
func (s timestamper) timestamp(ctx context.Context, cfg ReadConfig, we *watermarkEstimator, r *round, msg *schemas.Message) time.Time {
	ts, err := eventTime(*msg, cfg.TimestampAttribute, cfg.MaxTimestampSkew, cfg.MaxTimestampAge)
	switch {
	case err == errNoTimestamp:
		if cfg.TimestampAttribute != "" {
			s.noTimestamps.Inc(ctx, 1)
		}
		ts = msg.PublishTime
	case err != nil:
		s.invalidTimestamps.Inc(ctx, 1)
		msg.TimestampError = timestampError(cfg.TimestampAttribute, err)
	}
	ts = ts.Truncate(time.Millisecond)
	if w, ok := we.reported(); ok && ts.Before(w) {
		msg.BehindWatermark = w
		s.behindWatermark.Inc(ctx, 1)
		return ts
	}
	switch err {
	case nil:
		r.observe(ts)
	case errNoTimestamp:
		r.observePublish(ts)
	}
	return ts
}
