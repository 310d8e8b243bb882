// Package backfill is Tributary's backfill pipeline: it replays the archive of a range of event
// time through streaming.Core. This file resolves the range and selects the partitions to read.
package backfill

import (
	"fmt"
	"strings"
	"time"
)

// ResolveRange turns --from, --to and --range into the half-open range [from, to) of whole
// hours, at launch time now. rng is previous-day or previous-hour (then from and to must be
// empty); from may be RFC 3339 or a negative duration before now (-24h), truncated to the hour;
// an empty to is now truncated to the hour.
func ResolveRange(from, to, rng string, now time.Time) (time.Time, time.Time, error) {
	now = now.UTC()
	hour := now.Truncate(time.Hour)
	switch rng {
	case "":
	case "previous-day":
		if from != "" || to != "" {
			return time.Time{}, time.Time{}, fmt.Errorf("range: cannot be combined with --from or --to")
		}
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		return day.AddDate(0, 0, -1), day, nil
	case "previous-hour":
		if from != "" || to != "" {
			return time.Time{}, time.Time{}, fmt.Errorf("range: cannot be combined with --from or --to")
		}
		return hour.Add(-time.Hour), hour, nil
	default:
		return time.Time{}, time.Time{}, fmt.Errorf("range: must be previous-day or previous-hour, got %q", rng)
	}
	parse := func(flag, v string, empty time.Time) (time.Time, error) {
		if v == "" {
			return empty, nil
		}
		if strings.HasPrefix(v, "-") {
			d, err := time.ParseDuration(v)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s: %w", flag, err)
			}
			return now.Add(d).Truncate(time.Hour), nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: must be RFC 3339 or a negative duration: %w", flag, err)
		}
		if !t.Equal(t.Truncate(time.Hour)) {
			return time.Time{}, fmt.Errorf("%s: must be a whole hour, got %s", flag, v)
		}
		return t.UTC(), nil
	}
	f, err := parse("from", from, time.Time{})
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if f.IsZero() {
		return time.Time{}, time.Time{}, fmt.Errorf("from: must be set (or --range)")
	}
	t, err := parse("to", to, hour)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if !f.Before(t) {
		return time.Time{}, time.Time{}, fmt.Errorf("to: must be after --from")
	}
	return f, t, nil
}

// Partitions returns the archive partitions (dt=YYYY-MM-DD/hr=HH, of publish time) that hold the
// events of [from, to): from from-context to to+lateness, one per hour.
func Partitions(from, to time.Time, context, lateness time.Duration) []string {
	var out []string
	end := to.Add(lateness)
	for h := from.Add(-context).UTC().Truncate(time.Hour); h.Before(end); h = h.Add(time.Hour) {
		out = append(out, h.Format("dt=2006-01-02/hr=15"))
	}
	return out
}
