package enrich

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"   // gs:// paths
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // plain paths

	"github.com/tributary-dev/tributary/schemas"
)

// UnknownCategory is the category of an event whose product is not in the catalog.
const UnknownCategory = "unknown"

// The reference file headers, exactly.
var (
	catalogHeader = []string{"product_id", "name", "category", "list_price", "currency"}
	ratesHeader   = []string{"currency", "usd_per_unit", "as_of"}
)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Reference is one consistent load of the product catalog and the currency rates.
// It is read-only once loaded, so it may be shared.
type Reference struct {
	products  map[string]product
	rates     map[string][]rate // currency -> its rates, oldest as_of first
	ratesAsOf time.Time         // the newest as_of in the rate file
}

// rate is one row of the rate file: USD per unit in force from asOf (00:00 UTC of its date)
// until the next row of the same currency.
type rate struct {
	asOf       time.Time
	usdPerUnit schemas.Decimal
}

// rateAt returns the rate of code in force at t: the row with the latest as_of at or before t.
// Before a currency's first row it returns that first row with early set: an event older than
// the rate file is converted at the oldest rate known rather than left without a USD amount.
func (r *Reference) rateAt(code string, t time.Time) (d schemas.Decimal, early, ok bool) {
	rs := r.rates[code]
	if len(rs) == 0 {
		return 0, false, false
	}
	// The first row whose as_of is after t; the one before it is in force.
	i, _ := slices.BinarySearchFunc(rs, t, func(x rate, t time.Time) int {
		if x.asOf.After(t) {
			return 1
		}
		return -1
	})
	if i == 0 {
		return rs[0].usdPerUnit, true, true
	}
	return rs[i-1].usdPerUnit, false, true
}

// latestRate is the newest rate of code, which converts catalog list prices.
func (r *Reference) latestRate(code string) (schemas.Decimal, bool) {
	rs := r.rates[code]
	if len(rs) == 0 {
		return 0, false
	}
	return rs[len(rs)-1].usdPerUnit, true
}

type product struct {
	category     string
	listPriceUSD schemas.Decimal
}

// LoadReference reads the product catalog and currency rate files from any Beam filesystem path
// (local or gs://). The rate file may hold several rows per currency, one per as_of date; Apply
// uses the one in force at the event's time. The catalog is current-only: catalog prices are
// converted to USD at load time with each currency's newest rate, so a catalog currency missing
// from the rate file is an error.
func LoadReference(ctx context.Context, catalogPath, ratesPath string) (*Reference, error) {
	ref := &Reference{}
	var err error
	if ref.rates, ref.ratesAsOf, err = loadRates(ctx, ratesPath); err != nil {
		return nil, fmt.Errorf("loading currency rates %s: %w", ratesPath, err)
	}
	if ref.products, err = loadCatalog(ctx, catalogPath, ref.latestRate); err != nil {
		return nil, fmt.Errorf("loading product catalog %s: %w", catalogPath, err)
	}
	return ref, nil
}

// Apply sets e's Category, ListPrice (USD) and AmountUSD, defaulting an empty Currency to USD.
// AmountUSD uses the rate in force at e.EventTime (see LoadReference), so a replay of old events
// computes the amounts the streaming job computed when they happened.
// It reports a miss when the product or the currency is not in the reference data; the event is
// still usable (category "unknown", or no USD amount). A page_view without a product is not a
// miss. A USD amount above schemas.MaxDecimal is a miss too (Enrich dead-letters that event).
// Apply overwrites earlier enrichment, so applying twice is harmless.
func (r *Reference) Apply(e *schemas.Event) (miss bool) {
	m := r.apply(e)
	return m.product || m.currency || m.usdRange
}

// misses says what Apply could not do: the product or currency is unknown, or the USD amount
// would exceed schemas.MaxDecimal, the per-event cap that keeps every sum inside NUMERIC (see
// schemas.Numeric); such an event becomes a dead letter rather than carry a saturated amount.
// early says the event is older than its currency's first rate row (converted at that row, and
// counted, but not a miss).
type misses struct{ product, currency, usdRange, early bool }

