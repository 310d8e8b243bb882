package backfill

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// replayMemoryEnv turns TestReplayMemory on (it replays 7 hours of archive in two processes,
// too long for make test): TRIBUTARY_REPLAY_MEMORY=<events per hour>.
const replayMemoryEnv = "TRIBUTARY_REPLAY_MEMORY"

// replayChildEnv makes the test binary a backfill of one range: <archive>|<from>|<to>|<out>.
const replayChildEnv = "TRIBUTARY_REPLAY_CHILD"

// replayStart is the first hour of the measured archives: long closed.
var replayStart = time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)

// TestReplayMemory reports (does not assert) the peak RSS (VmHWM) and events/s of a paced
// replay of 1 hour and of 6 hours of archive at the same events per hour, each backfill in its
// own process (VmHWM is per process). Run with
//
//	TRIBUTARY_REPLAY_MEMORY=6000 go test ./pipelines/backfill/ -run TestReplayMemory -v
func TestReplayMemory(t *testing.T) {
	if os.Getenv(replayChildEnv) != "" {
		replayChild(t)
		return
	}
	perHour, _ := strconv.Atoi(os.Getenv(replayMemoryEnv))
	if perHour <= 0 {
		t.Skipf("set %s=<events per hour> to measure", replayMemoryEnv)
	}
	for _, hours := range []int{1, 6} {
		dir := t.TempDir()
		writeReplayArchive(t, dir, hours, perHour)
		from, to := replayStart, replayStart.Add(time.Duration(hours)*time.Hour)
		cmd := exec.Command(os.Args[0], "-test.run=^TestReplayMemory$", "-test.v")
		cmd.Env = append(os.Environ(), replayChildEnv+"="+strings.Join([]string{
			filepath.Join(dir, "archive"), from.Format(time.RFC3339), to.Format(time.RFC3339), filepath.Join(dir, "out")}, "|"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		load, _ := os.ReadFile("/proc/loadavg")
		if err := cmd.Run(); err != nil {
			t.Fatalf("%d h replay: %v\n%s", hours, err, out.String())
		}
		var line string
		for _, l := range strings.Split(out.String(), "\n") {
			if i := strings.Index(l, "REPLAY "); i >= 0 {
				line = l[i:]
			}
		}
		t.Logf("%d h at %d events/h: %s (load before: %s)", hours, perHour, line, strings.Join(strings.Fields(string(load))[:3], " "))
	}
}

// writeReplayArchive writes hours × perHour generated messages from replayStart as the
// streaming source's WAL does, each published 200 ms after its event time.
func writeReplayArchive(t *testing.T, dir string, hours, perHour int) {
	t.Helper()
	ctx := context.Background()
	w, err := files.OpenWAL(ctx, files.WALConfig{Directory: dir, RunID: "mem"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	gen := generate.Config{Count: int64(hours * perHour), Seed: 6, Users: 500, MalformedFraction: 0.01, DuplicateFraction: 0.01,
		Start: replayStart, Interval: time.Hour / time.Duration(perHour)}
	var batch []schemas.Message
	n := 0
	for m := range generate.Messages(gen) {
		clock := gen.Start.Add(time.Duration(n) * gen.Interval)
		batch = append(batch, schemas.Message{Data: m.Data, Attributes: m.Attributes,
			PublishTime: clock.Add(200 * time.Millisecond), MessageID: fmt.Sprint(n)})
		n++
		if len(batch) == 1000 {
			if err := w.Write(ctx, batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Write(ctx, batch); err != nil {
		t.Fatal(err)
	}
}

// replayChild runs the backfill replayChildEnv names in this process and prints its peak RSS
// and rate on one line.
func replayChild(t *testing.T) {
	parts := strings.Split(os.Getenv(replayChildEnv), "|")
	bo := defaults[Options](t)
	bo.Archive, bo.From, bo.To, bo.OutputDirectory = parts[0], parts[1], parts[2], parts[3]
	if err := bo.Validate(); err != nil {
		t.Fatal(err)
	}
	cfg, err := NewConfig(bo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rss, _ := peakRSS()
	fmt.Printf("REPLAY VmHWM %s, %d messages replayed in %v, %.0f events/s, %d events rows\n",
		mebibytes(rss), s.Counters["replay.out"], s.Elapsed.Round(time.Millisecond), s.EventsPerSecond(), s.Counters["events.out"])
}
