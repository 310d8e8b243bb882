package pubsub

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// Three readers in a group, where Pub/Sub gives some of them in-order events (spread over them
// round by round) and the others nothing: the stage's watermark (every reader reports the
// group's minimum) advances, never passes processing time − maxOutOfOrderness, and no event is
// marked behind it. Without the idle rule a reader that never receives a message would hold the
// stage at the beginning of time.
func TestReaderGroupWatermark(t *testing.T) {
	const maxOOO = 10 * time.Second
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	cfg := ReadConfig{TimestampAttribute: "ts", MaxOutOfOrderness: maxOOO}
	cfg.withDefaults()
	for _, tc := range []struct {
		name      string
		receivers []int // readers Pub/Sub hands messages to, in turn
	}{
		{"reader 2 never receives", []int{0, 1}},
		{"only reader 1 receives", []int{1}},
		{"nobody receives", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := t0
			g := &readerGroup{members: map[int]member{}, seen: map[int]bool{}}
			ests := make([]*watermarkEstimator, 3)
			for i := range ests {
				ests[i] = &watermarkEstimator{state: WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: unsetMillis},
					clock: func() time.Time { return now }}
			}
			ts := newTimestamper()
			event, stage := 0, time.Time{}
			for r := range 150 { // 5 minutes of 2 s rounds
				now = t0.Add(time.Duration(r) * 2 * time.Second)
				for i, e := range ests {
					e.join(g, i, now)
					var rd round
					if len(tc.receivers) > 0 && tc.receivers[r%len(tc.receivers)] == i {
						for range 5 { // in order, up to maxOOO behind the clock
							evt := now.Add(-maxOOO + time.Duration(event%5)*time.Second)
							m := msgAt(evt, now)
							ts.timestamp(context.Background(), cfg, e, &rd, &m)
							if !m.BehindWatermark.IsZero() {
								t.Fatalf("round %d: in-order event at %v marked behind the watermark %v", r, evt, m.BehindWatermark)
							}
							event++
						}
					}
					e.observeRound(now, rd, false, maxOOO, cfg.SamplePeriod)
				}
				w := ests[0].CurrentWatermark()
				for i, e := range ests[1:] {
					if got := e.CurrentWatermark(); !got.Equal(w) {
						t.Fatalf("round %d: reader %d reports %v, reader 0 %v: every reader must report the group's minimum", r, i+1, got, w)
					}
				}
				if limit := now.Add(-maxOOO); w.After(limit) {
					t.Fatalf("round %d: stage watermark %v is past now − maxOutOfOrderness %v", r, w, limit)
				}
				if w.Before(stage) {
					t.Fatalf("round %d: stage watermark moved back from %v to %v", r, stage, w)
				}
				stage = w
			}
			// The oldest sample of the last period, itself up to maxOOO behind, minus maxOOO.
			if want := now.Add(-2*maxOOO - DefaultSamplePeriod - 2*time.Second); stage.Before(want) {
				t.Errorf("stage watermark %v after 5 minutes, want at least %v", stage, want)
			}
		})
	}
}

// msgAt is a message with the event time evt in attribute ts, published at pub.
func msgAt(evt, pub time.Time) schemas.Message {
	return schemas.Message{Attributes: map[string]string{"ts": evt.Format(time.RFC3339Nano)}, PublishTime: pub}
}

// Three readers of one subscription (pstest, messages published while they read): every
// message is read once (by id in the output), acked once, never redelivered, archived once, and
// the job drains on the idle timeout; all three readers ran.
func TestThreeReadersReadEachMessageOnce(t *testing.T) {
	srv, topic, sub := newTestSubscription(t, 30)
	const n = 600
	var want []any
	for i := range n {
		want = append(want, fmt.Sprintf("m%04d", i))
	}
	published := map[string]bool{}
	done := make(chan struct{})
	go func() { // paced while the job runs, so that every reader's pulls find messages
		defer close(done)
		for i := range n {
			published[srv.Publish(topic, fmt.Appendf(nil, "m%04d", i), nil)] = true
			if i%10 == 9 {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	dir := t.TempDir()
	p, s := beam.NewPipelineWithRoot()
	msgs := Read(s, ReadConfig{Subscription: sub, Endpoint: srv.Addr, NumReaders: 3, IdleTimeout: 3 * time.Second,
		PullBatch: 50, Archive: files.WALConfig{Directory: dir, RunID: "r3"}})
	passert.Equals(s, beam.ParDo(s, messageString, msgs), want...) // each message exactly once
	if err := ptest.Run(p); err != nil {
		t.Fatal(err)
	}
	<-done
	for _, m := range srv.Messages() {
		if m.Acks != 1 || m.Deliveries != 1 {
			t.Errorf("message %s: %d acks, %d deliveries; want 1 and 1", m.ID, m.Acks, m.Deliveries)
		}
	}
	archived := map[string]int{}
	paths, _ := filepath.Glob(filepath.Join(files.ArchivePrefix(dir), "dt=*", "hr=*", "*"))
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := files.ReadArchiveRecords(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			archived[r.MessageID]++
		}
	}
	for id := range published {
		if archived[id] != 1 {
			t.Errorf("message %s archived %d times, want 1", id, archived[id])
		}
	}
	if len(archived) != n {
		t.Errorf("%d ids archived, want %d", len(archived), n)
	}
	ran := 0
	groups.Lock()
	for _, g := range groups.m {
		ran = max(ran, g.readers())
	}
	groups.Unlock()
	if ran != 3 {
		t.Errorf("%d readers ran, want 3", ran)
	}
	t.Logf("%d messages, %d archive files", n, len(paths))
}
