package generate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"time"
)

// Defaults applied to zero Config fields.
const (
	DefaultUsers              = 1000
	DefaultProducts           = 200 // the sample catalog (internal/sample/data) holds p-0001..p-0200
	DefaultLateBy             = 5 * time.Minute
	DefaultInterval           = 50 * time.Millisecond
	DefaultTimestampAttribute = "event_time"

	// MaxProducts keeps catalog ids clear of p-9900..p-9999, which stand for unknown products.
	MaxProducts = 9000
)

// DefaultStart is the event time of the first event when Config.Start is zero. It is fixed
// rather than "now" so that Messages stays a pure function of its Config.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes one generated sequence. Zero fields take the defaults above; the fractions
// are of all messages and their sum must not exceed 1.
type Config struct {
	Count    int64   // number of messages, including malformed ones and duplicates
	Rate     float64 // messages per second when publishing, 0 = as fast as possible
	Users    int
	Products int

	MalformedFraction float64
	DuplicateFraction float64
	LateFraction      float64
	LateBy            time.Duration // how far a late event's payload time trails the event clock

	Seed     int64
	Start    time.Time     // event time of the first event
	Interval time.Duration // event-time spacing between consecutive messages

	TimestampAttribute string // the attribute carrying the event clock

	// Oversized lets a small share of the malformed messages be payloads over 1 MiB.
	Oversized bool
}

func (c Config) withDefaults() Config {
	c.Users = cmp.Or(c.Users, DefaultUsers)
	c.Products = cmp.Or(c.Products, DefaultProducts)
	c.LateBy = cmp.Or(c.LateBy, DefaultLateBy)
	c.Interval = cmp.Or(c.Interval, DefaultInterval)
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	c.TimestampAttribute = cmp.Or(c.TimestampAttribute, DefaultTimestampAttribute)
	return c
}

// Validate reports every invalid field, each error naming the command-line flag that sets it.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(flag, format string, args ...any) {
		errs = append(errs, fmt.Errorf("invalid --%s: %s", flag, fmt.Sprintf(format, args...)))
	}
	if c.Count <= 0 {
		bad("count", "must be > 0, got %d", c.Count)
	}
	if c.Rate < 0 || math.IsNaN(c.Rate) || math.IsInf(c.Rate, 0) {
		bad("rate", "must be a finite number >= 0, got %v", c.Rate)
	}
	if c.Users < 0 {
		bad("users", "must be > 0, got %d", c.Users)
	}
	if c.Products < 0 || c.Products > MaxProducts {
		bad("products", "must be in [1,%d], got %d", MaxProducts, c.Products)
	}
	fractions := []struct {
		flag string
		v    float64
	}{
		{"malformedFraction", c.MalformedFraction},
		{"duplicateFraction", c.DuplicateFraction},
		{"lateFraction", c.LateFraction},
	}
	sum, ok := 0.0, true
	for _, f := range fractions {
		if !(f.v >= 0 && f.v <= 1) { // also rejects NaN
			bad(f.flag, "must be in [0,1], got %v", f.v)
			ok = false
		}
		sum += f.v
	}
	if ok && sum > 1 {
		bad("lateFraction", "malformedFraction + duplicateFraction + lateFraction must be <= 1, got %v", sum)
	}
	if c.LateBy < 0 {
		bad("lateBy", "must be > 0, got %v", c.LateBy)
	}
	if c.Interval < 0 {
		bad("interval", "must be > 0, got %v", c.Interval)
	}
	return errors.Join(errs...)
}

// IntervalOf is the event-time spacing of messages published at rate messages per second, so
// that their event times follow the wall clock (at least 1 ns; DefaultInterval for rate <= 0).
func IntervalOf(rate float64) time.Duration {
	if rate <= 0 {
		return DefaultInterval
	}
	return max(time.Duration(float64(time.Second)/rate), 1)
}

// IntervalOrDefault is interval, or DefaultInterval when it is zero (as Config applies it).
func IntervalOrDefault(interval time.Duration) time.Duration {
	if interval == 0 {
		return DefaultInterval
	}
	return interval
}
