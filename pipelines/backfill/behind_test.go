package backfill

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// archivedCount is the number of messages in the complete archive files under root.
func archivedCount(root string) int {
	paths, _ := filepath.Glob(filepath.Join(root, "archive", "dt=*", "hr=*", "*.jsonl.gz"))
	n := 0
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if msgs, err := files.ReadArchiveFile(data); err == nil {
			n += len(msgs)
		}
	}
	return n
}

// counts are a product_metrics row's counts: views, carts, purchases, refunds.
type counts [4]float64

// metricCounts reads the final product_metrics rows under root: counts by window_start|product_id.
func metricCounts(t *testing.T, root string, from, to time.Time) map[string]counts {
	t.Helper()
	out := map[string]counts{}
	for _, r := range finalRows(t, root, schemas.TableProductMetrics, from, to) {
		ws, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["window_start"]))
		if err != nil {
			t.Fatal(err)
		}
		num := func(c string) float64 { f, _ := r[c].(float64); return f }
		out[ws.UTC().Format(time.RFC3339)+"|"+fmt.Sprint(r["product_id"])] = counts{num("views"), num("carts"), num("purchases"), num("refunds")}
	}
	return out
}

// expectedCounts recomputes product_metrics' counts from an events table: every event with a
// product, in the fixed window of its event time.
func expectedCounts(t *testing.T, root string, window time.Duration, from, to time.Time) map[string]counts {
	t.Helper()
	out := map[string]counts{}
	for _, r := range finalRows(t, root, schemas.TableEvents, from, to) {
		product := fmt.Sprint(r["product_id"])
		if r["product_id"] == nil || product == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r["event_time"]))
		if err != nil {
			t.Fatal(err)
		}
		k := at.Truncate(window).UTC().Format(time.RFC3339) + "|" + product
		c := out[k]
		switch r["event_type"] {
		case schemas.PageView:
			c[0]++
		case schemas.AddToCart:
			c[1]++
		case schemas.Purchase:
			c[2]++
		case schemas.Refund:
			c[3]++
		}
		out[k] = c
	}
	return out
}

// TestBackfillIncludesBehindWatermark: the streaming job reads a first batch, its watermark
// moves on while the source idles, then events of the first window arrive behind it and are
// counted late (late.dropped) and kept out of product_metrics. A backfill of its archive replays
// in event-time order and counts them in their window: its product_metrics equal a recomputation
// from the events table, the streaming job's do not.
func TestBackfillIncludesBehindWatermark(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the streaming pipeline and a backfill on Prism")
	}
	addr := startEmulator(t)
	topic, sub := newSubscription(t, addr)
	base := time.Now().UTC().Truncate(time.Minute).Add(-4 * time.Minute)
	messages := func(cfg generate.Config) []*pubsubpb.PubsubMessage {
		var out []*pubsubpb.PubsubMessage
		for m := range generate.Messages(cfg) {
			out = append(out, &pubsubpb.PubsubMessage{Data: m.Data, Attributes: m.Attributes})
		}
		return out
	}
	// First: 100 s of events from base. Then, behind the watermark: 20 events of [base, base+1m).
	first := messages(generate.Config{Count: 200, Users: 10, Seed: 21, Start: base, Interval: 500 * time.Millisecond})
	behind := messages(generate.Config{Count: 20, Users: 10, Seed: 22, Start: base.Add(5 * time.Second), Interval: time.Second})
	publish(t, addr, topic, first)

	core := defaults[streaming.Options](t).CoreOptions
	core.ProgressInterval = time.Minute
	dir := t.TempDir()
	so := defaults[streaming.Options](t)
	so.CoreOptions = core
	so.CoreOptions.OutputDirectory = filepath.Join(dir, "streaming")
	so.InputSubscription, so.MaxMessages = sub, int64(len(first)+len(behind))
	scfg := streaming.NewConfig(so, time.Now())
	scfg.PubsubEndpoint = addr
	scfg.WatermarkSamplePeriod = time.Second
	ctx := context.Background()
	type result struct {
		s   streaming.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := streaming.Run(ctx, scfg, io.Discard)
		done <- result{s, err}
	}()
	for deadline := time.Now().Add(5 * time.Minute); archivedCount(so.OutputDirectory) < len(first); time.Sleep(500 * time.Millisecond) {
		select {
		case r := <-done:
			t.Fatalf("streaming run ended (%v) before archiving the first batch", r.err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the first batch was not archived after 5 min")
		}
	}
	// With nothing held for a sample period, the idle source moves its watermark to the newest
	// timestamp (base + 100 s), past the end of the first window.
	time.Sleep(10 * time.Second)
	publish(t, addr, topic, behind)
	r := <-done
	if r.err != nil {
		t.Fatalf("streaming run: %v", r.err)
	}
	late := r.s.Counters["late.dropped"]
	if late == 0 {
		t.Fatal("the streaming run counted no event late; the test proves nothing")
	}

	bo := defaults[Options](t)
	bo.CoreOptions = core
	bo.Archive = filepath.Join(so.OutputDirectory, "archive")
	bo.OutputDirectory = filepath.Join(dir, "backfill")
	bo.From = base.Truncate(time.Hour).Format(time.RFC3339)
	bo.To = time.Now().UTC().Add(time.Hour).Truncate(time.Hour).Format(time.RFC3339)
	bo.AllowOpenRange = true // the streaming run has ended
	cfg, err := NewConfig(bo, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bs, err := Run(ctx, cfg, io.Discard)
	if err != nil {
		t.Fatalf("backfill: %v", err)
	}
	from, to := cfg.From, cfg.To
	want := expectedCounts(t, so.OutputDirectory, core.WindowDuration, from, to)
	streamed := metricCounts(t, so.OutputDirectory, from, to)
	t.Logf("streaming: late.dropped %d, %d product windows; backfill: late.dropped %d, %d replayed",
		late, len(streamed), bs.Counters["late.dropped"], bs.Counters[streaming.ReplayCounter])
	if diff := cmp.Diff(want, metricCounts(t, bo.OutputDirectory, from, to)); diff != "" {
		t.Errorf("backfill product_metrics differ from the recomputation over every event (-want +got):\n%s", diff)
	}
	if cmp.Equal(want, streamed) {
		t.Error("the streaming product_metrics equal the recomputation: no event was kept out")
	}
	if n := bs.Counters["late.dropped"]; n != 0 {
		t.Errorf("the backfill counted %d events late, want 0", n)
	}
}
