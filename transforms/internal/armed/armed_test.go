package armed

import (
	"testing"
	"time"
)

func TestTimers(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	var a Timers
	steps := []struct {
		op       string // need, record, fired, reset
		key, tag string
		at       time.Duration
		want     bool // need only
	}{
		{op: "need", key: "u", tag: "b1", at: 10, want: true},
		{op: "need", key: "u", tag: "b1", at: 10, want: false}, // same time: a no-op
		{op: "need", key: "u", tag: "b1", at: 5, want: false},  // earlier: the later one stays
		{op: "need", key: "u", tag: "b1", at: 20, want: true},  // later: moves it
		{op: "need", key: "v", tag: "b1", at: 5, want: true},   // another key
		{op: "need", key: "u", tag: "b2", at: 5, want: true},   // another tag
		{op: "record", key: "u", tag: "b1", at: 1},             // set earlier by the caller
		{op: "need", key: "u", tag: "b1", at: 2, want: true},   // so a later one is needed
		{op: "fired", key: "u", tag: "b1"},                     // fired: must be set again
		{op: "need", key: "u", tag: "b1", at: 1, want: true},   //
		{op: "reset"}, // a new bundle
		{op: "need", key: "v", tag: "b1", at: 5, want: true}, //
	}
	for i, s := range steps {
		switch s.op {
		case "need":
			if got := a.Need(s.key, s.tag, t0.Add(s.at)); got != s.want {
				t.Errorf("step %d: Need(%s, %s, +%d) = %v, want %v", i, s.key, s.tag, s.at, got, s.want)
			}
		case "record":
			a.Record(s.key, s.tag, t0.Add(s.at))
		case "fired":
			a.Fired(s.key, s.tag)
		case "reset":
			a.Reset()
		}
	}
}
