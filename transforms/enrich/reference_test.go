package enrich

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

const (
	shippedCatalog = "../../internal/sample/data/products.csv"
	shippedRates   = "../../internal/sample/data/currency_rates.csv"
)

func dec(t testing.TB, s string) schemas.Decimal {
	t.Helper()
	d, err := schemas.ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadShippedReference(t *testing.T) {
	ref, err := LoadReference(context.Background(), shippedCatalog, shippedRates)
	if err != nil {
		t.Fatal(err)
	}
	if len(ref.products) != 200 {
		t.Errorf("%d products, want 200", len(ref.products))
	}
	categories := map[string]int{}
	for i := 1; i <= 200; i++ {
		id := fmt.Sprintf("p-%04d", i)
		p, ok := ref.products[id]
		if !ok {
			t.Errorf("product %s missing", id)
			continue
		}
		if p.listPriceUSD <= 0 {
			t.Errorf("product %s has list price %s", id, p.listPriceUSD)
		}
		categories[p.category]++
	}
	wantCategories := []string{"apparel", "beauty", "books", "electronics", "grocery", "home", "sports", "toys"}
	gotCategories := slices.Sorted(func(yield func(string) bool) {
		for c := range categories {
			if !yield(c) {
				return
			}
		}
	})
	if diff := cmp.Diff(wantCategories, gotCategories); diff != "" {
		t.Errorf("categories (-want +got):\n%s", diff)
	}
	for _, code := range []string{"USD", "EUR", "GBP", "JPY", "CAD", "AUD", "CHF", "SEK", "INR", "BRL", "MXN"} {
		if r, ok := ref.latestRate(code); !ok || r <= 0 {
			t.Errorf("no rate for %s", code)
		}
	}
	if got, _ := ref.latestRate("USD"); got != dec(t, "1") {
		t.Errorf("USD rate = %s, want 1", got)
	}
	// The shipped file has one row per currency, so every event time gets it: make run's
	// numbers do not depend on when its events happened.
	if got, want := mustRateAt(t, ref, "EUR", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)), dec(t, "1.0853"); got != want {
		t.Errorf("USD rate = %s, want %s", got, want)
	}
	if got, want := mustRateAt(t, ref, "EUR", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)), dec(t, "1.0853"); got != want {
		t.Errorf("EUR rate = %s, want %s", got, want)
	}
	if want := time.Date(2025, 1, 15, 0, 0, 0, 0, time.UTC); !ref.ratesAsOf.Equal(want) {
		t.Errorf("rates as of %v, want %v", ref.ratesAsOf, want)
	}
}

const (
	goodCatalog = "product_id,name,category,list_price,currency\np-1,Mug,home,12.50,USD\np-2,Buch,books,20,EUR\n"
	goodRates   = "currency,usd_per_unit,as_of\nUSD,1,2025-01-15\nEUR,1.0853,2025-01-15\n"
)

