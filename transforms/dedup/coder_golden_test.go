package dedup

import (
	"testing"
	"time"

	"github.com/tributary-dev/tributary/internal/codertest"
)

// entry is the fixture of one bag entry (EncodeEntry's fields).
type entry struct {
	ExpiryMinute int64
	ID           string
}

// TestCoderGolden pins the bytes of dedup's state (one entry of the "seen" bag, held with
// Beam's string coder): an update in place decodes the running job's state with the new coders.
func TestCoderGolden(t *testing.T) {
	codertest.Check(t, codertest.Case[entry]{
		Name:   "dedup.entry",
		Value:  entry{ExpiryMinute: 29_892_251, ID: "e1:with:colons"},
		Encode: func(e entry) ([]byte, error) { return []byte(EncodeEntry(e.ExpiryMinute, e.ID)), nil },
		Decode: func(b []byte) (entry, error) {
			m, id, err := DecodeEntry(string(b))
			return entry{ExpiryMinute: m, ID: id}, err
		},
	})
}

// TestStateKeyStable pins the state key: it must not change between releases or processes (a
// Dataflow update or a Flink restore finds a key's state by it), and every copy of an event
// (same id, same event time) must land on the same key whatever its publish time.
func TestStateKeyStable(t *testing.T) {
	at := time.Date(2026, 11, 1, 12, 0, 30, 0, time.UTC)
	tests := []struct {
		id   string
		at   time.Time
		want int64
	}{
		{"e1", at, 29_892_241*256 + 131},
		{"e1", at.Add(30 * time.Second), 29_892_241*256 + 131}, // 12:01:00 is the minute's end
		{"e1", at.Add(31 * time.Second), 29_892_242*256 + 131},
		{"e2", at, 29_892_241*256 + 54},
	}
	for _, tc := range tests {
		if got := StateKey(tc.id, tc.at, 256); got != tc.want {
			t.Errorf("StateKey(%q, %v, 256) = %d, want %d", tc.id, tc.at, got, tc.want)
		}
	}
}
