package windowing

import (
	"fmt"
	"strings"
	"time"
)

// Defaults of the windowed branches.
const (
	DefaultWindowDuration = time.Minute     // product_metrics
	DefaultTrendingWindow = time.Hour       // trending_products window size
	DefaultTrendingPeriod = 5 * time.Minute // trending_products window start interval
	DefaultTrendingTopN   = 10              // products ranked per trending window

	maxWindow        = 24 * time.Hour
	maxWindowsPerElt = 1000 // a sliding window copies each element this many times at most
	maxTopN          = 1000
)

// Options are the window and trigger settings of every windowed branch; Validate names the
// field in its errors.
type Options struct {
	Trigger                      // when panes fire, lateness, accumulation
	WindowDuration time.Duration // product_metrics fixed windows
	TrendingWindow time.Duration // trending_products sliding window size
	TrendingPeriod time.Duration // how often a trending window starts
	TrendingTopN   int           // products per trending ranking

	// Runner is Beam's --runner. Combinations that crash or mis-fire on Prism v2.77 are refused
	// unless it names Dataflow, Flink or Spark (see OnPrism).
	Runner string
}

// Defaults returns the default options (on the default runner, Prism).
func Defaults() Options {
	return Options{
		WindowDuration: DefaultWindowDuration,
		TrendingWindow: DefaultTrendingWindow,
		TrendingPeriod: DefaultTrendingPeriod,
		TrendingTopN:   DefaultTrendingTopN,
	}
}

// ProductMetrics is the window of product_metrics.
func (o Options) ProductMetrics() Window { return Fixed(o.WindowDuration) }

// Trending is the window of trending_products.
func (o Options) Trending() Window { return Sliding(o.TrendingWindow, o.TrendingPeriod) }

// OnPrism reports whether Prism's limitations apply to runner: Prism itself, the default (empty)
// runner, which is Prism, and the portable runner (--runner=universal), which locally is Prism's
// job server. Use --runner=flink (or dataflow, spark) to lift them.
func OnPrism(runner string) bool {
	switch strings.ToLower(runner) {
	case "dataflow", "dataflowrunner", "flink", "flinkrunner", "spark", "sparkrunner":
		return false
	}
	return true
}

// FieldError is an invalid field of Options or Trigger, named by its Go name (a pipeline maps it
// to its flag).
type FieldError struct {
	Field string // e.g. "LateFirings"
	Msg   string // phrased to follow the field, e.g. "must be >= 0"
}

func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.Msg }

// triggerFields are Trigger's fields, in the order Validate checks them.
var triggerFields = []string{"EarlyFiringDelay", "LateFirings", "AllowedLateness", "Accumulation"}

// Fields lists the fields Options checks, in the order Validate checks them.
var Fields = append(triggerFields[:len(triggerFields):len(triggerFields)],
	"WindowDuration", "TrendingWindow", "TrendingPeriod", "TrendingTopN")

// Validate checks every field in the order of Fields and returns a *FieldError for the first
// bad one.
func (o Options) Validate() error { return firstBad(o.Rules(), Fields) }

func firstBad(rules map[string]func() string, fields []string) error {
	for _, f := range fields {
		if msg := rules[f](); msg != "" {
			return &FieldError{Field: f, Msg: msg}
		}
	}
	return nil
}

// Rules returns one check per field, each returning what is wrong ("" when fine), so a
// pipeline's options validation can map them onto its flags.
func (o Options) Rules() map[string]func() string {
	prism := OnPrism(o.Runner)
	return map[string]func() string{
		"EarlyFiringDelay": func() string {
			switch d := o.EarlyFiringDelay; {
			case d < 0:
				return "must be >= 0 (0 fires no early panes)"
			case d > 0 && d < time.Millisecond:
				return "must be 0 or at least 1ms (triggers have millisecond precision)"
			}
			return ""
		},
		"LateFirings": func() string {
			if _, ok := o.lateDelay(); !ok {
				return fmt.Sprintf("%q must be %q, %q or a positive duration such as 30s", o.LateFirings, LateEvery, LateNone)
			}
			if o.LateFirings == LateNone && o.AllowedLateness > 0 {
				// Once the on-time pane has fired, the trigger is finished and every runner drops
				// the window's late elements without a count: nothing may be dropped silently.
				return fmt.Sprintf("%q with AllowedLateness=%v would drop late elements silently; use %q or a delay, or AllowedLateness=0",
					LateNone, o.AllowedLateness, LateEvery)
			}
			if d, _ := o.lateDelay(); d > 0 && d < time.Millisecond {
				return "a delay must be at least 1ms"
			}
			return ""
		},
		"AllowedLateness": func() string {
			if o.AllowedLateness < 0 {
				return "must be >= 0"
			}
			return ""
		},
		"Accumulation": func() string {
			switch o.Accumulation {
			case "", Accumulating, Discarding:
			default:
				return fmt.Sprintf("%q must be %q or %q", o.Accumulation, Accumulating, Discarding)
			}
			if prism && o.Accumulates() && o.AllowedLateness > 0 {
				// Measured on v2.77: elements of accumulating panes stay pending until the last
				// pane and hold the stage's input watermark, so the window never looks ended to
				// the late trigger: no LATE pane fires until the window closes, and everything
				// downstream waits for end + allowed lateness.
				return fmt.Sprintf("%q with AllowedLateness > 0 mis-fires on Prism v2.77 (late panes are held back until the window closes at end + allowed lateness); use %q, or run on Dataflow or Flink (Runner=dataflow|flink)",
					Accumulating, Discarding)
			}
			return ""
		},
		"WindowDuration": func() string { return windowSize(o.WindowDuration) },
		"TrendingWindow": func() string { return windowSize(o.TrendingWindow) },
		"TrendingPeriod": func() string {
			w, p := o.TrendingWindow, o.TrendingPeriod
			switch {
			case p <= 0:
				return "must be > 0"
			case w <= 0:
				return "" // reported on TrendingWindow
			case p > w:
				return fmt.Sprintf("%v must be at most TrendingWindow (%v)", p, w)
			case w%p != 0:
				// Then every window is a whole number of periods, which lets trending sum
				// per-period totals into the sliding windows that contain them.
				return fmt.Sprintf("%v must divide TrendingWindow (%v) evenly", p, w)
			case w/p > maxWindowsPerElt:
				return fmt.Sprintf("%v puts each event in %d windows of %v; at most %d", p, w/p, w, maxWindowsPerElt)
			}
			return ""
		},
		"TrendingTopN": func() string {
			if o.TrendingTopN < 1 || o.TrendingTopN > maxTopN {
				return fmt.Sprintf("must be between 1 and %d", maxTopN)
			}
			return ""
		},
	}
}

func windowSize(d time.Duration) string {
	switch {
	case d <= 0 || d > maxWindow:
		return "must be > 0 and <= 24h"
	case d%time.Millisecond != 0:
		return "must be whole milliseconds"
	}
	return ""
}
