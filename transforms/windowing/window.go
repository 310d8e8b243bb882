package windowing

import (
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
)

// Window is a branch's window kind and sizes: fixed windows of Size, or sliding windows of Size
// starting every Period.
type Window struct {
	Size   time.Duration
	Period time.Duration // 0 for fixed windows
}

// Fixed returns fixed windows of the given size.
func Fixed(size time.Duration) Window { return Window{Size: size} }

// Sliding returns windows of the given size starting every period. Note the order: Beam's
// window.NewSlidingWindows takes the period first.
func Sliding(size, period time.Duration) Window { return Window{Size: size, Period: period} }

// IsSliding reports whether w is sliding (its windows overlap).
func (w Window) IsSliding() bool { return w.Period > 0 && w.Period != w.Size }

// PerElement is how many windows each element falls in: Size/Period for sliding windows whose
// size is a multiple of the period (as Options requires), 1 for fixed windows.
func (w Window) PerElement() int64 {
	if !w.IsSliding() {
		return 1
	}
	return int64(w.Size / w.Period)
}

// Fn returns the Beam window function.
func (w Window) Fn() *window.Fn {
	if w.IsSliding() {
		return window.NewSlidingWindows(w.Period, w.Size)
	}
	return window.NewFixedWindows(w.Size)
}

func (w Window) String() string {
	if w.IsSliding() {
		return fmt.Sprintf("sliding %v every %v", w.Size, w.Period)
	}
	return fmt.Sprintf("fixed %v", w.Size)
}

// Into windows col by w and fires its panes by t.
//
// Into: PCollection<T> -> PCollection<T> (windowed)
func Into(s beam.Scope, w Window, t Trigger, col beam.PCollection) beam.PCollection {
	s = s.Scope("windowing.Into")
	return beam.WindowInto(s, w.Fn(), col, t.Options()...)
}
