package archive

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// TestRead writes a small archive with the real writers (WAL files, and a windowed format-1
// file) and reads it back in both shapes from both stores: exactly the archived messages of the
// selected partitions, each at the timestamp the streaming source gives it.
func TestRead(t *testing.T) {
	micro := time.Microsecond
	valid := msg("a-valid", t0.Add(6*time.Minute+123*micro), t0.Add(5*time.Minute).Format(time.RFC3339Nano))
	missing := msg("b-missing", t0.Add(20*time.Minute+456*micro), "")
	ahead := msg("c-ahead", t0.Add(30*time.Minute), t0.Add(90*time.Minute).Format(time.RFC3339))
	marked := msg("d-marked", t0.Add(70*time.Minute), fmt.Sprint(t0.Add(65*time.Minute).UnixMilli())) // epoch millis
	marked.BehindWatermark = t0.Add(69 * time.Minute)                                                 // the streaming source's mark
	windowed := msg("e-windowed", t0.Add(91*time.Minute), t0.Add(90*time.Minute).Format(time.RFC3339))
	unselected := msg("f-unselected", t0.Add(3*time.Hour+time.Minute), "")

	want := []stamped{
		{t0.Add(5 * time.Minute).UnixMilli(), valid},
		{missing.PublishTime.Truncate(time.Millisecond).UnixMilli(), missing},
		{ahead.PublishTime.UnixMilli(), withError(ahead, "timestamp attribute event_time is more than 5m0s (max timestamp skew) after the publish time")},
		{t0.Add(65 * time.Minute).UnixMilli(), withoutMark(marked)},
		{t0.Add(90 * time.Minute).UnixMilli(), windowed},
	}
	for _, tg := range targets {
		for _, paced := range []bool{false, true} {
			t.Run(tg.name+"/"+mode(paced), func(t *testing.T) {
				dir := tg.dir(t)
				writeWAL(t, dir, valid, missing, ahead, marked, unselected)
				writeWindowed(t, dir, t0.Add(time.Hour), windowed)

				cfg := ReadConfig{Directory: dir, Partitions: []string{partition(1), partition(0), partition(2)},
					TimestampAttribute: attr, Paced: paced}
				if paced {
					cfg.Lateness = 2 * time.Hour // nothing here is behind the reader's watermark
				}
				got, _, counts := runRead(t, cfg)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("messages (-want +got):\n%s", diff)
				}
				wantCounts := map[string]int64{MetricPartitions: 3, MetricFiles: 3, MetricMessages: 5, MetricNoTimestamp: 1, MetricInvalidTimestamp: 1}
				if diff := cmp.Diff(wantCounts, pick(counts, "archive_read.")); diff != "" {
					t.Errorf("counters (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// TestReadCorruptFiles: a file that is not gzip, one that is not JSON and one that breaks off
// after a good line become one dead letter each, named, and counted; the good line and the other
// files are still read.
func TestReadCorruptFiles(t *testing.T) {
	good := msg("good", t0.Add(time.Minute), "")
	first := msg("first", t0.Add(2*time.Minute), "")
	firstLine := `{"data":"e30=","publish_time":"` + first.PublishTime.Format(time.RFC3339Nano) + `","message_id":"first","format":2}` + "\n"
	for _, paced := range []bool{false, true} {
		t.Run(mode(paced), func(t *testing.T) {
			dir := t.TempDir()
			writeWAL(t, dir, good)
			bad := map[string][]byte{
				"not-gzip.jsonl.gz": []byte("plain text"),
				"not-json.jsonl.gz": gz("not json\n"),
				"half.jsonl.gz":     gz(firstLine + "{\"data\":tru\n"),
			}
			wantDead := map[string]string{}
			for name, data := range bad {
				writeRaw(t, dir, partition(0)+"/"+name, data)
				loc := files.Join(files.ArchivePrefix(dir), partition(0)+"/"+name)
				wantDead[loc] = map[string]string{
					"not-gzip.jsonl.gz": "opening archive file",
					"not-json.jsonl.gz": "line 1",
					"half.jsonl.gz":     "(1 messages read before the fault): decoding archive line 2",
				}[name]
			}

			got, dead, counts := runRead(t, ReadConfig{Directory: dir, Partitions: []string{partition(0)}, Paced: paced})
			first.Data = []byte("{}")
			if diff := cmp.Diff([]stamped{{first.PublishTime.UnixMilli(), first}, {good.PublishTime.UnixMilli(), good}}, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			var want []schemas.DeadLetter
			for loc := range wantDead {
				want = append(want, schemas.DeadLetter{Step: Step, Reason: ReasonUnreadableFile, Payload: []byte(loc), PayloadSize: int64(len(loc)),
					Attributes: map[string]string{AttrFile: loc}, PublishTime: t0})
			}
			for _, d := range dead {
				if w, ok := wantDead[string(d.Payload)]; !ok || !strings.Contains(d.Error, w) || !strings.Contains(d.Error, string(d.Payload)) {
					t.Errorf("dead letter of %s: error %q, want it to name the file and contain %q", d.Payload, d.Error, w)
				}
			}
			sortDead := cmpopts.SortSlices(func(a, b schemas.DeadLetter) bool { return string(a.Payload) < string(b.Payload) })
			if diff := cmp.Diff(want, dead, sortDead, cmpopts.IgnoreFields(schemas.DeadLetter{}, "Error", "Time")); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			if counts[MetricUnreadableFiles] != 3 || counts["deadletter."+ReasonUnreadableFile] != 3 || counts[MetricFiles] != 1 {
				t.Errorf("counters %v: want 3 unreadable files (and dead letters), 1 file read", pick(counts, ""))
			}
		})
	}
}

// TestReadNoPublishTime: an archive line without a publish time (only a hand-made one can be)
// is not replayed and not dropped: it becomes a dead letter naming the file, with its payload
// and attributes, at its partition's start hour, and is counted; the file's other lines are read.
func TestReadNoPublishTime(t *testing.T) {
	good := msg("good", t0.Add(time.Hour+time.Minute), "")
	ev := t0.Add(time.Hour + 2*time.Minute).Format(time.RFC3339)
	lines := `{"data":"e30=","attributes":{"event_time":"` + ev + `"},"message_id":"nopub","format":2}` + "\n" +
		`{"data":"e30=","publish_time":"` + good.PublishTime.Format(time.RFC3339Nano) + `","message_id":"good","format":2}` + "\n"
	name := partition(1) + "/handmade.jsonl.gz"
	for _, paced := range []bool{false, true} {
		t.Run(mode(paced), func(t *testing.T) {
			dir := t.TempDir()
			writeRaw(t, dir, name, gz(lines))
			loc := files.Join(files.ArchivePrefix(dir), name)

			got, dead, counts := runRead(t, ReadConfig{Directory: dir, Partitions: []string{partition(0), partition(1)}, TimestampAttribute: attr, Paced: paced})
			good.Data = []byte("{}")
			if diff := cmp.Diff([]stamped{{good.PublishTime.UnixMilli(), good}}, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			want := []schemas.DeadLetter{{Step: Step, Reason: ReasonNoPublishTime, Payload: []byte("{}"), PayloadSize: 2,
				Attributes: map[string]string{attr: ev, AttrFile: loc}, MessageID: "nopub", PublishTime: t0.Add(time.Hour),
				Error: "archive file " + loc + " line 1: the message has no publish_time"}}
			if diff := cmp.Diff(want, dead, cmpopts.IgnoreFields(schemas.DeadLetter{}, "Time")); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			if counts[MetricNoPublishTime] != 1 || counts["deadletter."+ReasonNoPublishTime] != 1 || counts[MetricMessages] != 1 || counts[MetricFiles] != 1 {
				t.Errorf("counters %v: want 1 line without a publish time (and its dead letter), 1 message, 1 file", pick(counts, ""))
			}
		})
	}
}

// runRead runs Read with cfg on Prism and returns its messages with their timestamps (by message
// id), its dead letters and the tributary counters.
func runRead(t *testing.T, cfg ReadConfig) ([]stamped, []schemas.DeadLetter, map[string]int64) {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	res := Read(s, cfg)
	beamtest.Collect(s, t.Name(), beam.ParDo(s, stampOf, res.Messages))
	beamtest.Collect(s, t.Name()+"/dead", res.DeadLetters)
	got, counts, err := beamtest.Run(t, p, t.Name(), byMessageID)
	if err != nil {
		t.Fatal(err)
	}
	return got, beamtest.Collected[schemas.DeadLetter](t.Name() + "/dead"), counts
}

func mode(paced bool) string {
	if paced {
		return "paced"
	}
	return "batch"
}

func withError(m schemas.Message, why string) schemas.Message { m.TimestampError = why; return m }

func withoutMark(m schemas.Message) schemas.Message { m.BehindWatermark = time.Time{}; return m }

// pick returns the non-zero counters whose names start with prefix.
func pick(counts map[string]int64, prefix string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range counts {
		if strings.HasPrefix(k, prefix) && v != 0 {
			out[k] = v
		}
	}
	return out
}
