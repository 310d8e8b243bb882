package bigquery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn4x1[context.Context, beam.EventTime, beam.X, func(string), error](&filesWriteFn{})
	register.Emitter1[string]()
}

// FilesConfig configures WriteFiles.
type FilesConfig struct {
	// Directory is the output root, a local directory or gs://bucket/path; rows go to
	// Directory/bq/<Table>/, in the folder of their membership hour (see lake.go).
	Directory string
	// Table names the table (and its folder).
	Table string
	// RecordLag records processing time minus the element timestamp in event_lag_ms (for the
	// events table, whose element timestamps are event times).
	RecordLag bool
	// RunID fills dead_letters' run_id column, as Config.RunID does, and names the backfill
	// generation in its manifests.
	RunID string
	// Replace, when set, makes the write a backfill generation of this range of membership
	// time: its rows replace every row of the table in the range, each hour at once, when the
	// whole write has finished (then an hour of the range without rows is empty). Rows outside
	// the range are dropped (counted in <table>.outside_range); rows without a membership time
	// are written as a plain write does. Nil appends (the streaming job).
	Replace *Range
}

// Validate checks the configuration.
func (c FilesConfig) Validate() error {
	if c.Directory == "" {
		return fmt.Errorf("bigquery files: Directory is empty")
	}
	if c.Table == "" {
		return fmt.Errorf("bigquery files: Table is empty")
	}
	if c.Replace != nil {
		if err := c.Replace.Validate(); err != nil {
			return fmt.Errorf("bigquery files %s: Replace: %w", c.Table, err)
		}
		if l, _ := LayoutOf(c.Table); l.Member == "" {
			return fmt.Errorf("bigquery files %s: Replace needs a table with a membership column (Layout.Member)", c.Table)
		}
	}
	return nil
}

// WriteFiles writes rows as newline-delimited JSON in the folder of each row's membership
// hour (Layout.Member; tables without one directly in the table's folder), one file per bundle
// and hour, created whole and only if absent (files.Store) and named after its content, so a
// retried bundle finds its file instead of leaving a partial or second copy. The files are not
// windowed: a bundle's rows go out when it finishes, whatever their event times.
//
// With cfg.Replace the files are a backfill generation: named backfill-*.json, invisible to
// readers until, after every file of the write is written (a global-window combine, which
// fires when the input is done, bounded or not), a commit step writes each hour's manifest
// and deletes what it supersedes (see lake.go). An invalid cfg panics.
//
// WriteFiles: PCollection<row> -> PCollection<string>, where row is any type that encodes to
// the table's JSON; the output holds the manifests written (with cfg.Replace; otherwise it
// stays empty).
func WriteFiles(s beam.Scope, rows beam.PCollection, cfg FilesConfig) beam.PCollection {
	s = s.Scope("bigquery.WriteFiles")
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	l, _ := LayoutOf(cfg.Table)
	fn := &filesWriteFn{Directory: cfg.Directory, Table: cfg.Table, RecordLag: cfg.RecordLag, RunID: cfg.RunID, Member: l.Member}
	if cfg.Replace != nil {
		fn.Replace = &Range{From: cfg.Replace.From.UTC(), To: cfg.Replace.To.UTC()}
	}
	written := beam.ParDo(s, fn, rows)
	if cfg.Replace == nil {
		return written
	}
	return commit(s, written, cfg)
}

type filesWriteFn struct {
	Directory string
	Table     string
	RecordLag bool
	RunID     string
	// Member is the table's membership column; empty writes to the table folder itself.
	Member string
	// Replace is the backfill generation's range, nil for a plain write.
	Replace *Range

	store   *files.Store
	hours   map[string]*bytes.Buffer // hour folder ("" for none) -> rows
	gen     map[string]bool          // hour folders whose file belongs to the generation
	rows    int64
	out     telemetry.Counter
	outside telemetry.Counter
	lag     telemetry.Distribution
}

