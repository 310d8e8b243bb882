// Package armed remembers, within one bundle, the event-time timers a stateful DoFn has set
// per key and tag, so that setting one again to a time no later is skipped. Every timer Set
// is a timer element the runner queues per key (Prism pushes each onto the key's heap and
// walks the stale ones when it builds bundles), while the last Set of a timer wins: a bundle
// that sets a key's timer once per element, as sessions and fraud do, needs only the latest.
//
// Skipping a Set to an earlier time than one already set in the bundle leaves the timer at
// the later time. That is what the repeated Sets gave when the elements of a key arrive in
// timestamp order (Prism delivers a key's elements from a heap ordered by timestamp), and one
// of the outcomes the DoFns already allow for other orders: their timers may fire early or
// late and re-arm.
package armed

import "time"

type key struct{ key, tag string }

// Timers is a DoFn's record of the timers set in the current bundle. The zero value is ready.
type Timers struct {
	at map[key]time.Time
}

// Reset forgets everything: call it in StartBundle.
func (a *Timers) Reset() { clear(a.at) }

// Need reports whether the timer (k, tag) must be set to at: it was not set in this bundle,
// or set to an earlier time. When it returns true the caller sets it, and it is recorded.
func (a *Timers) Need(k, tag string, at time.Time) bool {
	if prev, ok := a.at[key{k, tag}]; ok && !prev.Before(at) {
		return false
	}
	a.Record(k, tag, at)
	return true
}

// Record notes that the caller set (k, tag) to at, whatever was set before (the last Set wins).
func (a *Timers) Record(k, tag string, at time.Time) {
	if a.at == nil {
		a.at = map[key]time.Time{}
	}
	a.at[key{k, tag}] = at
}

// Fired forgets (k, tag): the timer fired, so the next element must set it again.
func (a *Timers) Fired(k, tag string) { delete(a.at, key{k, tag}) }