func TestLoadReferenceErrors(t *testing.T) {
	tests := []struct {
		name             string
		catalog, rates   string // file contents; "-" means the file does not exist
		wantErrContains  []string
		wantNamesCatalog bool // the error names the catalog path (else the rates path)
	}{
		{name: "missing catalog", catalog: "-", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"loading product catalog"}},
		{name: "missing rates", catalog: goodCatalog, rates: "-", wantErrContains: []string{"loading currency rates"}},
		{name: "empty catalog", catalog: "", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"empty file"}},
		{name: "catalog header only", catalog: "product_id,name,category,list_price,currency\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"no data rows"}},
		{name: "catalog wrong header", catalog: "id,name,category,price,currency\np-1,Mug,home,1,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 1: header"}},
		{name: "catalog short row", catalog: goodCatalog + "p-3,Lamp,home,9\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 4", "wrong number of fields"}},
		{name: "catalog bad price", catalog: goodCatalog + "p-3,Lamp,home,9.99.9,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{`line 4: list_price "9.99.9"`}},
		{name: "catalog negative price", catalog: goodCatalog + "p-3,Lamp,home,-9,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 4", "negative"}},
		{name: "catalog duplicate id", catalog: goodCatalog + "p-1,Mug again,home,1,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 4: product p-1 listed twice"}},
		{name: "catalog empty id", catalog: goodCatalog + ",Lamp,home,1,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 4: empty product_id"}},
		{name: "catalog empty category", catalog: goodCatalog + "p-3,Lamp,,1,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 4: product p-3 has no category"}},
		{name: "catalog currency without rate", catalog: goodCatalog + "p-3,Lamp,home,1,GBP\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{`line 4: currency "GBP"`}},
		{name: "catalog bad quoting", catalog: goodCatalog + "p-3,\"Lamp,home,1,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 4"}},
		{name: "comment lines count", catalog: "# generated\n" + goodCatalog + "# note\np-3,Lamp,home,x,USD\n", rates: goodRates, wantNamesCatalog: true, wantErrContains: []string{"line 6"}},
		{name: "rates lower-case code", catalog: goodCatalog, rates: goodRates + "gbp,1.27,2025-01-15\n", wantErrContains: []string{`line 4: currency "gbp"`}},
		{name: "rates zero", catalog: goodCatalog, rates: goodRates + "GBP,0,2025-01-15\n", wantErrContains: []string{"line 4: usd_per_unit of GBP is 0"}},
		{name: "rates bad number", catalog: goodCatalog, rates: goodRates + "GBP,1.27x,2025-01-15\n", wantErrContains: []string{`line 4: usd_per_unit "1.27x"`}},
		{name: "rates too precise", catalog: goodCatalog, rates: goodRates + "GBP,1.2700000001,2025-01-15\n", wantErrContains: []string{"line 4", "fractional digits"}},
		{name: "rates bad date", catalog: goodCatalog, rates: goodRates + "GBP,1.27,15/01/2025\n", wantErrContains: []string{`line 4: as_of "15/01/2025"`}},
		{name: "rates USD not 1", catalog: goodCatalog, rates: "currency,usd_per_unit,as_of\nUSD,1.01,2025-01-15\n", wantErrContains: []string{"line 2: usd_per_unit of USD is 1.01"}},
		{name: "rates duplicate date", catalog: goodCatalog, rates: goodRates + "EUR,1.09,2025-01-15\n", wantErrContains: []string{"line 4: currency EUR listed twice as of 2025-01-15"}},
		{name: "rates wrong header", catalog: goodCatalog, rates: "currency,rate\nEUR,1.08\n", wantErrContains: []string{"line 1: header"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			catalog, rates := filepath.Join(dir, "products.csv"), filepath.Join(dir, "rates.csv")
			if tt.catalog != "-" {
				writeFile(t, dir, "products.csv", tt.catalog)
			}
			if tt.rates != "-" {
				writeFile(t, dir, "rates.csv", tt.rates)
			}
			_, err := LoadReference(context.Background(), catalog, rates)
			if err == nil {
				t.Fatal("LoadReference succeeded, want an error")
			}
			path := rates
			if tt.wantNamesCatalog {
				path = catalog
			}
			for _, want := range append(tt.wantErrContains, path) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func mustRateAt(t *testing.T, ref *Reference, code string, at time.Time) schemas.Decimal {
	t.Helper()
	r, _, ok := ref.rateAt(code, at)
	if !ok {
		t.Fatalf("no rate for %s", code)
	}
	return r
}

// TestRateAt checks that each event gets the rate in force at its event time: the row with
// the latest as_of at or before it (as_of is 00:00 UTC of its date), the first row before
// any, in whatever order the file lists them.
func TestRateAt(t *testing.T) {
	dir := t.TempDir()
	ref, err := LoadReference(context.Background(),
		writeFile(t, dir, "products.csv", goodCatalog),
		writeFile(t, dir, "rates.csv", "currency,usd_per_unit,as_of\n"+
			"EUR,1.10,2025-03-01\nEUR,1.00,2025-01-01\nEUR,1.05,2025-02-01\nUSD,1,2025-02-01\nGBP,1.25,2025-02-01\n"))
	if err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d, h int) time.Time { return time.Date(2025, m, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		code      string
		at        time.Time
		want      string
		wantEarly bool
	}{
		{"before the first row", "EUR", day(12, 31, 23).AddDate(-1, 0, 0), "1.00", true},
		{"on the first as_of", "EUR", day(1, 1, 0), "1.00", false},
		{"between rows", "EUR", day(1, 31, 23), "1.00", false},
		{"on a later as_of", "EUR", day(2, 1, 0), "1.05", false},
		{"the last nanosecond of a rate", "EUR", day(3, 1, 0).Add(-time.Nanosecond), "1.05", false},
		{"after the last row", "EUR", day(12, 1, 0), "1.10", false},
		{"a single row before it", "GBP", day(1, 15, 0), "1.25", true},
		{"a single row after it", "GBP", day(6, 1, 0), "1.25", false},
		{"USD is 1 at any time", "USD", day(1, 1, 0).AddDate(-10, 0, 0), "1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, early, ok := ref.rateAt(tt.code, tt.at)
			if !ok {
				t.Fatalf("rateAt(%s, %v): no rate", tt.code, tt.at)
			}
			if got != dec(t, tt.want) || early != tt.wantEarly {
				t.Errorf("rateAt(%s, %v) = %s, early %v; want %s, early %v", tt.code, tt.at, got, early, tt.want, tt.wantEarly)
			}
		})
	}
	if _, _, ok := ref.rateAt("XAU", day(2, 1, 0)); ok {
		t.Error("rateAt(XAU) found a rate for a currency the file does not list")
	}
	// The catalog is current-only: its EUR price converts at the newest rate.
	if got, want := ref.products["p-2"].listPriceUSD, dec(t, "22"); got != want {
		t.Errorf("p-2 list price = %s USD, want %s (20 EUR at the newest rate, 1.10)", got, want)
	}
}

func TestLoadReferenceUnknownScheme(t *testing.T) {
	_, err := LoadReference(context.Background(), "nofs://bucket/products.csv", shippedRates)
	if err == nil || !strings.Contains(err.Error(), "nofs://bucket/products.csv") {
		t.Errorf("error = %v, want one naming the path", err)
	}
}

func TestApply(t *testing.T) {
	dir := t.TempDir()
	ref, err := LoadReference(context.Background(),
		writeFile(t, dir, "products.csv", goodCatalog+"p-3,Tea,grocery,0.000000001,JPY\n"),
		writeFile(t, dir, "rates.csv", goodRates+"JPY,0.0067,2025-01-16\n"))
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	// d is s as a decimal, "" as zero.
	d := func(s string) schemas.Decimal {
		if s == "" {
			return 0
		}
		return dec(t, s)
	}
	// ev is an event of type typ for product (amount "": none) in currency.
	ev := func(typ, product, amount, currency string) schemas.Event {
		return schemas.Event{EventID: "e", EventTime: at, UserID: "u", SchemaVersion: 1,
			EventType: typ, ProductID: product, Amount: d(amount), Currency: currency}
	}
	stale := ev(schemas.PageView, "", "", "USD")
	stale.Category, stale.ListPrice, stale.AmountUSD = "stale", 5, 5
	// Apply should leave in with category, listPrice and amountUSD ("": none) and, where
	// currency is set, that currency.
	tests := []struct {
		name                           string
		in                             schemas.Event
		category, listPrice, amountUSD string
		currency                       string
		miss                           bool
	}{
		{name: "known product in USD", in: ev(schemas.Purchase, "p-1", "25", "USD"), category: "home", listPrice: "12.5", amountUSD: "25"},
		{name: "EUR converts exactly", in: ev(schemas.Purchase, "p-1", "100", "EUR"), category: "home", listPrice: "12.5", amountUSD: "108.53"},
		{name: "refund in JPY", in: ev(schemas.Refund, "p-1", "1500", "JPY"), category: "home", listPrice: "12.5", amountUSD: "10.05"},
		{name: "catalog price in EUR is listed in USD", in: ev(schemas.AddToCart, "p-2", "", "USD"), category: "books", listPrice: "21.706"},
		{name: "tiny JPY list price rounds to zero USD", in: ev(schemas.AddToCart, "p-3", "", "USD"), category: "grocery"},
		{name: "empty currency means USD", in: ev(schemas.Purchase, "p-1", "7.5", ""), category: "home", listPrice: "12.5", amountUSD: "7.5", currency: "USD"},
		{name: "unknown product", in: ev(schemas.Purchase, "p-404", "100", "EUR"), category: UnknownCategory, amountUSD: "108.53", miss: true},
		{name: "unknown currency", in: ev(schemas.Purchase, "p-1", "100", "XAU"), category: "home", listPrice: "12.5", miss: true},
		{name: "page view without product is no miss", in: ev(schemas.PageView, "", "", "USD")},
		{name: "page view of an unknown product", in: ev(schemas.PageView, "p-404", "", "USD"), category: UnknownCategory, miss: true},
		{name: "purchase without product is a miss", in: ev(schemas.Purchase, "", "1", "USD"), category: UnknownCategory, amountUSD: "1", miss: true},
		{name: "earlier enrichment is overwritten", in: stale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.in
			want.Category, want.ListPrice, want.AmountUSD = tt.category, d(tt.listPrice), d(tt.amountUSD)
			if tt.currency != "" {
				want.Currency = tt.currency
			}
			got := tt.in
			miss := ref.Apply(&got)
			if miss != tt.miss {
				t.Errorf("miss = %v, want %v", miss, tt.miss)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("Apply (-want +got):\n%s", diff)
			}
		})
	}
}
