package main

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/pipelines/streaming"
)

// TestHelp checks --help against the options source: Tributary's flags by group in the groups'
// order, each once, Beam's runner flags left to --help_runner.
func TestHelp(t *testing.T) {
	bin := launcher(t)
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	help := string(out)
	specs, err := options.Specs(streaming.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantGroups, _ := options.Groups(specs)
	var gotGroups []string
	for _, m := range regexp.MustCompile(`(?m)^(\w[\w ]*):$`).FindAllStringSubmatch(help, -1) {
		gotGroups = append(gotGroups, m[1])
	}
	if diff := cmp.Diff(wantGroups, gotGroups); diff != "" {
		t.Errorf("--help groups (-want +got):\n%s", diff)
	}
	for _, s := range specs {
		if n := strings.Count(help, "\n  --"+s.Name+" "); n != 1 {
			t.Errorf("--%s listed %d times", s.Name, n)
		}
	}
	for _, beamFlag := range []string{"autoscaling_algorithm", "control_endpoint", "dataflow_kms_key"} {
		if strings.Contains(help, beamFlag) {
			t.Errorf("--help lists Beam's %s", beamFlag)
		}
	}
	lines := strings.Split(strings.TrimSpace(help), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, "--help_runner") {
		t.Errorf("last line %q does not point to --help_runner", last)
	}
	runner, err := exec.Command(bin, "--help_runner").CombinedOutput()
	if err != nil {
		t.Fatalf("--help_runner: %v\n%s", err, runner)
	}
	if !strings.Contains(string(runner), "-autoscaling_algorithm") || strings.Contains(string(runner), "-inputSubscription") {
		t.Errorf("--help_runner should list Beam's flags only:\n%s", runner)
	}
}
