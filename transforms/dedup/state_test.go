package dedup

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

func TestBatchFor(t *testing.T) {
	tests := []struct {
		windows []time.Duration
		want    time.Duration
	}{
		{nil, time.Second},
		{[]time.Duration{time.Minute, 5 * time.Minute}, time.Second},
		{[]time.Duration{0, time.Hour}, time.Second},
		{[]time.Duration{1500 * time.Millisecond}, 500 * time.Millisecond},
		{[]time.Duration{time.Minute, 250 * time.Millisecond}, 250 * time.Millisecond},
		{[]time.Duration{7 * time.Millisecond, time.Minute}, time.Millisecond},
	}
	for _, tt := range tests {
		if got := BatchFor(tt.windows...); got != tt.want {
			t.Errorf("BatchFor(%v) = %v, want %v", tt.windows, got, tt.want)
		}
	}
}

// TestDecodeTruncated: every strict prefix of a chunk or a batch is an error, never a panic or
// a shorter value.
func TestDecodeTruncated(t *testing.T) {
	chunk := encodeEntries([]entry{{ID: "e1", Expiry: 1_793_000_600_000}, {ID: "e2", Expiry: -1}})
	e := schemas.Event{EventID: "e1", UserID: "u1", EventType: "purchase", MessageID: "m1"}
	batch := joinBatch([][]byte{encodeStamped(1_793_000_000_000, e), encodeStamped(-5, e)})
	got, err := decodeBatch(batch)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]stamped{{1_793_000_000_000, e}, {-5, e}}, got); diff != "" {
		t.Errorf("batch round trip (-want +got):\n%s", diff)
	}
	for n := range len(chunk) {
		if _, err := decodeEntries(chunk[:n]); err == nil {
			t.Errorf("decodeEntries of %d of %d bytes: no error", n, len(chunk))
		}
	}
	for n := range len(batch) {
		if _, err := decodeBatch(batch[:n]); err == nil {
			t.Errorf("decodeBatch of %d of %d bytes: no error", n, len(batch))
		}
	}
}
