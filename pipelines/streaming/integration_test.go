package streaming

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"encoding/json"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn2x1[context.Context, schemas.Message, error](&failAfterFn{})
	register.Function1x1[schemas.Message, string](messageData)
}

// defaultOptions returns Options with every flag at its default.
func defaultOptions(t *testing.T) Options {
	t.Helper()
	var o Options
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	if err := options.Register(fs, &o); err != nil {
		t.Fatal(err)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	// Tests publish fixed historical event times (goldens depend on them): widen the band
	// around the publish time (today) so they stay valid whatever the date.
	o.MaxTimestampAge = 100 * 365 * 24 * time.Hour
	return o
}

// writeReference writes a small catalog and rate file whose numbers the expectations use.
func writeReference(t *testing.T, dir string) (catalog, rates string) {
	t.Helper()
	catalog, rates = filepath.Join(dir, "products.csv"), filepath.Join(dir, "rates.csv")
	mustWrite(t, catalog, "product_id,name,category,list_price,currency\np-0001,Atlas,books,12.50,USD\np-0002,Kite,toys,8,USD\n")
	mustWrite(t, rates, "currency,usd_per_unit,as_of\nUSD,1,2026-11-01\nEUR,1.1,2026-11-01\n")
	return catalog, rates
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readRows decodes every NDJSON line of a local table the streaming job wrote (its hour
// folders have no backfill manifests, so every part file is live).
func readRows[T any](t *testing.T, root, table string) []T {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "bq", table, "dt=*", "hr=*", "part-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []T
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			var r T
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			rows = append(rows, r)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return rows
}

func dec(s string) schemas.Decimal {
	d, err := schemas.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// crafted is one published message and what the test expects of it.
type crafted struct {
	payload string
	at      time.Duration // event time, also the timestamp attribute; <0: no attribute
}

func validEvent(id, typ, user, product string, at time.Duration, amountCurrency string) crafted {
	var b strings.Builder
	fmt.Fprintf(&b, `{"event_id":%q,"event_type":%q,"event_time":%q,"user_id":%q`, id, typ, t0.Add(at).Format(time.RFC3339), user)
	if product != "" {
		fmt.Fprintf(&b, `,"product_id":%q,"quantity":1`, product)
	}
	if amount, currency, ok := strings.Cut(amountCurrency, " "); ok {
		fmt.Fprintf(&b, `,"amount":%s,"currency":%q`, amount, currency)
	}
	b.WriteString(`,"device":{"os":"ios","country":"US"}}`)
	return crafted{payload: b.String(), at: at}
}

func TestStreamingPipelineOnEmulator(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)
	oversized := `{"event_id":"big","pad":"` + strings.Repeat("x", 1<<20) + `"}`
	msgs := []crafted{
		validEvent("e1", "page_view", "u1", "p-0001", 5*time.Second, ""),
		validEvent("e2", "add_to_cart", "u1", "p-0001", 10*time.Second, "12.50 USD"),
		validEvent("e3", "purchase", "u1", "p-0001", 20*time.Second, "20.00 EUR"),
		validEvent("e4", "purchase", "u2", "p-0002", 30*time.Second, "10 USD"),
		validEvent("e7", "page_view", "u3", "", 40*time.Second, ""),
		validEvent("e5", "page_view", "u2", "p-0001", 65*time.Second, ""),
		validEvent("e6", "refund", "u1", "p-0001", 90*time.Second, "5 USD"),
		validEvent("e3", "purchase", "u1", "p-0001", 20*time.Second, "20.00 EUR"),                             // a redelivered duplicate
		{payload: `{"event_id": "bad-1", `, at: 15 * time.Second},                                             // not JSON
		{payload: `{"event_id":"bad-2","event_type":"purchase","event_time":"2026-11-01T12:00:15Z"}`, at: -1}, // no user_id, no attribute
		{payload: oversized, at: 16 * time.Second},
	}
	var pub []*pubsubpb.PubsubMessage
	for _, m := range msgs {
		attrs := map[string]string{"origin": "test"}
		if m.at >= 0 {
			attrs["event_time"] = t0.Add(m.at).Format(time.RFC3339)
		}
		pub = append(pub, &pubsubpb.PubsubMessage{Data: []byte(m.payload), Attributes: attrs})
	}
	ids := publish(t, addr, topic, pub)

	out := t.TempDir()
	o := defaultOptions(t)
	o.InputSubscription, o.IdleTimeout, o.OutputDirectory = sub, 3*time.Second, out
	o.ProductCatalog, o.CurrencyRates = writeReference(t, t.TempDir())
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, Config{Options: o, PubsubEndpoint: addr, AckExtension: 10 * time.Second})
	pr, err := ptest.RunWithMetrics(p)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("events", func(t *testing.T) {
		ev := func(id, typ, user, product string, at time.Duration, qty int64, amount, currency, category, list, usd string) schemas.Event {
			e := schemas.Event{EventID: id, EventType: typ, EventTime: t0.Add(at), UserID: user, ProductID: product, Quantity: qty,
				Currency: currency, Device: schemas.Device{OS: "ios", Country: "US"}, SchemaVersion: 1, Category: category}
			if amount != "" {
				e.Amount, e.AmountUSD = dec(amount), dec(usd)
			}
			if list != "" {
				e.ListPrice = dec(list)
			}
			return e
		}
		want := []schemas.Event{
			ev("e1", "page_view", "u1", "p-0001", 5*time.Second, 1, "", "USD", "books", "12.50", ""),
			ev("e2", "add_to_cart", "u1", "p-0001", 10*time.Second, 1, "12.50", "USD", "books", "12.50", "12.50"),
			ev("e3", "purchase", "u1", "p-0001", 20*time.Second, 1, "20", "EUR", "books", "12.50", "22"),
			ev("e4", "purchase", "u2", "p-0002", 30*time.Second, 1, "10", "USD", "toys", "8", "10"),
			ev("e5", "page_view", "u2", "p-0001", 65*time.Second, 1, "", "USD", "books", "12.50", ""),
			ev("e6", "refund", "u1", "p-0001", 90*time.Second, 1, "5", "USD", "books", "12.50", "5"),
			ev("e7", "page_view", "u3", "", 40*time.Second, 0, "", "USD", "", "", ""),
		}
		got := readRows[schemas.Event](t, out, schemas.TableEvents)
		for _, e := range got {
			if e.MessageID == "" || e.PublishTime.IsZero() {
				t.Errorf("event %s lacks its message id or publish time", e.EventID)
			}
		}
		sortBy := cmpopts.SortSlices(func(a, b schemas.Event) bool { return a.EventID < b.EventID })
		if diff := cmp.Diff(want, got, sortBy, cmpopts.IgnoreFields(schemas.Event{}, "MessageID", "PublishTime"), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("events table (-want +got):\n%s", diff)
		}
	})

	t.Run("product_metrics", func(t *testing.T) {
		w0 := schemas.Pane{WindowStart: t0, WindowEnd: t0.Add(time.Minute), PaneTiming: schemas.PaneOnTime, IsFinal: true}
		w1 := schemas.Pane{WindowStart: t0.Add(time.Minute), WindowEnd: t0.Add(2 * time.Minute), PaneTiming: schemas.PaneOnTime, IsFinal: true}
		want := []schemas.ProductMetric{
			{Pane: w0, ProductID: "p-0001", Category: "books", Views: 1, Carts: 1, Purchases: 1, RevenueUSD: schemas.NumericOf(dec("22")), DistinctUsers: 1},
			{Pane: w0, ProductID: "p-0002", Category: "toys", Purchases: 1, RevenueUSD: schemas.NumericOf(dec("10")), DistinctUsers: 1},
			{Pane: w1, ProductID: "p-0001", Category: "books", Views: 1, Refunds: 1, RefundsUSD: schemas.NumericOf(dec("5")), DistinctUsers: 2},
		}
		got := readRows[schemas.ProductMetric](t, out, schemas.TableProductMetrics)
		sortBy := cmpopts.SortSlices(func(a, b schemas.ProductMetric) bool {
			return a.WindowStart.Before(b.WindowStart) || a.WindowStart.Equal(b.WindowStart) && a.ProductID < b.ProductID
		})
		if diff := cmp.Diff(want, got, sortBy); diff != "" {
			t.Errorf("product_metrics table (-want +got):\n%s", diff)
		}
	})

	t.Run("dead_letters carry the original bytes", func(t *testing.T) {
		row := func(i int, reason string) schemas.DeadLetterRow {
			attrs := []schemas.KeyValue{}
			for _, k := range []string{"event_time", "origin"} {
				if v, ok := pub[i].Attributes[k]; ok {
					attrs = append(attrs, schemas.KeyValue{Key: k, Value: v})
				}
			}
			// The payload is stored once, as text here, cut to deadletter.MaxPayload.
			data := pub[i].Data
			return schemas.DeadLetterRow{PayloadString: string(data[:min(len(data), deadletter.MaxPayload)]), Attributes: attrs,
				Step: "decode", Reason: reason, MessageID: ids[i], PayloadSize: int64(len(data)), PayloadTruncated: len(data) > deadletter.MaxPayload}
		}
		want := []schemas.DeadLetterRow{row(8, "invalid_json"), row(9, "invalid_schema"), row(10, "too_large")}
		got := readRows[schemas.DeadLetterRow](t, out, schemas.TableDeadLetters)
		for _, r := range got {
			if r.ErrorMessage == "" || r.Timestamp.IsZero() || r.PublishTime.IsZero() || r.DeadLetterID == "" {
				t.Errorf("dead letter %s lacks its error, time, publish time or dead_letter_id: %+v", r.MessageID, r.ErrorMessage)
			}
		}
		sortBy := cmpopts.SortSlices(func(a, b schemas.DeadLetterRow) bool { return a.MessageID < b.MessageID })
		// dead_letter_id hashes the emulator's message id: checked non-empty above.
		ignore := cmpopts.IgnoreFields(schemas.DeadLetterRow{}, "Timestamp", "ErrorMessage", "PublishTime", "DeadLetterID")
		if diff := cmp.Diff(want, got, sortBy, ignore); diff != "" {
			t.Errorf("dead_letters table (-want +got):\n%s", diff)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		got := telemetry.FromPipeline(pr).Counters
		want := map[string]int64{
			"pubsub.out": 11, "pubsub.acked": 11, "decode.out": 8, "dedup.duplicates": 1,
			"deadletter.invalid_json": 1, "deadletter.invalid_schema": 1, "deadletter.too_large": 1,
			"events.out": 7, "product_metrics.out": 3, "dead_letters.out": 3,
		}
		// archive.out is not checked here: in 2 of 13 runs on a loaded machine Prism reported
		// it short (3 and 8 of 11) while the archive files held all 11 messages exactly once,
		// which the archive subtest below asserts. Under investigation (see the closing note).
		for name, w := range want {
			if got[name] != w {
				t.Errorf("counter %s = %d, want %d", name, got[name], w)
			}
		}
	})

	t.Run("archive holds every message as received", func(t *testing.T) {
		got := readArchive(t, out)
		if len(got) != len(pub) {
			t.Fatalf("archive holds %d messages, want %d", len(got), len(pub))
		}
		for i, m := range pub {
			a, ok := got[ids[i]]
			if !ok {
				t.Errorf("message %s missing from the archive", ids[i])
				continue
			}
			if diff := cmp.Diff(m.Data, a.Data); diff != "" || !cmp.Equal(m.Attributes, a.Attributes) {
				t.Errorf("archived message %s differs from what was published", ids[i])
			}
		}
	})

	t.Run("no unacked backlog", func(t *testing.T) {
		// Anything not acked comes back once the 10s ack deadline (and the source's 10s
		// extension) has passed.
		time.Sleep(11 * time.Second)
		if n := backlog(t, addr, sub); n != 0 {
			t.Errorf("%d messages were redelivered after a clean run: they were never acked", n)
		}
	})
}

// failAfterFn fails its bundle at the N-th element, after earlier elements went downstream.
type failAfterFn struct {
	N    int
	seen int
}

func (fn *failAfterFn) ProcessElement(ctx context.Context, m schemas.Message) error {
	fn.seen++
	if fn.seen >= fn.N {
		return errors.New("injected failure mid-bundle")
	}
	return nil
}

func messageData(m schemas.Message) string { return string(m.Data) }

func TestFailedBundleIsRedelivered(t *testing.T) {
	addr := startEmulator(t)
	topic, sub := newEmulatorSubscription(t, addr, 10)
	var pub []*pubsubpb.PubsubMessage
	var want []any
	for i := range 40 {
		c := validEvent(fmt.Sprintf("e%02d", i), "page_view", "u1", "p-0001", time.Duration(i)*time.Second, "")
		pub = append(pub, &pubsubpb.PubsubMessage{Data: []byte(c.payload), Attributes: map[string]string{"event_time": t0.Add(c.at).Format(time.RFC3339)}})
		want = append(want, c.payload)
	}
	publish(t, addr, topic, pub)

	read := pubsub.ReadConfig{Subscription: sub, Endpoint: addr, TimestampAttribute: "event_time", IdleTimeout: 3 * time.Second, AckExtension: 10 * time.Second,
		MaxTimestampAge: 100 * 365 * 24 * time.Hour}
	p, s := beam.NewPipelineWithRoot()
	beam.ParDo0(s, &failAfterFn{N: 10}, pubsub.Read(s, read))
	if err := ptest.Run(p); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("first run: got error %v, want the injected failure", err)
	}

	// The failed bundle was never committed, so nothing was acked: every message comes back
	// once its ack deadline passes.
	read.IdleTimeout = 15 * time.Second
	p, s = beam.NewPipelineWithRoot()
	passert.Equals(s, beam.ParDo(s, messageData, pubsub.Read(s, read)), want...)
	if err := ptest.Run(p); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if n := backlog(t, addr, sub); n != 0 {
		t.Errorf("%d messages still unacked after the second run", n)
	}
}

func readArchive(t *testing.T, root string) map[string]schemas.Message {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "archive", "dt=*", "hr=*", "*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	out := map[string]schemas.Message{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := files.ReadArchiveFile(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, m := range msgs {
			if _, dup := out[m.MessageID]; dup {
				t.Errorf("message %s archived twice", m.MessageID)
			}
			out[m.MessageID] = m
		}
	}
	return out
}
