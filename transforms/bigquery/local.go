// Package bigquery writes Tributary's tables. Locally (no project or dataset) each table is a
// folder of newline-delimited JSON files that `bq load --source_format=NEWLINE_DELIMITED_JSON`
// accepts with the table's schema from schemas/bigquery.
package bigquery

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x1[context.Context, beam.EventTime, beam.X, error](&localWriteFn{})
}

// LocalConfig configures WriteLocal.
type LocalConfig struct {
	// Directory is the output root; rows go to Directory/bq/<Table>/.
	Directory string
	// Table names the table (and its folder).
	Table string
	// RecordLag records processing time minus the element timestamp in event_lag_ms (for the
	// events table, whose element timestamps are event times).
	RecordLag bool
}

// WriteLocal writes rows as newline-delimited JSON, one file per bundle, each written atomically
// and named after its content, so a retried bundle does not leave a partial or second copy.
//
// WriteLocal: PCollection<row> -> files, where row is any type that encodes to the table's JSON.
func WriteLocal(s beam.Scope, rows beam.PCollection, cfg LocalConfig) {
	s = s.Scope("bigquery.WriteLocal")
	beam.ParDo0(s, &localWriteFn{Directory: cfg.Directory, Table: cfg.Table, RecordLag: cfg.RecordLag}, rows)
}

// LocalDir is the folder of a table's local files.
func LocalDir(root, table string) string { return filepath.Join(root, "bq", table) }

type localWriteFn struct {
	Directory string
	Table     string
	RecordLag bool

	buf  bytes.Buffer
	rows int64
	out  telemetry.Counter
	lag  telemetry.Distribution
}

func (fn *localWriteFn) Setup() {
	fn.out = telemetry.NewCounter(fn.Table + ".out")
	fn.lag = telemetry.NewDistribution("event_lag_ms")
}

func (fn *localWriteFn) StartBundle(context.Context) {
	fn.buf.Reset()
	fn.rows = 0
}

func (fn *localWriteFn) ProcessElement(ctx context.Context, ts beam.EventTime, row beam.X) error {
	line, err := json.Marshal(row)
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

func (fn *localWriteFn) FinishBundle(ctx context.Context) error {
	if fn.rows == 0 {
		return nil
	}
	data := fn.buf.Bytes()
	path := filepath.Join(LocalDir(fn.Directory, fn.Table), "part-"+files.ContentName(data)+".json")
	if err := files.WriteAtomic(path, data); err != nil {
		return fmt.Errorf("bigquery %s: %w", fn.Table, err)
	}
	fn.out.Inc(ctx, fn.rows)
	return nil
}
