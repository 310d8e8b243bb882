package streaming

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/pipelines/streaming/local"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// acked reports whether pstest has seen an ack for every id.
func acked(src *local.Source, ids []string) bool {
	done := map[string]bool{}
	for _, m := range src.Server.Messages() {
		done[m.ID] = m.Acks > 0
	}
	for _, id := range ids {
		if !done[id] {
			return false
		}
	}
	return true
}

// TestTimestampEdgesEndToEnd runs the pipeline on a stream that mixes valid timestamps with
// every kind of invalid one, lets the source idle until its watermark advances, then publishes
// events behind that watermark and a normal one. Item 1: the invalid ones are dead letters,
// archived as received under their publish time, and do not move the watermark, so the normal
// message is still in its window. Item 3: the events that arrived behind the watermark after
// their window closed are in events and the archive (marked), and the windows plus those
// events account for every valid unique event.
func TestTimestampEdgesEndToEnd(t *testing.T) {
	src, err := local.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	now := time.Now().UTC()
	base := now.Truncate(time.Minute).Add(-5 * time.Minute) // window X = [base, base+1m)
	type msg struct {
		id    string
		data  []byte
		attrs map[string]string
	}
	valid := func(id string, at time.Time) msg {
		return msg{id: id, data: pageView(id, at), attrs: map[string]string{"event_time": at.Format(time.RFC3339Nano), "origin": "test"}}
	}
	invalid := func(id, attr string) msg {
		return msg{id: id, data: pageView(id, base.Add(20*time.Second)), attrs: map[string]string{"event_time": attr, "origin": "test"}}
	}
	phase1 := []msg{
		valid("a1", base.Add(10*time.Second)),
		valid("a2", base.Add(70*time.Second)), // window X+1: the idle watermark passes X
		invalid("max-rfc3339", "9999-12-31T23:59:59Z"),
		invalid("micros", fmt.Sprint(now.UnixMicro())),
		invalid("nanos", fmt.Sprint(now.UnixNano())),
		invalid("seconds", fmt.Sprint(now.Unix())),
		invalid("day-ahead", now.Add(25*time.Hour).Format(time.RFC3339)),
		invalid("negative", fmt.Sprint(-now.UnixMilli())),
		invalid("above-beam-max", "9223372036854775"),
	}
	// Published once the watermark has passed window X: producer retries of X's events, and a
	// normal event.
	late := []msg{valid("late1", base.Add(15*time.Second)), valid("late2", base.Add(25*time.Second)), valid("late3", base.Add(35*time.Second))}
	publishAll := func(ms []msg) []string {
		var ids []string
		for _, m := range ms {
			ids = append(ids, src.Server.Publish(src.Topic, m.data, m.attrs))
		}
		return ids
	}
	ids1 := publishAll(phase1)

	out := t.TempDir()
	o := defaultOptions(t)
	o.MaxTimestampAge = 744 * time.Hour // the default band, which the invalid cases test
	o.InputSubscription, o.OutputDirectory, o.MaxMessages = src.Subscription, out, int64(len(phase1)+len(late)+1)
	o.ProductCatalog, o.CurrencyRates = writeReference(t, t.TempDir())
	res, errc := runInBackground(t, o, Config{PubsubEndpoint: src.Server.Addr, AckExtension: 10 * time.Second, WatermarkSamplePeriod: time.Second})

	waitFor(t, "ack of the first messages", 5*time.Minute, errc, func() bool { return acked(src, ids1) })
	// The round after the acks waits up to 5 s for messages, finds none and, with nothing held
	// for a sample period, advances the watermark to the newest valid timestamp (a2).
	time.Sleep(10 * time.Second)
	normalAt := time.Now().UTC()
	ids2 := publishAll(append(late, valid("normal", normalAt)))
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	pr := <-res
	all := append(append([]msg{}, phase1...), append(late, valid("normal", normalAt))...)
	ids := append(ids1, ids2...)
	byEvent := map[string]string{} // event id -> message id
	for i, m := range all {
		byEvent[m.id] = ids[i]
	}

	t.Run("invalid timestamps are dead letters", func(t *testing.T) {
		var want []schemas.DeadLetterRow
		for i, m := range phase1[2:] {
			// The payload is text, so it is stored once, in payloadString.
			want = append(want, schemas.DeadLetterRow{PayloadString: string(m.data), PayloadSize: int64(len(m.data)), Step: "decode", Reason: "invalid_timestamp", MessageID: ids1[i+2],
				Attributes: []schemas.KeyValue{{Key: "event_time", Value: m.attrs["event_time"]}, {Key: "origin", Value: "test"}}})
		}
		got := readRows[schemas.DeadLetterRow](t, out, schemas.TableDeadLetters)
		for _, r := range got {
			if !strings.HasPrefix(r.ErrorMessage, "timestamp attribute event_time ") {
				t.Errorf("dead letter %s: error %q, want the timestamp's problem", r.MessageID, r.ErrorMessage)
			}
		}
		sortBy := cmpopts.SortSlices(func(a, b schemas.DeadLetterRow) bool { return a.MessageID < b.MessageID })
		// dead_letter_id hashes the emulator's message id (bigquery.TestDeadLetterIDIgnoresTimeAndRun).
		ignore := cmpopts.IgnoreFields(schemas.DeadLetterRow{}, "Timestamp", "ErrorMessage", "PublishTime", "DeadLetterID")
		if diff := cmp.Diff(want, got, sortBy, ignore); diff != "" {
			t.Errorf("dead_letters (-want +got):\n%s", diff)
		}
	})

	arch := readArchive(t, out)
	t.Run("archive holds every message as received", func(t *testing.T) {
		if len(arch) != len(all) {
			t.Errorf("archive holds %d messages, want %d", len(arch), len(all))
		}
		for i, m := range all {
			a, ok := arch[ids[i]]
			switch {
			case !ok:
				t.Errorf("%s missing from the archive", m.id)
			case !bytes.Equal(a.Data, m.data) || !cmp.Equal(a.Attributes, m.attrs):
				t.Errorf("%s archived differently from what was published", m.id)
			case i >= 2 && i < len(phase1):
				if a.TimestampError == "" || !strings.HasPrefix(a.path, hourFolder(a.PublishTime)) {
					t.Errorf("%s: archived in %s with timestamp_error %q, want under its publish time %v, marked", m.id, a.path, a.TimestampError, a.PublishTime)
				}
			}
		}
	})

	t.Run("arrival-late events are in events and the archive, marked", func(t *testing.T) {
		wm := base.Add(70 * time.Second) // what the idle watermark advanced to
		for _, m := range late {
			a := arch[byEvent[m.id]]
			if a.BehindWatermark.IsZero() || a.BehindWatermark.Before(wm) {
				t.Errorf("%s archived with behind_watermark %v, want at least %v", m.id, a.BehindWatermark, wm)
			}
		}
		if a := arch[byEvent["normal"]]; !a.BehindWatermark.IsZero() {
			t.Errorf("the normal message is marked behind the watermark %v", a.BehindWatermark)
		}
		var got []string
		for _, e := range readRows[schemas.Event](t, out, schemas.TableEvents) {
			got = append(got, e.EventID)
		}
		want := []string{"a1", "a2", "late1", "late2", "late3", "normal"}
		if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})

	t.Run("windows plus late events account for every valid event", func(t *testing.T) {
		row := func(start time.Time) schemas.ProductMetric {
			return schemas.ProductMetric{Pane: schemas.Pane{WindowStart: start, WindowEnd: start.Add(time.Minute), PaneTiming: schemas.PaneOnTime, IsFinal: true},
				ProductID: "p-0001", Category: "books", Views: 1, DistinctUsers: 1}
		}
		// X holds a1 only: late1..3 arrived after X closed. The normal message is in its window.
		want := []schemas.ProductMetric{row(base), row(base.Add(time.Minute)), row(normalAt.Truncate(time.Minute))}
		got := readRows[schemas.ProductMetric](t, out, schemas.TableProductMetrics)
		sortBy := cmpopts.SortSlices(func(a, b schemas.ProductMetric) bool { return a.WindowStart.Before(b.WindowStart) })
		if diff := cmp.Diff(want, got, sortBy); diff != "" {
			t.Errorf("product_metrics (-want +got):\n%s", diff)
		}
		// The windows are counted from their rows, not from counters Prism can report short.
		var inWindows int64
		for _, r := range got {
			inWindows += r.Views
		}
		c := telemetry.FromPipeline(pr).Counters
		if unique := int64(6); inWindows+c["late.dropped"] != unique {
			t.Errorf("events in windows %d + late.dropped %d != valid unique events %d", inWindows, c["late.dropped"], unique)
		}
	})
}

