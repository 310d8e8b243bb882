package backfill

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/emulatortest"
	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// The kill test lives here, not in pipelines/streaming, because it ends with a backfill and
// package streaming's tests cannot import this package. It runs the streaming pipeline as a child
// process: the test binary itself, re-executed with -test.run=TestKillNineChild and
// crashChildEnv holding the child's settings (the streaming command has no flag for the short
// ack extension the test relies on).
const crashChildEnv = "TRIBUTARY_CRASH_CHILD"

// crashAckExtension is the children's ack deadline: a killed run's unacked messages are
// redelivered to its relaunch within seconds, not a minute.
const crashAckExtension = 10 * time.Second

// crashChild is what a child run gets from its parent.
type crashChild struct {
	Options  streaming.Options
	Endpoint string
	RunID    string
	Counters string // file the child rewrites with its counters every 100ms
}

// TestKillNineChild is the child process of TestKillNineLosesNothingAcked; it skips otherwise.
func TestKillNineChild(t *testing.T) {
	env := os.Getenv(crashChildEnv)
	if env == "" {
		t.Skip("only runs as the child process of TestKillNineLosesNothingAcked")
	}
	var c crashChild
	if err := json.Unmarshal([]byte(env), &c); err != nil {
		t.Fatal(err)
	}
	save := func(counters map[string]int64) {
		b, _ := json.Marshal(counters)
		tmp := c.Counters + ".tmp"
		if os.WriteFile(tmp, b, 0o644) == nil {
			os.Rename(tmp, c.Counters)
		}
	}
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			save(telemetry.Snapshot())
		}
	}()
	if err := c.Options.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg := streaming.NewConfig(c.Options, time.Now())
	cfg.PubsubEndpoint, cfg.AckExtension, cfg.RunID = c.Endpoint, crashAckExtension, c.RunID
	if _, err := streaming.Run(context.Background(), cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	save(telemetry.Snapshot())
}

// crashRun is one child run of the streaming pipeline.
type crashRun struct {
	name, out, counters, log string
	cmd                      *exec.Cmd
}

// startCrashRun launches a child run of the streaming pipeline named name on sub, writing its
// tables and archive under out (shared by relaunches, as a relaunched job's are) and its log
// and counters under logs.
func startCrashRun(t *testing.T, addr, sub, out, logs, name string, idle time.Duration) *crashRun {
	t.Helper()
	o := defaults[streaming.Options](t)
	o.InputSubscription, o.OutputDirectory, o.IdleTimeout = sub, out, idle
	r := &crashRun{name: name, out: out, counters: filepath.Join(logs, name+".counters.json"), log: filepath.Join(logs, name+".log")}
	env, err := json.Marshal(crashChild{Options: o, Endpoint: addr, RunID: name, Counters: r.counters})
	if err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	r.cmd = exec.Command(os.Args[0], "-test.run=^TestKillNineChild$", "-test.count=1", "-test.timeout=10m")
	r.cmd.Env = append(os.Environ(), crashChildEnv+"="+string(env))
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // kill -9 reaches Prism's goroutines and workers alike
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL); r.cmd.Wait() })
	return r
}

// acked is the run's last pubsub.acked counter (for a killed run, the last one written before
// the kill).
func (r *crashRun) acked(t *testing.T) int64 {
	t.Helper()
	return r.counter(t, "pubsub.acked")
}

func (r *crashRun) counter(t *testing.T, name string) int64 {
	t.Helper()
	b, err := os.ReadFile(r.counters)
	if err != nil {
		return 0
	}
	var c map[string]int64
	if err := json.Unmarshal(b, &c); err != nil {
		t.Logf("counters of %s: %v", r.name, err)
	}
	return c[name]
}

// archived returns the messages of the WAL files this run wrote under its output (named by its
// run id) and how many files they are.
func (r *crashRun) archived(t *testing.T) (msgs []schemas.Message, nfiles int) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(r.out, "archive", "dt=*", "hr=*", "wal-*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		if !strings.Contains(filepath.Base(p), "-"+r.name+"-") {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m, err := files.ReadArchiveFile(data) // whole or absent: a crash leaves no partial file
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		msgs, nfiles = append(msgs, m...), nfiles+1
	}
	return msgs, nfiles
}