func (fn *filesWriteFn) Setup(ctx context.Context) error {
	st, err := files.OpenStore(ctx, fn.Directory)
	if err != nil {
		return fmt.Errorf("bigquery %s: %w", fn.Table, err)
	}
	fn.store = st
	fn.out = telemetry.NewCounter(fn.Table + ".out")
	fn.outside = telemetry.NewCounter(fn.Table + ".outside_range")
	fn.lag = telemetry.NewDistribution("event_lag_ms")
	return nil
}

func (fn *filesWriteFn) Teardown() error {
	if fn.store == nil {
		return nil
	}
	return fn.store.Close()
}

func (fn *filesWriteFn) StartBundle(context.Context, func(string)) {
	fn.hours = map[string]*bytes.Buffer{}
	fn.gen = map[string]bool{}
	fn.rows = 0
}

func (fn *filesWriteFn) ProcessElement(ctx context.Context, ts beam.EventTime, row beam.X, _ func(string)) error {
	row = withKey(row, fn.RunID)
	line, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("bigquery %s: encoding row: %w", fn.Table, err)
	}
	folder := ""
	if fn.Member != "" {
		t := memberTime(row, line, fn.Member)
		if fn.Replace != nil && !t.IsZero() {
			if !fn.Replace.Contains(t) {
				fn.outside.Inc(ctx, 1)
				return nil
			}
			fn.gen[HourFolder(t)] = true
		}
		folder = HourFolder(t)
	}
	buf := fn.hours[folder]
	if buf == nil {
		buf = new(bytes.Buffer)
		fn.hours[folder] = buf
	}
	buf.Write(line)
	buf.WriteByte('\n')
	fn.rows++
	if fn.RecordLag {
		fn.lag.Update(ctx, time.Since(ts.ToTime()).Milliseconds())
	}
	return nil
}

// FinishBundle writes one file per hour folder and, for a backfill generation, emits each
// file's name relative to the table folder for the commit.
func (fn *filesWriteFn) FinishBundle(ctx context.Context, emit func(string)) error {
	folders := make([]string, 0, len(fn.hours))
	for f := range fn.hours {
		folders = append(folders, f)
	}
	slices.Sort(folders)
	for _, folder := range folders {
		data := fn.hours[folder].Bytes()
		prefix := partPrefix
		if fn.gen[folder] {
			prefix = backfillPrefix
		}
		name := prefix + files.ContentName(data) + rowsSuffix
		if folder != "" {
			name = folder + "/" + name
		}
		// An existing identical file is this bundle's own earlier attempt, whose counters the
		// runner discarded: count the rows again.
		if _, err := fn.store.Create(ctx, files.Join(TableDir(fn.Directory, fn.Table), name), data); err != nil {
			return fmt.Errorf("bigquery %s: %w", fn.Table, err)
		}
		if fn.gen[folder] {
			emit(name)
		}
	}
	fn.out.Inc(ctx, fn.rows)
	return nil
}

// MemberTime returns the time in row's membership column (its table's Layout.Member): a
// backfill keeps the rows of its range by it, as the lake writer files them. A row without one
// (or with one that is not a time) has the zero time, which belongs to no range.
func MemberTime(row any, column string) time.Time { return memberTime(row, nil, column) }

// memberTime reads the typed rows directly, otherwise the column in line, the row's JSON (nil:
// encoded here).
func memberTime(row any, line []byte, column string) time.Time {
	switch r := row.(type) {
	case schemas.Event:
		return r.EventTime
	case schemas.ProductMetric:
		return r.WindowStart
	case schemas.TrendingProducts:
		return r.WindowStart
	case schemas.UserSession:
		return r.SessionStart
	case schemas.FraudAlert:
		return r.DetectedAt
	case schemas.DeadLetterRow:
		return r.PublishTime
	case schemas.DeadLetter:
		return r.PublishTime
	}
	if line == nil {
		var err error
		if line, err = json.Marshal(row); err != nil {
			return time.Time{}
		}
	}
	var cols map[string]json.RawMessage
	if json.Unmarshal(line, &cols) != nil {
		return time.Time{}
	}
	var t time.Time
	if raw, ok := cols[column]; !ok || json.Unmarshal(raw, &t) != nil {
		return time.Time{}
	}
	return t
}
