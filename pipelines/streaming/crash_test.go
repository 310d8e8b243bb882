package streaming

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// The kill test runs the streaming pipeline as a child process: the test binary itself,
// re-executed with -test.run=TestCrashChild and crashChildEnv holding the child's settings (a
// separately built binary would need a flag for the short ack extension the test relies on).
const crashChildEnv = "TRIBUTARY_CRASH_CHILD"

// crashChild is what a child run gets from its parent.
type crashChild struct {
	Options  Options
	Endpoint string
	RunID    string
	Counters string // file the child rewrites with its counters every 100ms
}

// TestCrashChild is the child process of TestKillNineLosesNothingAcked; it skips otherwise.
func TestCrashChild(t *testing.T) {
	env := os.Getenv(crashChildEnv)
	if env == "" {
		t.Skip("only runs as the child process of TestKillNineLosesNothingAcked")
	}
	var c crashChild
	if err := json.Unmarshal([]byte(env), &c); err != nil {
		t.Fatal(err)
	}
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			b, _ := json.Marshal(telemetry.Snapshot())
			tmp := c.Counters + ".tmp"
			if os.WriteFile(tmp, b, 0o644) == nil {
				os.Rename(tmp, c.Counters)
			}
		}
	}()
	if err := c.Options.Validate(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, Config{Options: c.Options, PubsubEndpoint: c.Endpoint, AckExtension: 10 * time.Second,
		WatermarkSamplePeriod: time.Second, Start: time.Now(), RunID: c.RunID})
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(telemetry.Snapshot())
	os.WriteFile(c.Counters, b, 0o644)
}

// startChild launches a child run of the pipeline on sub, writing under out.
func startChild(t *testing.T, addr, sub, out, run string, idle time.Duration) (*exec.Cmd, string) {
	t.Helper()
	o := defaultOptions(t)
	o.InputSubscription, o.OutputDirectory, o.IdleTimeout = sub, out, idle
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	o.ProductCatalog, o.CurrencyRates = writeReference(t, out)
	counters := filepath.Join(out, "counters.json")
	env, err := json.Marshal(crashChild{Options: o, Endpoint: addr, RunID: run, Counters: counters})
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(out, "child.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1", "-test.timeout=10m")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+string(env))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill -9 reaches Prism's goroutines and workers alike
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	return cmd, counters
}

// childCounters reads the last counters a child wrote.
func childCounters(t *testing.T, path string) map[string]int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return map[string]int64{}
	}
	var c map[string]int64
	if err := json.Unmarshal(b, &c); err != nil {
		t.Logf("counters %s: %v", path, err)
	}
	return c
}

// archivedIDs returns the ids of every message in out's archive (WAL files of any run).
func archivedIDs(t *testing.T, out string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	if _, err := os.Stat(filepath.Join(out, "archive")); err != nil {
		return ids
	}
	paths, err := filepath.Glob(filepath.Join(out, "archive", "dt=*", "hr=*", "*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := files.ReadArchiveFile(data) // whole or absent: a crash leaves no partial file
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, m := range msgs {
			ids[m.MessageID] = true // a killed round's messages may be archived again by the next run
		}
	}
	return ids
}

// BackfillCompare is the second half of the kill test, for the backfill pipeline to fill in
// (pipelines/backfill is written on another branch): backfill the archives of the crash runs
// (crashOutputs) over [from, to) into a fresh output and compare its final table rows with the
// reference run's (referenceOutput) with go-cmp. Nil skips the comparison, with a log line.
var BackfillCompare func(t *testing.T, referenceOutput string, crashOutputs []string, from, to time.Time)

// TestKillNineLosesNothingAcked publishes once to a topic with two subscriptions, runs the
// pipeline uninterrupted on one (the reference) and, on the other, kills it with SIGKILL at three
// offsets, relaunching each time, then lets a last run drain the subscription. Every published id
// must be in the archive of one of the crash runs: a message is acked only after it is archived.
func TestKillNineLosesNothingAcked(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and relaunches the pipeline four times")
	}
	addr := startEmulator(t)
	topic, crashSub := newEmulatorSubscription(t, addr, 10)
	refSub := addSubscription(t, addr, topic, "-ref", 10)

	// Published in the background at about 400 messages a second, so each kill lands mid-stream.
	const total, perBatch = 6000, 100
	published := make(chan []string, 1)
	from := time.Now().UTC()
	go func() {
		var ids []string
		for i := 0; i < total; i += perBatch {
			var batch []*pubsubpb.PubsubMessage
			for j := i; j < i+perBatch; j++ {
				at := t0.Add(time.Duration(j) * 10 * time.Millisecond)
				batch = append(batch, &pubsubpb.PubsubMessage{Data: pageView(fmt.Sprintf("k%05d", j), at),
					Attributes: map[string]string{"event_time": at.Format(time.RFC3339Nano)}})
			}
			ids = append(ids, publish(t, addr, topic, batch)...)
			time.Sleep(250 * time.Millisecond)
		}
		published <- ids
	}()

	root := t.TempDir()
	ref := filepath.Join(root, "reference")
	refCmd, _ := startChild(t, addr, refSub, ref, "ref", 20*time.Second)

	offsets := []time.Duration{0, 2 * time.Second, 5 * time.Second} // after the run's first archive file
	var outs []string
	for i, off := range offsets {
		out := filepath.Join(root, fmt.Sprintf("crash%d", i))
		outs = append(outs, out)
		cmd, counters := startChild(t, addr, crashSub, out, fmt.Sprintf("crash%d", i), 0)
		deadline := time.Now().Add(3 * time.Minute)
		for len(archivedIDs(t, out)) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("run %d wrote no archive file in 3m; see %s", i, filepath.Join(out, "child.log"))
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(off)
		if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		c := childCounters(t, counters)
		t.Logf("kill at first file + %v: archived %d messages (%d files), acked %d (last counters before the kill)",
			off, len(archivedIDs(t, out)), c["archive.files"], c["pubsub.acked"])
	}
	ids := <-published
	last := filepath.Join(root, "last")
	outs = append(outs, last)
	cmd, counters := startChild(t, addr, crashSub, last, "last", 20*time.Second)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("last run: %v; see %s", err, filepath.Join(last, "child.log"))
	}
	c := childCounters(t, counters)
	t.Logf("last run: archived %d messages, acked %d", len(archivedIDs(t, last)), c["pubsub.acked"])
	if err := refCmd.Wait(); err != nil {
		t.Fatalf("reference run: %v; see %s", err, filepath.Join(ref, "child.log"))
	}

	union := map[string]bool{}
	for _, out := range outs {
		for id := range archivedIDs(t, out) {
			union[id] = true
		}
	}
	missing := 0
	for _, id := range ids {
		if !union[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d published messages are in no crash run's archive", missing, len(ids))
	}
	if n := backlog(t, addr, crashSub); n != 0 {
		t.Errorf("%d messages still unacked after the last run", n)
	}
	if BackfillCompare == nil {
		t.Log("TODO(backfill): BackfillCompare is nil; the backfill-equals-reference half is not checked")
		return
	}
	BackfillCompare(t, ref, outs, from.Truncate(time.Hour), time.Now().UTC().Add(time.Hour).Truncate(time.Hour))
}
