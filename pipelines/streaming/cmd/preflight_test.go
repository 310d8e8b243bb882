package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-dev/tributary/pipelines/streaming/local"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildErr == nil && binary != "" {
		os.RemoveAll(filepath.Dir(binary))
	}
	os.Exit(code)
}

// TestStartupCheckExits runs the binary against a Pub/Sub server without the named resource:
// it exits 1 before building the pipeline, its last line naming the resource and the flag.
func TestStartupCheckExits(t *testing.T) {
	bin := launcher(t)
	// Local mode's in-process server holds a topic and a subscription; other names are missing.
	src, err := local.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sub, srv := src.Subscription, src.Server
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"missing subscription", []string{"--inputSubscription=projects/tributary-local/subscriptions/nope"},
			"input subscription projects/tributary-local/subscriptions/nope not found: create it"},
		{"missing dead-letter topic", []string{"--inputSubscription=" + sub, "--deadLetterTopic=projects/tributary-local/topics/nope"},
			"dead-letter topic projects/tributary-local/topics/nope not found: create it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(bin, append(tc.args, "--outputDirectory="+t.TempDir())...)
			cmd.Dir = "../../.."
			cmd.Env = append(os.Environ(), "PUBSUB_EMULATOR_HOST="+srv.Addr)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v, want status 1\n%s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if last := lines[len(lines)-1]; !strings.HasPrefix(last, tc.want) {
				t.Errorf("last line %q, want it to start %q\n%s", last, tc.want, stderr.String())
			}
			if strings.Contains(stderr.String(), "caused by") || strings.Contains(stderr.String(), "Serving JobManagement") {
				t.Errorf("the pipeline was started:\n%s", stderr.String())
			}
		})
	}
}