func (r *Reference) apply(e *schemas.Event) (m misses) {
	e.Category, e.ListPrice = "", 0
	if e.ProductID != "" || e.EventType != schemas.PageView {
		if p, ok := r.products[e.ProductID]; ok {
			e.Category, e.ListPrice = p.category, p.listPriceUSD
		} else {
			e.Category, m.product = UnknownCategory, true
		}
	}
	if e.Currency == "" {
		e.Currency = "USD"
	}
	rate, early, ok := r.rateAt(e.Currency, e.EventTime)
	if !ok {
		m.currency = true
	}
	m.early = early
	e.AmountUSD, ok = e.Amount.MulChecked(rate) // 0 for an unknown currency
	m.usdRange = !ok
	return m
}

// readCSV reads a whole CSV file whose first record must be header, calling row for each further
// record with its line number.
func readCSV(ctx context.Context, path string, header []string, row func(line int, rec []string) error) error {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return err
	}
	defer fs.Close()
	f, err := fs.OpenRead(ctx, path)
	if err != nil {
		return err
	}
	defer f.Close()

	r := csv.NewReader(f)
	r.Comment = '#'
	r.TrimLeadingSpace = true
	r.ReuseRecord = true
	got, err := r.Read()
	if errors.Is(err, io.EOF) {
		return errors.New("empty file, want a header line")
	}
	if err != nil {
		return err
	}
	if !slices.Equal(got, header) {
		return fmt.Errorf("line 1: header %q, want %q", got, header)
	}
	rows := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err // a *csv.ParseError names the line
		}
		line, _ := r.FieldPos(0)
		if err := row(line, rec); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		rows++
	}
	// An empty file is more likely a half-written upload than real reference data; refusing it
	// keeps the previous data in place.
	if rows == 0 {
		return errors.New("no data rows")
	}
	return nil
}

func loadRates(ctx context.Context, path string) (map[string][]rate, time.Time, error) {
	rates := map[string][]rate{}
	var asOf time.Time
	err := readCSV(ctx, path, ratesHeader, func(_ int, rec []string) error {
		code, rateText, dateText := rec[0], rec[1], rec[2]
		if !currencyCode.MatchString(code) {
			return fmt.Errorf("currency %q is not an ISO 4217 code", code)
		}
		d, err := time.Parse(time.DateOnly, dateText)
		if err != nil {
			return fmt.Errorf("as_of %q is not a YYYY-MM-DD date", dateText)
		}
		for _, x := range rates[code] {
			if x.asOf.Equal(d) {
				return fmt.Errorf("currency %s listed twice as of %s", code, dateText)
			}
		}
		v, err := schemas.ParseDecimal(rateText)
		if err != nil {
			return fmt.Errorf("usd_per_unit %q: %w", rateText, err)
		}
		if v == 0 {
			return fmt.Errorf("usd_per_unit of %s is 0", code)
		}
		if code == "USD" && v != schemas.DecimalScale {
			return fmt.Errorf("usd_per_unit of USD is %s, want 1", v)
		}
		if d.After(asOf) {
			asOf = d
		}
		rates[code] = append(rates[code], rate{asOf: d, usdPerUnit: v})
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	for _, rs := range rates {
		slices.SortFunc(rs, func(a, b rate) int { return a.asOf.Compare(b.asOf) })
	}
	// USD needs no row, and is 1 at any time (the zero as_of is before every event).
	rates["USD"] = []rate{{usdPerUnit: schemas.DecimalScale}}
	return rates, asOf, nil
}

func loadCatalog(ctx context.Context, path string, rateOf func(code string) (schemas.Decimal, bool)) (map[string]product, error) {
	products := map[string]product{}
	err := readCSV(ctx, path, catalogHeader, func(_ int, rec []string) error {
		id, category, priceText, currency := rec[0], rec[2], rec[3], rec[4]
		if id == "" {
			return errors.New("empty product_id")
		}
		if _, dup := products[id]; dup {
			return fmt.Errorf("product %s listed twice", id)
		}
		if category == "" {
			return fmt.Errorf("product %s has no category", id)
		}
		price, err := schemas.ParseDecimal(priceText)
		if err != nil {
			return fmt.Errorf("list_price %q: %w", priceText, err)
		}
		r, ok := rateOf(currency)
		if !ok {
			return fmt.Errorf("currency %q of product %s is not in the currency rates", currency, id)
		}
		usd, ok := price.MulChecked(r)
		if !ok {
			return fmt.Errorf("list_price %q of product %s is above %s USD", priceText, id, schemas.MaxDecimal)
		}
		products[id] = product{category: category, listPriceUSD: usd}
		return nil
	})
	return products, err
}
