package pubsub

import (
	"strconv"
	"time"
)

// attributeTime reads an event time from a message attribute: RFC 3339 (with zone) or Unix epoch
// milliseconds, as Beam Java's PubsubIO.withTimestampAttribute accepts.
func attributeTime(v string) (time.Time, bool) {
	if v == "" {
		return time.Time{}, false
	}
	if c := v[0]; c >= '0' && c <= '9' && len(v) <= 16 {
		if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.UnixMilli(ms).UTC(), true
		}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
