package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"
)

// localRun is a short local-mode run: the generator's events through the whole pipeline.
func localRun(t *testing.T, args ...string) []string {
	return append([]string{"--generateEvents=200", "--outputDirectory=" + t.TempDir(), "--progressInterval=1h"}, args...)
}

var messagesRead = regexp.MustCompile(`messages read\s+200\s`)

// TestDirectRunsOnPrism: --runner=direct (the Go SDK's deprecated batch runner, which panics on
// the splittable source) runs the job on Prism, saying so once.
func TestDirectRunsOnPrism(t *testing.T) {
	stdout, stderr, code := launch(t, localRun(t, "--runner=direct")...)
	if code != 0 || strings.Contains(stderr, "panic") {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if n := strings.Count(stderr, "--runner=direct: the Go SDK's direct runner is deprecated"); n != 1 {
		t.Errorf("%d direct → Prism log lines, want 1:\n%s", n, stderr)
	}
	if !messagesRead.MatchString(stdout) {
		t.Errorf("summary does not show the 200 messages read:\n%s", stdout)
	}
}

// TestUniversalOnPrismJobServer runs the job with --runner=universal (Flink's job-server path)
// against Prism started as a job server, the SDK harness in the launcher (LOOPBACK).
func TestUniversalOnPrismJobServer(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	port := freePort(t)
	if _, err := prism.CreateJobServer(ctx, prism.Options{Port: port}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := launch(t, localRun(t, "--runner=universal", fmt.Sprintf("--endpoint=localhost:%d", port),
		"--environment_type=LOOPBACK", "--job_name=tributary-universal-test")...)
	if code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	if !messagesRead.MatchString(stdout) {
		t.Errorf("summary does not show the 200 messages read:\n%s", stdout)
	}
}