// TestKillNineLosesNothingAcked publishes once to a topic with two subscriptions, runs the
// streaming pipeline uninterrupted on one (the reference) and, on the other, kills it with
// SIGKILL at three offsets, relaunching each time on the same output directory, then lets a last
// run drain the subscription. Every published id must be in the archive: a message is acked only
// after it is archived. Then it recovers as README "Delivery guarantees" says: a backfill of the
// hours the crashes touched, from the crash runs' archive into their own tables, must leave the
// reference run's final rows in all six tables.
func TestKillNineLosesNothingAcked(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and relaunches the pipeline four times, then backfills")
	}
	addr := startEmulator(t)
	// One topic, two subscriptions: the reference run's and the crash runs'.
	topic, refSub := emulatortest.NewSubscription(t, addr, int32(crashAckExtension/time.Second))
	crashSub := emulatortest.AddSubscription(t, addr, topic, "-crash", int32(crashAckExtension/time.Second))

	const total = 6000
	start := time.Now().UTC()
	gen := generate.Config{Count: total, Users: 40, Seed: 10, MalformedFraction: 0.03, DuplicateFraction: 0.03,
		LateFraction: 0.02, LateBy: 3 * time.Second, // payload-late, within --maxOutOfOrderness
		Start: start, Interval: 2500 * time.Microsecond} // about the publish rate below
	var msgs []*pubsubpb.PubsubMessage
	for m := range generate.Messages(gen) {
		msgs = append(msgs, &pubsubpb.PubsubMessage{Data: m.Data, Attributes: m.Attributes})
	}
	copies := eventCopies(msgs)
	// Published in the background at about 400 messages a second, so each kill lands mid-stream.
	type result struct {
		ids []string
		err error
	}
	published := make(chan result, 1)
	go func() {
		ids, err := emulatortest.PublishPaced(addr, topic, msgs, 250*time.Millisecond)
		published <- result{ids, err}
	}()

	root := t.TempDir()
	refOut, crashOut := filepath.Join(root, "reference"), filepath.Join(root, "crash")
	ref := startCrashRun(t, addr, refSub, refOut, root, "ref", 20*time.Second)

	offsets := []time.Duration{0, 2 * time.Second, 5 * time.Second} // after the run's first archive file
	var runs []*crashRun
	for i, off := range offsets {
		r := startCrashRun(t, addr, crashSub, crashOut, root, fmt.Sprintf("crash%d", i), 0)
		runs = append(runs, r)
		deadline := time.Now().Add(3 * time.Minute)
		for _, n := r.archived(t); n == 0; _, n = r.archived(t) {
			if time.Now().After(deadline) {
				t.Fatalf("run %s wrote no archive file in 3m; see %s", r.name, r.log)
			}
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(off)
		if err := syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r.cmd.Wait()
		m, n := r.archived(t)
		t.Logf("%s, killed at its first archive file + %v: archived %d messages in %d files, acked %d (its last counters before the kill)",
			r.name, off, len(m), n, r.acked(t))
	}
	pub := <-published
	if pub.err != nil {
		t.Fatal(pub.err)
	}
	last := startCrashRun(t, addr, crashSub, crashOut, root, "last", 20*time.Second)
	runs = append(runs, last)
	if err := last.cmd.Wait(); err != nil {
		t.Fatalf("last run: %v; see %s", err, last.log)
	}
	m, n := last.archived(t)
	t.Logf("last (relaunch, runs until idle): archived %d messages in %d files, acked %d", len(m), n, last.acked(t))
	if err := ref.cmd.Wait(); err != nil {
		t.Fatalf("reference run: %v; see %s", err, ref.log)
	}
	m, n = ref.archived(t)
	t.Logf("ref (uninterrupted): archived %d messages in %d files, acked %d", len(m), n, ref.acked(t))
	if late := ref.counter(t, "late.dropped"); late != 0 {
		t.Fatalf("the reference run counted %d events late; the comparison with a backfill wants none behind the watermark", late)
	}

	union := map[string]bool{}
	for _, r := range runs {
		msgs, _ := r.archived(t)
		for _, m := range msgs {
			union[m.MessageID] = true // a killed round's messages may be archived again by the next run
		}
	}
	missing := 0
	for _, id := range pub.ids {
		if !union[id] {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of %d published messages are in no crash run's archive", missing, len(pub.ids))
	}
	if n := emulatortest.Backlog(t, addr, crashSub); n != 0 {
		t.Errorf("%d messages still unacked after the last run", n)
	}

	// The recovery: backfill the crash runs' archive into their own tables, from the hour before
	// the first crash to the hour after the last run.
	bo := defaults[Options](t)
	bo.Archive, bo.OutputDirectory = filepath.Join(crashOut, "archive"), crashOut
	bo.From = start.Add(-time.Hour).Truncate(time.Hour).Format(time.RFC3339)
	bo.To = time.Now().UTC().Add(time.Hour).Truncate(time.Hour).Format(time.RFC3339)
	bo.AllowOpenRange = true // every run has ended: nothing more can arrive for the range
	if err := bo.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg, err := NewConfig(bo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bs, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}
	t.Logf("backfill of [%s, %s): %d messages replayed from %d files", bo.From, bo.To,
		bs.Counters[streaming.ReplayCounter], bs.Counters["archive_read.files"])
	for _, table := range tables {
		want := finalRows(t, refOut, table, cfg.From, cfg.To)
		got := finalRows(t, crashOut, table, cfg.From, cfg.To)
		t.Logf("%s: %d keys", table, len(want))
		if len(want) == 0 && table != schemas.TableFraudAlerts {
			t.Errorf("%s: the reference run wrote no rows; the comparison proves nothing", table)
		}
		if table == schemas.TableEvents {
			t.Logf("events: %d rows of duplicated events compared without the kept copy's message_id and publish_time",
				blankKeptCopy(want, copies))
			blankKeptCopy(got, copies)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: the recovered tables differ from the reference run (-reference +recovered):\n%s", table, diff)
		}
	}
}