// TestNoTimestampAttributeWindowsBeforeDrain: a stream whose messages carry no timestamp
// attribute at all still moves the watermark (by publish time), so its windows are written
// while the source is still running, not only when it stops.
func TestNoTimestampAttributeWindowsBeforeDrain(t *testing.T) {
	src, err := local.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	const window = 5 * time.Second
	out := t.TempDir()
	o := defaultOptions(t)
	o.InputSubscription, o.OutputDirectory, o.MaxMessages = src.Subscription, out, 7
	o.WindowDuration, o.MaxOutOfOrderness = window, time.Second
	o.ProductCatalog, o.CurrencyRates = writeReference(t, t.TempDir())
	// Payload times just behind the publish time, as a producer without the attribute sends them.
	publishAt := func(id string) time.Time {
		at := time.Now().UTC().Add(-200 * time.Millisecond)
		src.Server.Publish(src.Topic, pageView(id, at), nil)
		return at
	}
	var first []time.Time
	for i := range 3 {
		first = append(first, publishAt(fmt.Sprintf("a%d", i)))
	}
	x := first[0].Truncate(window)
	res, errc := runInBackground(t, o, Config{PubsubEndpoint: src.Server.Addr, AckExtension: 10 * time.Second, WatermarkSamplePeriod: time.Second})

	// Later messages, published after the first window ended, move the watermark past it by
	// their publish times; the source stops only after a seventh message, published once the
	// first window's row has been written.
	waitFor(t, "the end of the first window", time.Minute, errc, func() bool { return time.Now().After(x.Add(window + 2*time.Second)) })
	for i := range 3 {
		publishAt(fmt.Sprintf("b%d", i))
	}
	rowFor := func(start time.Time) []schemas.ProductMetric {
		var rows []schemas.ProductMetric
		for _, r := range readRows[schemas.ProductMetric](t, out, schemas.TableProductMetrics) {
			if r.WindowStart.Equal(start) {
				rows = append(rows, r)
			}
		}
		return rows
	}
	waitFor(t, "product_metrics row of the first window while the source runs", 5*time.Minute, errc, func() bool { return len(rowFor(x)) > 0 })
	publishAt("stop")
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	pr := <-res
	views := int64(0)
	for _, at := range first {
		if at.Truncate(window).Equal(x) {
			views++
		}
	}
	want := []schemas.ProductMetric{{Pane: schemas.Pane{WindowStart: x, WindowEnd: x.Add(window), PaneTiming: schemas.PaneOnTime, IsFinal: true},
		ProductID: "p-0001", Category: "books", Views: views, DistinctUsers: 1}}
	if diff := cmp.Diff(want, rowFor(x)); diff != "" {
		t.Errorf("product_metrics of the first window (-want +got):\n%s", diff)
	}
	if n := len(readArchive(t, out)); n != 7 {
		t.Errorf("archive holds %d messages, want 7", n)
	}
	if c := telemetry.FromPipeline(pr).Counters; c["pubsub.no_timestamp"] != 7 {
		t.Logf("pubsub.no_timestamp = %d, want 7 (Prism can report counters short)", c["pubsub.no_timestamp"])
	}
}
