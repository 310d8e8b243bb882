package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// readmeMarker precedes the README code block this test runs.
const readmeMarker = "<!-- emulator steps: cmd/emulator/readme_test.go runs this block -->"

// readmeSteps returns the sh block that follows the marker in README.md.
func readmeSteps(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), readmeMarker)
	if !ok {
		t.Fatalf("README.md has no %q", readmeMarker)
	}
	m := regexp.MustCompile("(?s)^\\s*```sh\n(.*?)\n```").FindStringSubmatch(after)
	if m == nil {
		t.Fatal("README.md: no ```sh block right after the emulator marker")
	}
	return m[1]
}

// TestReadmeEmulatorSteps runs README's emulator section verbatim, as a user pasting it would
// (make emulator, export, generate, the pipeline, make emulator-stop), and checks that the
// pipeline read what the generator published.
func TestReadmeEmulatorSteps(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the emulator, the generator and the pipeline")
	}
	if _, err := exec.LookPath("gcloud"); err != nil {
		t.Skip("gcloud not installed (make emulator-check installs the emulator)")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	steps := readmeSteps(t, root)
	for _, want := range []string{"make emulator\n", "make emulator-stop"} {
		if !strings.Contains(steps, want) {
			t.Fatalf("README emulator steps lack %q:\n%s", want, steps)
		}
	}
	if answers(defaultHostPort) {
		t.Fatalf("%s is in use: README's steps need it free (make emulator-stop?)", defaultHostPort)
	}
	out := t.TempDir()
	// OUT keeps the pid file and the pipeline's outputs out of the checkout's out/.
	env := append(os.Environ(), "OUT="+out)
	t.Cleanup(func() {
		stop := exec.Command("make", "-s", "emulator-stop")
		stop.Dir, stop.Env = root, env
		_ = stop.Run()
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", steps)
	cmd.Dir, cmd.Env = root, append(env, "PUBSUB_EMULATOR_HOST=")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err := cmd.Run(); err != nil {
		t.Fatalf("README emulator steps failed: %v\n%s", err, buf.String())
	}
	got := buf.String()
	m := regexp.MustCompile(`messages read\s+(\d+)`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("no summary in the output:\n%s", got)
	}
	count := regexp.MustCompile(`--count=(\d+)`).FindStringSubmatch(steps)
	if count == nil {
		t.Fatalf("README steps name no --count:\n%s", steps)
	}
	read, _ := strconv.Atoi(m[1])
	want, _ := strconv.Atoi(count[1])
	if read < want {
		t.Errorf("pipeline read %d messages, the generator published %d:\n%s", read, want, got)
	}
	if !strings.Contains(got, "stopped the Pub/Sub emulator") {
		t.Errorf("make emulator-stop did not stop it:\n%s", got)
	}
	if answers(defaultHostPort) {
		t.Errorf("%s still answers after make emulator-stop", defaultHostPort)
	}
}
