package local

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestGeneratorRate: --generateRate paces the generator with event times following
// the wall clock from now; without it the events end about now, 50 ms apart, unpaced.
func TestGeneratorRate(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 30, 15, 0, time.UTC)
	type got struct {
		Start    time.Time
		Rate     float64
		Interval time.Duration
	}
	tests := []struct {
		name string
		rate float64
		want got
	}{
		{"burst", 0, got{now.Add(-1000 * 50 * time.Millisecond).Truncate(time.Minute), 0, 0}},
		{"steady 2500/s", 2500, got{now, 2500, 400 * time.Microsecond}},
		{"steady 3/s", 3, got{now, 3, 333333333 * time.Nanosecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Generator(1000, 1, tt.rate, "event_time", now)
			if diff := cmp.Diff(tt.want, got{c.Start, c.Rate, c.Interval}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := c.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}
