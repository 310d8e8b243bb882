package streaming

import (
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	c := map[string]int64{"pubsub.out": 25000, "pubsub.acked": 24000, "events.out": 24000, "product_metrics.out": 10,
		"dead_letters.out": 250, "dedup.duplicates": 500, "late.dropped": 240}
	for _, tc := range []struct {
		name           string
		elapsed, every time.Duration
		read, total    int64
		counters       map[string]int64
		want           string
	}{
		{"total known", 10 * time.Second, 5 * time.Second, 20000, 50000, c,
			"progress    10s: [##########..........]  50% read 25000/50000 (4000/s now, 1000 in flight), events 24000, product_metrics 10, dead letters 250, duplicates 500, late 240"},
		{"reading finished", 15 * time.Second, 5 * time.Second, 0, 25000, c,
			"progress    15s: [####################] 100% read 25000/25000 (0/s now, 1000 in flight), events 24000, product_metrics 10, dead letters 250, duplicates 500, late 240"},
		{"redeliveries beyond the total", 15 * time.Second, 5 * time.Second, 0, 20000, c,
			"progress    15s: [####################] 100% read 25000/20000 (0/s now, 1000 in flight), events 24000, product_metrics 10, dead letters 250, duplicates 500, late 240"},
		{"unbounded", 5 * time.Second, 5 * time.Second, 25000, 0, c,
			"progress     5s: read 25000 (5000/s now, 1000 in flight), events 24000, product_metrics 10, dead letters 250, duplicates 500, late 240"},
		{"nothing yet", 5 * time.Second, 5 * time.Second, 0, 100, map[string]int64{},
			"progress     5s: [....................]   0% read 0/100 (0/s now, 0 in flight), events 0, product_metrics 0, dead letters 0, duplicates 0, late 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := progressLine(tc.elapsed, tc.every, tc.read, tc.total, tc.counters); got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}
