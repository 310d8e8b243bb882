package enrich

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/passert"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.Function2x0(withEventTimestamp)
	register.Function2x1(describe)
	register.Function1x1(describeDead)
	register.Function1x1(describeUSD)
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// process runs one element through fn as the runner would, returning what it emitted.
func process(t *testing.T, fn *enrichFn, e schemas.Event) schemas.Event {
	t.Helper()
	var out []schemas.Event
	ts := beam.EventTime(mtimeOf(e.EventTime))
	fn.ProcessElement(context.Background(), ts, e, func(got beam.EventTime, e schemas.Event) {
		if got != ts {
			t.Errorf("emitted timestamp %v, want %v", got, ts)
		}
		out = append(out, e)
	}, func(d schemas.DeadLetter) { t.Errorf("dead letter %s: %s", d.Reason, d.Error) })
	if len(out) != 1 {
		t.Fatalf("emitted %d elements, want 1", len(out))
	}
	return out[0]
}

func mtimeOf(t time.Time) beam.EventTime { return beam.EventTime(t.UnixMilli()) }

func TestRefresh(t *testing.T) {
	dir := t.TempDir()
	catalog := writeFile(t, dir, "products.csv", "product_id,name,category,list_price,currency\np-1,Mug,home,12.50,USD\n")
	rates := writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\nEUR,1.0853,2025-01-15\n")
	clock := &fakeClock{t: time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)}
	fn := &enrichFn{ProductCatalog: catalog, CurrencyRates: rates, RefreshInterval: 10 * time.Minute, now: clock.now}
	if err := fn.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	event := schemas.Event{EventID: "e", EventType: schemas.Purchase, ProductID: "p-1", Amount: 100 * schemas.DecimalScale, Currency: "EUR"}
	type view struct{ Category, ListPrice, AmountUSD string }
	check := func(step string, want view) {
		t.Helper()
		fn.StartBundle(ctx, nil, nil)
		got := process(t, fn, event)
		if diff := cmp.Diff(want, view{got.Category, got.ListPrice.String(), got.AmountUSD.String()}); diff != "" {
			t.Errorf("%s (-want +got):\n%s", step, diff)
		}
	}

	check("initial load", view{"home", "12.5", "108.53"})

	writeFile(t, dir, "products.csv", "product_id,name,category,list_price,currency\np-1,Mug,kitchen,14,USD\n")
	writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\nEUR,1.1,2025-01-16\n")
	clock.advance(9 * time.Minute)
	check("before the interval", view{"home", "12.5", "108.53"})

	clock.advance(time.Minute)
	check("at the interval", view{"kitchen", "14", "110"})

	// A broken file keeps the loaded data, and the reload is retried within retryInterval.
	writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\nEUR,oops,2025-01-17\n")
	clock.advance(10 * time.Minute)
	check("after a failed reload", view{"kitchen", "14", "110"})
	writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\nEUR,1.2,2025-01-17\n")
	clock.advance(retryInterval - time.Second)
	check("before the retry", view{"kitchen", "14", "110"})
	clock.advance(time.Second)
	check("after the retry", view{"kitchen", "14", "120"})

	// ProcessElement refreshes too, for long streaming bundles.
	writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\nEUR,1.3,2025-01-18\n")
	clock.advance(10 * time.Minute)
	if got := process(t, fn, event); got.AmountUSD.String() != "130" {
		t.Errorf("mid-bundle refresh: AmountUSD = %s, want 130", got.AmountUSD)
	}
}

func TestSetupErrorNamesPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.csv")
	fn := &enrichFn{ProductCatalog: missing, CurrencyRates: shippedRates, RefreshInterval: time.Minute}
	err := fn.Setup(context.Background())
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("Setup error = %v, want one naming %s", err, missing)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error; none means valid
	}{
		{"local", Config{ProductCatalog: shippedCatalog, CurrencyRates: shippedRates}, nil},
		{"gcs", Config{ProductCatalog: "gs://b/ref/products.csv", CurrencyRates: "gs://b/ref/rates.csv", RefreshInterval: time.Hour}, nil},
		{"empty", Config{}, []string{"ProductCatalog: no path given", "CurrencyRates: no path given"}},
		{"unknown scheme", Config{ProductCatalog: "nofs://x/p.csv", CurrencyRates: shippedRates}, []string{"ProductCatalog", "nofs"}},
		{"negative interval", Config{ProductCatalog: shippedCatalog, CurrencyRates: shippedRates, RefreshInterval: -time.Second}, []string{"RefreshInterval"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if (err != nil) != (len(tt.want) > 0) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestEnrichPanicsOnInvalidConfig(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "enrich.Enrich: invalid config") {
			t.Errorf("recovered %v, want an invalid config panic", r)
		}
	}()
	p, s := beam.NewPipelineWithRoot()
	_ = p
	Enrich(s, beam.CreateList(s, []schemas.Event{{}}), Config{})
}

// withEventTimestamp stamps each event with its event time, as decode does.
func withEventTimestamp(e schemas.Event, emit func(beam.EventTime, schemas.Event)) {
	emit(mtimeOf(e.EventTime), e)
}

// describe renders what Enrich set, and the element timestamp, for passert.
func describe(ts beam.EventTime, e schemas.Event) string {
	return fmt.Sprintf("%s ts=%s category=%q list=%s usd=%s currency=%s",
		e.EventID, ts.ToTime().UTC().Format(time.RFC3339Nano), e.Category, e.ListPrice, e.AmountUSD, e.Currency)
}

// describeDead renders a dead letter with the event id from its payload (the event as JSON).
func describeDead(d schemas.DeadLetter) string {
	var e schemas.Event
	if err := json.Unmarshal(d.Payload, &e); err != nil {
		return "payload: " + err.Error()
	}
	return fmt.Sprintf("%s %s %s: %s", d.Step, d.Reason, e.EventID, d.Error)
}

func TestEnrichPipeline(t *testing.T) {
	at := time.Date(2025, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	events := []schemas.Event{
		{EventID: "e1", EventType: schemas.Purchase, EventTime: at, UserID: "u1", ProductID: "p-0001", Quantity: 1, Amount: 100 * schemas.DecimalScale, Currency: "EUR", SchemaVersion: 1},
		{EventID: "e2", EventType: schemas.PageView, EventTime: at.Add(time.Hour), UserID: "u1", SchemaVersion: 1},
		{EventID: "e3", EventType: schemas.AddToCart, EventTime: at.Add(-time.Hour), UserID: "u2", ProductID: "p-9999", Currency: "USD", SchemaVersion: 1},
		{EventID: "e4", EventType: schemas.Refund, EventTime: at.Add(time.Minute), UserID: "u3", ProductID: "p-0002", Amount: 1500 * schemas.DecimalScale, Currency: "JPY", SchemaVersion: 1},
		{EventID: "e5", EventType: schemas.Purchase, EventTime: at.Add(2 * time.Minute), UserID: "u3", ProductID: "p-0002", Amount: schemas.DecimalScale, Currency: "XAU", SchemaVersion: 1},
		// Within the per-event cap in EUR, above it in USD: a dead letter, not a saturated amount.
		{EventID: "e6", EventType: schemas.Purchase, EventTime: at, UserID: "u4", ProductID: "p-0001", Amount: 9223372036 * schemas.DecimalScale, Currency: "EUR", SchemaVersion: 1},
		// The largest USD amount: kept exactly.
		{EventID: "e7", EventType: schemas.Purchase, EventTime: at, UserID: "u4", ProductID: "p-0001", Amount: schemas.MaxDecimal, Currency: "USD", SchemaVersion: 1},
	}
	ref, err := LoadReference(context.Background(), shippedCatalog, shippedRates)
	if err != nil {
		t.Fatal(err)
	}
	p1, p2 := ref.products["p-0001"], ref.products["p-0002"]

	p, s := beam.NewPipelineWithRoot()
	in := beam.ParDo(s, withEventTimestamp, beam.CreateList(s, events))
	enriched := Enrich(s, in, Config{ProductCatalog: shippedCatalog, CurrencyRates: shippedRates, RefreshInterval: time.Hour})
	passert.Equals(s, beam.ParDo(s, describeDead, enriched.DeadLetters),
		`enrich amount_out_of_range e6: amount: 9223372036 EUR is above 9223372036.854775807 USD, the per-event limit`)
	passert.Equals(s, beam.ParDo(s, describe, enriched.Events),
		fmt.Sprintf(`e1 ts=2025-03-14T15:09:26.535Z category=%q list=%s usd=108.53 currency=EUR`, p1.category, p1.listPriceUSD),
		`e2 ts=2025-03-14T16:09:26.535Z category="" list=0 usd=0 currency=USD`,
		`e3 ts=2025-03-14T14:09:26.535Z category="unknown" list=0 usd=0 currency=USD`,
		fmt.Sprintf(`e4 ts=2025-03-14T15:10:26.535Z category=%q list=%s usd=10.05 currency=JPY`, p2.category, p2.listPriceUSD),
		fmt.Sprintf(`e5 ts=2025-03-14T15:11:26.535Z category=%q list=%s usd=0 currency=XAU`, p2.category, p2.listPriceUSD),
		fmt.Sprintf(`e7 ts=2025-03-14T15:09:26.535Z category=%q list=%s usd=9223372036.854775807 currency=USD`, p1.category, p1.listPriceUSD),
	)

	res := ptest.RunAndValidate(t, p)
	counters := map[string]int64{}
	for _, c := range res.Metrics().Query(func(r metrics.SingleResult) bool { return r.Namespace() == telemetry.Namespace }).Counters() {
		counters[c.Name()] += c.Result()
	}
	want := map[string]int64{"enrich.in": 7, "enrich.out": 6, "enrich.misses": 2, "enrich.unknown_currency": 1,
		"deadletter.amount_out_of_range": 1}
	if diff := cmp.Diff(want, counters); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

// TestEnrichPipelineRateChange replays a range with an EUR rate change inside it: each event
// gets the rate in force at its event time, whatever the order it arrives in, and an event
// older than the rate file gets the first rate and is counted.
func TestEnrichPipelineRateChange(t *testing.T) {
	dir := t.TempDir()
	rates := writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\n"+
		"EUR,1.0853,2025-03-14\nEUR,1.1,2025-03-15\nUSD,1,2025-03-14\n")
	change := time.Date(2025, 3, 15, 0, 0, 0, 0, time.UTC)
	hundred := schemas.Decimal(100 * schemas.DecimalScale)
	events := []schemas.Event{
		{EventID: "after", EventType: schemas.Purchase, EventTime: change.Add(time.Hour), UserID: "u1", ProductID: "p-0001", Amount: hundred, Currency: "EUR", SchemaVersion: 1},
		{EventID: "at", EventType: schemas.Purchase, EventTime: change, UserID: "u1", ProductID: "p-0001", Amount: hundred, Currency: "EUR", SchemaVersion: 1},
		{EventID: "before", EventType: schemas.Purchase, EventTime: change.Add(-time.Millisecond), UserID: "u2", ProductID: "p-0001", Amount: hundred, Currency: "EUR", SchemaVersion: 1},
		{EventID: "older", EventType: schemas.Purchase, EventTime: change.Add(-48 * time.Hour), UserID: "u2", ProductID: "p-0001", Amount: hundred, Currency: "EUR", SchemaVersion: 1},
		{EventID: "usd", EventType: schemas.Purchase, EventTime: change.Add(-48 * time.Hour), UserID: "u3", ProductID: "p-0001", Amount: hundred, Currency: "USD", SchemaVersion: 1},
	}
	p, s := beam.NewPipelineWithRoot()
	in := beam.ParDo(s, withEventTimestamp, beam.CreateList(s, events))
	enriched := Enrich(s, in, Config{ProductCatalog: shippedCatalog, CurrencyRates: rates, RefreshInterval: time.Hour})
	passert.Empty(s, enriched.DeadLetters)
	passert.Equals(s, beam.ParDo(s, describeUSD, enriched.Events),
		"after usd=110", "at usd=110", "before usd=108.53", "older usd=108.53", "usd usd=100")

	res := ptest.RunAndValidate(t, p)
	counters := map[string]int64{}
	for _, c := range res.Metrics().Query(func(r metrics.SingleResult) bool { return r.Namespace() == telemetry.Namespace }).Counters() {
		counters[c.Name()] += c.Result()
	}
	want := map[string]int64{"enrich.in": 5, "enrich.out": 5, "enrich.rate_before_first": 1}
	if diff := cmp.Diff(want, counters); diff != "" {
		t.Errorf("counters (-want +got):\n%s", diff)
	}
}

func describeUSD(e schemas.Event) string { return fmt.Sprintf("%s usd=%s", e.EventID, e.AmountUSD) }
