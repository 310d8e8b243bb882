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
	rates     map[string]schemas.Decimal // currency -> USD per unit
	ratesAsOf time.Time                  // the newest as_of in the rate file
}

type product struct {
	category     string
	listPriceUSD schemas.Decimal
}

// LoadReference reads the product catalog and currency rate files from any Beam filesystem path
// (local or gs://). Catalog prices are converted to USD at load time, so a catalog currency
// missing from the rate file is an error.
func LoadReference(ctx context.Context, catalogPath, ratesPath string) (*Reference, error) {
	ref := &Reference{}
	var err error
	if ref.rates, ref.ratesAsOf, err = loadRates(ctx, ratesPath); err != nil {
		return nil, fmt.Errorf("loading currency rates %s: %w", ratesPath, err)
	}
	if ref.products, err = loadCatalog(ctx, catalogPath, ref.rates); err != nil {
		return nil, fmt.Errorf("loading product catalog %s: %w", catalogPath, err)
	}
	return ref, nil
}

// Apply sets e's Category, ListPrice (USD) and AmountUSD, defaulting an empty Currency to USD.
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
type misses struct{ product, currency, usdRange bool }

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
	rate, ok := r.rates[e.Currency]
	if !ok {
		m.currency = true
	}
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

func loadRates(ctx context.Context, path string) (map[string]schemas.Decimal, time.Time, error) {
	rates := map[string]schemas.Decimal{}
	var asOf time.Time
	err := readCSV(ctx, path, ratesHeader, func(_ int, rec []string) error {
		code, rateText, dateText := rec[0], rec[1], rec[2]
		if !currencyCode.MatchString(code) {
			return fmt.Errorf("currency %q is not an ISO 4217 code", code)
		}
		if _, dup := rates[code]; dup {
			return fmt.Errorf("currency %s listed twice", code)
		}
		rate, err := schemas.ParseDecimal(rateText)
		if err != nil {
			return fmt.Errorf("usd_per_unit %q: %w", rateText, err)
		}
		if rate == 0 {
			return fmt.Errorf("usd_per_unit of %s is 0", code)
		}
		if code == "USD" && rate != schemas.DecimalScale {
			return fmt.Errorf("usd_per_unit of USD is %s, want 1", rate)
		}
		d, err := time.Parse(time.DateOnly, dateText)
		if err != nil {
			return fmt.Errorf("as_of %q is not a YYYY-MM-DD date", dateText)
		}
		if d.After(asOf) {
			asOf = d
		}
		rates[code] = rate
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	rates["USD"] = schemas.DecimalScale // USD needs no row
	return rates, asOf, nil
}

func loadCatalog(ctx context.Context, path string, rates map[string]schemas.Decimal) (map[string]product, error) {
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
		rate, ok := rates[currency]
		if !ok {
			return fmt.Errorf("currency %q of product %s is not in the currency rates", currency, id)
		}
		usd, ok := price.MulChecked(rate)
		if !ok {
			return fmt.Errorf("list_price %q of product %s is above %s USD", priceText, id, schemas.MaxDecimal)
		}
		products[id] = product{category: category, listPriceUSD: usd}
		return nil
	})
	return products, err
}
