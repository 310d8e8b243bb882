package archive

import (
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

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

			p, s := beam.NewPipelineWithRoot()
			res := Read(s, ReadConfig{Directory: dir, Partitions: []string{partition(0), partition(1)}, TimestampAttribute: attr, Paced: paced})
			beamtest.Collect(s, t.Name(), beam.ParDo(s, stampOf, res.Messages))
			beamtest.Collect(s, t.Name()+"/dead", res.DeadLetters)
			got, counts, err := beamtest.Run(t, p, t.Name(), byMessageID)
			if err != nil {
				t.Fatal(err)
			}
			good.Data = []byte("{}")
			if diff := cmp.Diff([]stamped{{good.PublishTime.UnixMilli(), good}}, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
			want := []schemas.DeadLetter{{Step: Step, Reason: ReasonNoPublishTime, Payload: []byte("{}"), PayloadSize: 2,
				Attributes: map[string]string{attr: ev, AttrFile: loc}, MessageID: "nopub", PublishTime: t0.Add(time.Hour),
				Error: "archive file " + loc + " line 1: the message has no publish_time"}}
			dead := beamtest.Collected[schemas.DeadLetter](t.Name() + "/dead")
			if diff := cmp.Diff(want, dead, cmpopts.IgnoreFields(schemas.DeadLetter{}, "Time")); diff != "" {
				t.Errorf("dead letters (-want +got):\n%s", diff)
			}
			if counts[MetricNoPublishTime] != 1 || counts["deadletter."+ReasonNoPublishTime] != 1 || counts[MetricMessages] != 1 || counts[MetricFiles] != 1 {
				t.Errorf("counters %v: want 1 line without a publish time (and its dead letter), 1 message, 1 file", pick(counts, ""))
			}
		})
	}
}
