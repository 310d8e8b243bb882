package windowing

import (
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
)

// Values of Trigger.LateFirings besides a processing-time delay.
const (
	LateEvery = "every" // a LATE pane for every late element
	LateNone  = "none"  // no late panes; only valid with no allowed lateness
)

// Values of Trigger.Accumulation.
const (
	// Accumulating panes hold everything seen so far in the window: the latest pane of a
	// (window, key) is its total and replaces the earlier ones.
	Accumulating = "accumulating"
	// Discarding panes hold only what arrived since the previous pane of the (window, key):
	// the total is the sum of its panes.
	Discarding = "discarding"
)

// Trigger says when the panes of every windowed branch fire and how they relate. The zero value
// is the default: one ON_TIME pane when the watermark passes the end of the window, no allowed
// lateness, accumulating panes.
type Trigger struct {
	// EarlyFiringDelay fires an EARLY pane this long (processing time) after the first element
	// of a pane arrives, until the window ends; 0 fires no early panes.
	// There is deliberately no element-count early firing: Prism gives unstable panes for
	// those (apache/beam#31153).
	EarlyFiringDelay time.Duration
	// LateFirings is LateEvery (the default when empty), LateNone, or a Go duration such as
	// "30s": a LATE pane that long after the first late element of the pane.
	LateFirings string
	// AllowedLateness keeps a window open this long after the watermark passes its end; later
	// elements are dropped.
	AllowedLateness time.Duration
	// Accumulation is Accumulating (the default when empty) or Discarding.
	Accumulation string
}

// Validate checks t's values on their own, as a transform given t directly needs; the runner
// restrictions are Options.Validate's. It returns a *FieldError naming the field.
func (t Trigger) Validate() error {
	return firstBad(Options{Trigger: t, Runner: "dataflow"}.Rules(), triggerFields)
}

// Accumulates reports whether panes accumulate (the default).
func (t Trigger) Accumulates() bool { return t.Accumulation == "" || t.Accumulation == Accumulating }

// lateDelay parses LateFirings: 0 with ok for every or none, the delay for a duration.
func (t Trigger) lateDelay() (time.Duration, bool) {
	switch t.LateFirings {
	case "", LateEvery, LateNone:
		return 0, true
	}
	d, err := time.ParseDuration(t.LateFirings)
	if err != nil || d <= 0 {
		return 0, false
	}
	return d, true
}

// Beam returns the Beam trigger: AfterEndOfWindow, with EarlyFiring(AfterProcessingTime +
// EarlyFiringDelay) when set, and LateFiring(AfterCount(1)) or LateFiring(AfterProcessingTime +
// delay). The firings of AfterEndOfWindow are implicitly repeated (trigger.EarlyFiring and
// LateFiring in the SDK; Prism and runners-core alike), so no Repeat is wrapped around them.
//
// A late firing is always set, even for LateNone: with no allowed lateness it never fires (no
// element is late and kept), and leaving it out makes Prism v2.77 panic when an early
// processing-time firing is still pending as the window closes (nil map in
// aggregateStageKind.buildProcessingTimeBundle). Call it on validated values only.
func (t Trigger) Beam() trigger.Trigger {
	tr := trigger.AfterEndOfWindow()
	if t.EarlyFiringDelay > 0 {
		tr = tr.EarlyFiring(trigger.AfterProcessingTime().PlusDelay(t.EarlyFiringDelay))
	}
	if d, _ := t.lateDelay(); d > 0 {
		return tr.LateFiring(trigger.AfterProcessingTime().PlusDelay(d))
	}
	return tr.LateFiring(trigger.AfterCount(1))
}

// Options returns the beam.WindowInto options: the trigger, the allowed lateness and the
// accumulation mode.
func (t Trigger) Options() []beam.WindowIntoOption {
	panes := beam.PanesAccumulate()
	if !t.Accumulates() {
		panes = beam.PanesDiscard()
	}
	return []beam.WindowIntoOption{beam.Trigger(t.Beam()), beam.AllowedLateness(t.AllowedLateness), panes}
}

// WithAccumulation returns t with the given accumulation mode, for a stage whose panes must
// relate in one way whatever the flag says (e.g. a ranking over per-product deltas).
func (t Trigger) WithAccumulation(mode string) Trigger {
	t.Accumulation = mode
	return t
}

func (t Trigger) String() string {
	late := t.LateFirings
	if late == "" {
		late = LateEvery
	}
	mode := Accumulating
	if !t.Accumulates() {
		mode = Discarding
	}
	return fmt.Sprintf("early every %v, late %s, lateness %v, %s", t.EarlyFiringDelay, late, t.AllowedLateness, mode)
}
