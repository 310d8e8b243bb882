package decode

import (
	"fmt"
	"time"

	"github.com/tributary-dev/tributary/transforms/deadletter"
)

// The event times decode accepts: [MinEventTime, MaxEventTime). Later stages compute with an
// event time plus durations (window ends, trending windows, session gap and maximum duration,
// allowed lateness, dedup horizon, fraud timers), sessions and fraud in int64 Unix nanoseconds,
// which end at 2262-04-11, and every output row must marshal as JSON and load into BigQuery's
// TIMESTAMP. An event outside the bounds would overflow one of these (an event in 2300 became
// one in 1715) or make a window end in year 10000 that no sink can write, so it is dead-lettered
// up front with reason event_time_out_of_range. The bounds leave a margin of more than 20 years
// to int64 nanoseconds on both sides; the pipeline keeps each such duration at most
// MaxStageDuration, so no sum of them leaves the margin. No real clickstream event lies
// outside; a producer sending one has a broken clock or unit.
var (
	MinEventTime = time.Date(1700, 1, 1, 0, 0, 0, 0, time.UTC)
	MaxEventTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

// MaxStageDuration bounds each duration a stage adds to an event time (see MaxEventTime): ten
// of them stay within the 20-year margin.
const MaxStageDuration = 2 * 365 * 24 * time.Hour

func inEventTimeRange(t time.Time) bool { return !t.Before(MinEventTime) && t.Before(MaxEventTime) }

func eventTimeRangeError(field, v string) *Error {
	return &Error{Reason: deadletter.ReasonEventTimeOutOfRange, Field: field,
		Msg: fmt.Sprintf("%s is outside %s to %s, the event times every stage can carry", quote(v),
			MinEventTime.Format(time.RFC3339), MaxEventTime.Format(time.RFC3339))}
}

// parseEventTime parses an RFC 3339 time with a zone offset, exactly as the v1 schema's pattern
// has it: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), upper-case T and Z, fraction digits beyond
// nanoseconds truncated (as time.Parse does). Leap seconds are rejected, as time.Parse does. It
// returns the time in UTC; times outside years 1–9999 in UTC are rejected because BigQuery's
// TIMESTAMP and time.Time's JSON form cannot hold them. Unlike time.Parse it never allocates.
func parseEventTime(v string) (time.Time, bool) {
	if len(v) < len("2006-01-02T15:04:05Z") ||
		v[4] != '-' || v[7] != '-' || v[10] != 'T' || v[13] != ':' || v[16] != ':' {
		return time.Time{}, false
	}
	year, ok1 := num(v, 0, 4)
	month, ok2 := num(v, 5, 2)
	day, ok3 := num(v, 8, 2)
	hour, ok4 := num(v, 11, 2)
	minute, ok5 := num(v, 14, 2)
	sec, ok6 := num(v, 17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) ||
		month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	i, nsec := 19, 0
	if v[i] == '.' {
		i++
		start := i
		for ; i < len(v) && v[i] >= '0' && v[i] <= '9'; i++ {
			if i-start < 9 {
				nsec = nsec*10 + int(v[i]-'0')
			}
		}
		if i == start {
			return time.Time{}, false
		}
		for n := i - start; n < 9; n++ {
			nsec *= 10
		}
	}
	var offset int // seconds east of UTC
	switch {
	case i == len(v)-1 && v[i] == 'Z':
	case i == len(v)-6 && (v[i] == '+' || v[i] == '-') && v[i+3] == ':':
		oh, ok1 := num(v, i+1, 2)
		om, ok2 := num(v, i+4, 2)
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		offset = oh*3600 + om*60
		if v[i] == '-' {
			offset = -offset
		}
	default:
		return time.Time{}, false
	}
	unix := daysSinceEpoch(year, month, day)*86400 + int64(hour*3600+minute*60+sec-offset)
	if unix < minUnix || unix > maxUnix {
		return time.Time{}, false
	}
	return time.Unix(unix, int64(nsec)).UTC(), true
}

// The range of years 1–9999 in Unix seconds.
var (
	minUnix = daysSinceEpoch(1, 1, 1) * 86400
	maxUnix = daysSinceEpoch(10000, 1, 1)*86400 - 1
)

// daysSinceEpoch converts a proleptic Gregorian date to days since 1970-01-01 (Howard
// Hinnant's days_from_civil), cheaper than time.Date's normalizing.
func daysSinceEpoch(year, month, day int) int64 {
	if month <= 2 {
		year--
	}
	era := year / 400 // year ≥ -1 here, and the formula needs floor division only below 0
	if year < 0 {
		era = (year - 399) / 400
	}
	yoe := year - era*400
	mp := (month + 9) % 12 // March is 0
	doy := (153*mp+2)/5 + day - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// num reads n decimal digits of v at i.
func num(v string, i, n int) (int, bool) {
	x := 0
	for _, c := range []byte(v[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		x = x*10 + int(c-'0')
	}
	return x, true
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
