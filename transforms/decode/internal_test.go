package decode

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
)

// str reads 8 bytes at a time; it must agree with encoding/json on every mix of plain and
// special bytes, at every alignment. The only raw '"' is the closing one.
func TestStrAgreesWithEncodingJSON(t *testing.T) {
	special := []string{"\x00", "\x1f", `\`, `\"`, "n", "u", "\x7f", "\x80", "\xc3", "\xa9", "\xff", "é", "😀", `\u00e9`, `\ud83d\ude00`}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := []byte{'"'}
		for range r.IntN(40) {
			if r.IntN(10) == 0 {
				b = append(b, special[r.IntN(len(special))]...)
			} else if c := byte(0x20 + r.IntN(0x60)); c != '"' && c != '\\' {
				b = append(b, c)
			}
		}
		b = append(b, '"')
		p := scanner{s: string(b)}
		got, err := p.str(true)
		end := len(b)
		if err == nil {
			end = p.i // an escaped backslash before a `\"` ends the string early
		}
		var want string
		// encoding/json turns an unpaired surrogate into U+FFFD where str rejects it.
		wantOK := utf8.Valid(b[:end]) && json.Unmarshal(b[:end], &want) == nil && !strings.ContainsRune(want, utf8.RuneError)
		if (err == nil) != wantOK || err == nil && got != want {
			t.Fatalf("str(%q) = %q, %v (end %d); encoding/json: %q, ok %v", b, got, err, p.i, want, wantOK)
		}
	}
}

// parseEventTime must agree with time.Parse on whatever both accept.
func TestParseEventTimeAgreesWithTimeParse(t *testing.T) {
	for _, v := range []string{
		"2024-05-01T12:00:00Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999999Z",
		"0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999999Z", "2000-02-29T00:00:00+14:00",
		"1900-03-01T00:00:00-12:30", "2024-12-31T23:59:59.1+23:59", "0400-02-29T12:00:00Z",
	} {
		got, ok := parseEventTime(v)
		want, err := time.Parse(time.RFC3339Nano, v)
		if !ok || err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("parseEventTime(%q) = %v, %v; time.Parse = %v, %v", v, got, ok, want, err)
		}
	}
	for _, v := range []string{
		"9999-12-31T23:59:59-00:01", "0001-01-01T00:59:59+01:00", "1900-02-29T00:00:00Z",
		"2024-04-31T00:00:00Z", "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+0100", "2024-05-01 12:00:00Z",
	} {
		if got, ok := parseEventTime(v); ok {
			t.Errorf("parseEventTime(%q) = %v, want rejection", v, got)
		}
	}
}

func TestLate(t *testing.T) {
	et := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	ts := func(d time.Duration) beam.EventTime { return beam.EventTime(et.Add(d).UnixMilli()) }
	for _, tt := range []struct {
		ts     beam.EventTime
		budget time.Duration
		want   bool
	}{
		{ts(time.Minute), time.Minute, false},
		{ts(time.Minute + time.Millisecond), time.Minute, true},
		{ts(-time.Hour), 0, false},
		{mtime.MinTimestamp, 0, false},
		{ts(200 * 365 * 24 * time.Hour), time.Duration(1<<63 - 1), false}, // the largest budget is ~292 years
		{mtime.MaxTimestamp, time.Hour, true},
	} {
		if got := late(tt.ts, et, tt.budget); got != tt.want {
			t.Errorf("late(%v, %v, %v) = %v, want %v", tt.ts, et, tt.budget, got, tt.want)
		}
	}
}
