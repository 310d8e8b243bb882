package bigquery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x1[context.Context, beam.EventTime, beam.X, error](&filesWriteFn{})
}

// FilesConfig configures WriteFiles.
type FilesConfig struct {
	// Directory is the output root, a local directory or gs://bucket/path; rows go to
	// Directory/bq/<Table>/.
	Directory string
	// Table names the table (and its folder).
	Table string
	// RecordLag records processing time minus the element timestamp in event_lag_ms (for the
	// events table, whose element timestamps are event times).
	RecordLag bool
	// RunID fills dead_letters' run_id column, as Config.RunID does.
	RunID string
}

// WriteFiles writes rows as newline-delimited JSON, one file per bundle, created whole and only
// if absent (files.Store) and named after its content, so a retried bundle finds its file
// instead of leaving a partial or second copy. The files are not windowed: a bundle's rows go
// out when it finishes, whatever their event times.
//
// WriteFiles: PCollection<row> -> files, where row is any type that encodes to the table's JSON.
func WriteFiles(s beam.Scope, rows beam.PCollection, cfg FilesConfig) {
	s = s.Scope("bigquery.WriteFiles")
	beam.ParDo0(s, &filesWriteFn{Directory: cfg.Directory, Table: cfg.Table, RecordLag: cfg.RecordLag, RunID: cfg.RunID}, rows)
}

// TableDir is the folder of a table's files under root (a local directory or gs://bucket/path).
func TableDir(root, table string) string { return files.Join(root, "bq/"+table) }

type filesWriteFn struct {
	Directory string
	Table     string
	RecordLag bool
	RunID     string

	store *files.Store
	buf   bytes.Buffer
	rows  int64
	out   telemetry.Counter
	lag   telemetry.Distribution
}

func (fn *filesWriteFn) Setup(ctx context.Context) error {
	st, err := files.OpenStore(ctx, fn.Directory)
	if err != nil {
		return fmt.Errorf("bigquery %s: %w", fn.Table, err)
	}
	fn.store = st
	fn.out = telemetry.NewCounter(fn.Table + ".out")
	fn.lag = telemetry.NewDistribution("event_lag_ms")
	return nil
}

func (fn *filesWriteFn) Teardown() error {
	if fn.store == nil {
		return nil
	}
	return fn.store.Close()
}

func (fn *filesWriteFn) StartBundle(context.Context) {
	fn.buf.Reset()
	fn.rows = 0
}

func (fn *filesWriteFn) ProcessElement(ctx context.Context, ts beam.EventTime, row beam.X) error {
	line, err := json.Marshal(withKey(row, fn.RunID))
	if err != nil {
		return fmt.Errorf("bigquery %s: encoding row: %w", fn.Table, err)
	}
	fn.buf.Write(line)
	fn.buf.WriteByte('\n')
	fn.rows++
	if fn.RecordLag {
		fn.lag.Update(ctx, time.Since(ts.ToTime()).Milliseconds())
	}
	return nil
}

func (fn *filesWriteFn) FinishBundle(ctx context.Context) error {
	if fn.rows == 0 {
		return nil
	}
	data := fn.buf.Bytes()
	location := files.Join(TableDir(fn.Directory, fn.Table), "part-"+files.ContentName(data)+".json")
	// An existing identical file is this bundle's own earlier attempt, whose counters the
	// runner discarded: count the rows again.
	if _, err := fn.store.Create(ctx, location, data); err != nil {
		return fmt.Errorf("bigquery %s: %w", fn.Table, err)
	}
	fn.out.Inc(ctx, fn.rows)
	return nil
}
