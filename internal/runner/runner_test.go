package runner

import (
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
)

func TestResolveTurnsOffPrismSplitsOnce(t *testing.T) {
	defer func(r, e string) { *runners.Runner, *jobopts.Experiments = r, e }(*runners.Runner, *jobopts.Experiments)
	tests := []struct {
		runner, experiments, want string
	}{
		{"", "", PrismNoSplitExperiment},
		{"prism", "a,b", "a,b," + PrismNoSplitExperiment},
		{"direct", PrismNoSplitExperiment, PrismNoSplitExperiment},
		{"dataflow", "a", "a"}, // only Prism
	}
	for _, tc := range tests {
		*runners.Runner, *jobopts.Experiments = tc.runner, tc.experiments
		Resolve()
		Resolve()
		if *jobopts.Experiments != tc.want {
			t.Errorf("--runner=%q --experiments=%q: after Resolve %q, want %q", tc.runner, tc.experiments, *jobopts.Experiments, tc.want)
		}
	}
}
