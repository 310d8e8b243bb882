package streaming

import (
	"strings"
	"testing"
)

func TestDeliveryWarning(t *testing.T) {
	tests := []struct {
		runner string
		want   []string // fragments the warning must hold; none: no warning
	}{
		{"", nil},
		{"prism", nil},
		{"PrismRunner", nil},
		{"direct", nil},
		{"dataflow", nil},
		{"DataflowRunner", nil},
		{"flink", []string{"next checkpoint", "lost", "bundle finalization", "exec/plan.go", "harness/harness.go", "seek"}},
		{"FlinkRunner", []string{"next checkpoint", "lost"}},
		{"universal", []string{"unknown", "if it is Flink", "lost", "--runner=flink"}},
	}
	for _, tc := range tests {
		got := DeliveryWarning(tc.runner)
		if len(tc.want) == 0 {
			if got != "" {
				t.Errorf("DeliveryWarning(%q) = %q, want none", tc.runner, got)
			}
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("DeliveryWarning(%q) = %q, want it to mention %q", tc.runner, got, w)
			}
		}
	}
}
