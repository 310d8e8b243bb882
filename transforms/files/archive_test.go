package files

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function1x2[schemas.Message, beam.EventTime, schemas.Message](atPublishTime)
}

func atPublishTime(m schemas.Message) (beam.EventTime, schemas.Message) {
	return beam.EventTime(m.PublishTime.UnixMilli()), m
}

func TestWriteArchive(t *testing.T) {
	var msgs []schemas.Message
	for i := range 30 {
		msgs = append(msgs, schemas.Message{
			Data:        []byte(fmt.Sprintf(`{"event_id":"e%02d"}`, i)),
			Attributes:  map[string]string{"event_time": "x", "n": fmt.Sprint(i)},
			PublishTime: beamtest.T0.Add(time.Duration(i) * 5 * time.Minute).Add(123 * time.Microsecond),
			MessageID:   fmt.Sprintf("m%02d", i),
		})
	}
	msgs = append(msgs, msgs[3]) // a redelivery is archived as received

	// Each file holds its window's and shard's messages in the order of their lines.
	want := map[string][]schemas.Message{}
	for _, m := range msgs {
		line, err := archiveLine(m)
		if err != nil {
			t.Fatal(err)
		}
		start := m.PublishTime.Truncate(time.Hour)
		name := FileName(start, start.Add(time.Hour), "", Shard(line, DefaultNumShards), DefaultNumShards, 0, DefaultSuffix)
		want[name] = append(want[name], m)
	}
	for _, ms := range want {
		slices.SortFunc(ms, func(a, b schemas.Message) int {
			la, _ := archiveLine(a)
			lb, _ := archiveLine(b)
			return bytes.Compare(la, lb)
		})
	}

	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			dir, c := tg.prefix(t)
			p, s := beam.NewPipelineWithRoot()
			WriteArchive(s, beam.ParDo(s, atPublishTime, beam.CreateList(s, msgs)), ArchiveConfig{Directory: dir})
			pr, err := ptest.RunWithMetrics(p)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]schemas.Message{}
			for name, data := range listFiles(t, c, ArchivePrefix(dir)) {
				if got[name], err = ReadArchiveFile(data); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("archive files (-want +got):\n%s", diff)
			}
			counts := counters(pr, "archive.")
			if counts["archive.in"] != int64(len(msgs)) || counts["archive.out"] != int64(len(msgs)) || counts["archive.files"] != int64(len(want)) {
				t.Errorf("counters %v: want archive.in = archive.out = %d, archive.files %d", counts, len(msgs), len(want))
			}
		})
	}
}
