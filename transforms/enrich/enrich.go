package enrich

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn5x0[context.Context, beam.EventTime, schemas.Event, func(beam.EventTime, schemas.Event), func(schemas.DeadLetter)](&enrichFn{})
	register.Emitter2[beam.EventTime, schemas.Event]()
	register.Emitter1[schemas.DeadLetter]()
}

// Step is the step name enrich's dead letters carry.
const Step = "enrich"

// DefaultRefreshInterval is used when Config.RefreshInterval is zero.
const DefaultRefreshInterval = 10 * time.Minute

// retryInterval bounds the wait after a failed reload, so a briefly missing file does not leave
// stale data in place for a whole refresh interval.
const retryInterval = time.Minute

var (
	inCount         = telemetry.NewCounter("enrich.in")
	outCount        = telemetry.NewCounter("enrich.out")
	missCount       = telemetry.NewCounter("enrich.misses")
	unknownCurrency = telemetry.NewCounter("enrich.unknown_currency")
	reloadErrors    = telemetry.NewCounter("enrich.reload_errors")
	// beforeFirstRate counts events older than their currency's first rate row, converted at
	// that row's rate.
	beforeFirstRate = telemetry.NewCounter("enrich.rate_before_first")
)

// Config locates the reference data.
type Config struct {
	ProductCatalog  string        // CSV: product_id,name,category,list_price,currency
	CurrencyRates   string        // CSV: currency,usd_per_unit,as_of
	RefreshInterval time.Duration // how often workers reload both files; 0 means DefaultRefreshInterval
}

// Validate reports every invalid field, by name, so a pipeline can map each to its flag.
func (c Config) Validate() error {
	var errs []error
	for _, p := range []struct{ field, path string }{{"ProductCatalog", c.ProductCatalog}, {"CurrencyRates", c.CurrencyRates}} {
		if p.path == "" {
			errs = append(errs, fmt.Errorf("%s: no path given", p.field))
			continue
		}
		if err := checkScheme(p.path); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.field, err))
		}
	}
	if c.RefreshInterval < 0 {
		errs = append(errs, fmt.Errorf("RefreshInterval: %v is negative", c.RefreshInterval))
	}
	return errors.Join(errs...)
}

// checkScheme fails on a path whose scheme has no registered filesystem (e.g. s3:// here) without
// creating a client, which for gs:// would look up credentials at construction time.
func checkScheme(path string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	filesystem.ValidateScheme(path)
	return nil
}

// Output holds what Enrich produces.
type Output struct {
	Events      beam.PCollection // PCollection<schemas.Event>, enriched
	DeadLetters beam.PCollection // PCollection<schemas.DeadLetter>, step "enrich"
}

// Enrich adds category, list price (USD) and the USD amount to each event; see
// Reference.Apply. Events whose product or currency is unknown are counted as enrich.misses and
// passed on, never dropped. An event whose amount in USD would exceed schemas.MaxDecimal (the
// per-event cap that keeps every sum within BigQuery NUMERIC) becomes a dead letter with reason
// amount_out_of_range instead. Timestamps and windows are preserved.
//
// PCollection<schemas.Event> -> PCollection<schemas.Event>, PCollection<schemas.DeadLetter>
func Enrich(s beam.Scope, events beam.PCollection, cfg Config) Output {
	s = s.Scope("enrich.Enrich")
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("enrich.Enrich: invalid config: %v", err))
	}
	if cfg.RefreshInterval == 0 {
		cfg.RefreshInterval = DefaultRefreshInterval
	}
	enriched, dead := beam.ParDo2(s, &enrichFn{
		ProductCatalog:  cfg.ProductCatalog,
		CurrencyRates:   cfg.CurrencyRates,
		RefreshInterval: cfg.RefreshInterval,
	}, events)
	return Output{Events: enriched, DeadLetters: dead}
}

// enrichFn holds its own copy of the reference data; it is small (a catalog of thousands of
// rows) and a per-instance copy needs no locking.
type enrichFn struct {
	ProductCatalog  string
	CurrencyRates   string
	RefreshInterval time.Duration

	now         func() time.Time // the clock; tests replace it
	ref         *Reference
	loadedAt    time.Time
	nextRefresh time.Time
}

// Setup loads the reference data; failing here fails the bundle with an error naming the file,
// since without reference data nothing could be enriched.
func (fn *enrichFn) Setup(ctx context.Context) error {
	if fn.now == nil {
		fn.now = time.Now
	}
	ref, err := LoadReference(ctx, fn.ProductCatalog, fn.CurrencyRates)
	if err != nil {
		return fmt.Errorf("enrich: %w", err)
	}
	fn.use(ref)
	return nil
}

func (fn *enrichFn) use(ref *Reference) {
	fn.ref = ref
	fn.loadedAt = fn.now()
	fn.nextRefresh = fn.loadedAt.Add(fn.RefreshInterval)
}

// StartBundle refreshes between bundles, where a reload delays no element in flight. Beam
// requires it to take the emitter ProcessElement takes; it emits nothing.
func (fn *enrichFn) StartBundle(ctx context.Context, _ func(beam.EventTime, schemas.Event), _ func(schemas.DeadLetter)) {
	fn.maybeRefresh(ctx)
}

// ProcessElement checks the clock too, since a streaming bundle can last long.
func (fn *enrichFn) ProcessElement(ctx context.Context, ts beam.EventTime, e schemas.Event,
	emit func(beam.EventTime, schemas.Event), emitDead func(schemas.DeadLetter)) {
	fn.maybeRefresh(ctx)
	inCount.Inc(ctx, 1)
	orig := e
	m := fn.ref.apply(&e)
	if m.usdRange {
		emitDead(deadletter.FromEvent(ctx, Step, deadletter.ReasonAmountOutOfRange, orig,
			fmt.Errorf("amount: %s %s is above %s USD, the per-event limit", e.Amount, e.Currency, schemas.MaxDecimal)))
		return
	}
	if m.product || m.currency {
		missCount.Inc(ctx, 1)
	}
	if m.currency {
		unknownCurrency.Inc(ctx, 1)
	}
	if m.early {
		beforeFirstRate.Inc(ctx, 1)
	}
	emit(ts, e)
	outCount.Inc(ctx, 1)
}

// maybeRefresh reloads the reference data once the interval has passed. A failed reload keeps
// the data already loaded: stale categories and rates are better than stopping the stream.
func (fn *enrichFn) maybeRefresh(ctx context.Context) {
	if fn.RefreshInterval <= 0 || fn.now().Before(fn.nextRefresh) {
		return
	}
	ref, err := LoadReference(ctx, fn.ProductCatalog, fn.CurrencyRates)
	if err != nil {
		reloadErrors.Inc(ctx, 1)
		log.Warnf(ctx, "enrich: reloading reference data failed, keeping the data loaded at %s: %v",
			fn.loadedAt.UTC().Format(time.RFC3339), err)
		fn.nextRefresh = fn.now().Add(min(fn.RefreshInterval, retryInterval))
		return
	}
	fn.use(ref)
	log.Infof(ctx, "enrich: reloaded %d products and %d currency rates (as of %s)",
		len(ref.products), len(ref.rates), ref.ratesAsOf.Format(time.DateOnly))
}
