package bigquery

import (
	"errors"
	"fmt"
	"time"

	"github.com/tributary-dev/tributary/schemas"
)

// Defaults for Config's tuning fields.
const (
	DefaultMaxBatchRows   = 1000
	DefaultMaxBatchBytes  = 4 << 20 // well under the 10 MB AppendRows request limit
	DefaultMaxInFlight    = 4
	DefaultMaxRetries     = 6
	DefaultInitialBackoff = 200 * time.Millisecond
	DefaultMaxBackoff     = 10 * time.Second
	// maxRequestBytes is the Storage Write API's limit on one AppendRows request.
	maxRequestBytes = 10 << 20
)

// Config configures Write.
type Config struct {
	// Project, Dataset and Table name the destination table.
	Project, Dataset, Table string
	// Schema names the table's schema in schemas/bigquery (one of the schemas.Table
	// constants); empty takes Table. It also names the sink's metrics and dead-letter step, so
	// they stay the same whatever the destination table is called.
	Schema string
	// Endpoint (host:port) overrides the Storage Write API endpoint, e.g. a test server or an
	// emulator; empty uses Google's.
	Endpoint string
	// Insecure connects to Endpoint without TLS or credentials (emulators, test servers).
	Insecure bool
	// MaxConnections bounds the Storage Write connections (AppendRows streams) of this process
	// per destination region: every writer of every table in the process shares them
	// (managedwriter's multiplexing of default streams, write.go); default DefaultMaxConnections.
	MaxConnections int
	// RESTEndpoint overrides the base URL of the BigQuery REST API, used only by CreateTables
	// (e.g. "http://localhost:9050/bigquery/v2/"); empty uses Google's.
	RESTEndpoint string
	// CreateTables creates a missing table from schemas/bigquery (with the partitioning,
	// clustering and, under CDC, the primary key Terraform declares) instead of failing.
	CreateTables bool
	// CDC writes rows as change-data-capture upserts (_CHANGE_TYPE = UPSERT, with
	// _CHANGE_SEQUENCE_NUMBER <class>/<run>/<pane_index or 0>, sequence.go) by the table's
	// primary key (Layout), so a retried bundle, a later pane, a relaunch or a backfill
	// replaces the row whatever order the appends land in; a user_sessions row also deletes the
	// sessions it supersedes. Only right for rows that are whole (accumulating panes): see
	// DiscardingPanes. The table needs a primary key and max_staleness. Without CDC rows are
	// appended.
	CDC bool
	// DiscardingPanes says the rows are discarding panes, which add up: an upsert by the key
	// would keep only the last pane, so Validate refuses it with CDC.
	DiscardingPanes bool
	// Backfill marks a backfill's rows: under CDC their changes are of class SequenceBackfill,
	// so they replace the streaming rows of their keys, and a later backfill an earlier one.
	Backfill bool
	// RunID names the run in the run_id column of dead_letters (a backfill's run id); it is
	// not part of any key.
	RunID string
	// RunSequence orders CDC changes across pipeline runs: for the same key, a change from a
	// run with a higher RunSequence replaces one from a lower, whatever their panes, unless the
	// row's window ended before RunStart (see SequenceBeforeRun: then the earlier run's row
	// stays). Write sets it to RunStart in Unix microseconds when it is 0.
	RunSequence int64
	// RunStart is when the run started: under CDC, a row of a window that ended at or before
	// it ranks below every earlier run's row of that window (sequence.go). Write sets it to the
	// time the pipeline is built when it is zero.
	RunStart time.Time
	// PrimaryKey is the table's primary key, declared by CreateTables under CDC; empty takes
	// the table's default (DefaultPrimaryKey).
	PrimaryKey []string
	// MaxBatchRows and MaxBatchBytes bound one append request (rows, serialized bytes).
	MaxBatchRows, MaxBatchBytes int
	// MaxInFlight bounds the appends awaiting their result, per DoFn instance.
	MaxInFlight int
	// MaxRetries bounds the retries of an append that failed with a transient error
	// (Unavailable, ResourceExhausted, Aborted, Internal, DeadlineExceeded); the backoff starts at
	// InitialBackoff and doubles up to MaxBackoff, with jitter. After the last retry the bundle
	// fails and the runner retries it.
	MaxRetries                 int
	InitialBackoff, MaxBackoff time.Duration
	// RecordLag records processing time minus the element timestamp in event_lag_ms (for the
	// events table, whose element timestamps are event times).
	RecordLag bool
}

// TableName is the table's resource name, projects/<p>/datasets/<d>/tables/<t>.
func (c Config) TableName() string {
	return fmt.Sprintf("projects/%s/datasets/%s/tables/%s", c.Project, c.Dataset, c.Table)
}

func (c Config) defaultStream() string { return c.TableName() + "/streams/_default" }

// WithDefaults returns c with unset tuning fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Schema == "" {
		c.Schema = c.Table
	}
	if c.MaxBatchRows <= 0 {
		c.MaxBatchRows = DefaultMaxBatchRows
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.MaxBatchBytes <= 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = DefaultInitialBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.CDC && len(c.PrimaryKey) == 0 {
		c.PrimaryKey = DefaultPrimaryKey(c.Schema)
	}
	return c
}

// Validate checks c after WithDefaults.
func (c Config) Validate() error {
	var errs []error
	if c.Project == "" || c.Dataset == "" || c.Table == "" {
		errs = append(errs, errors.New("project, dataset and table are required"))
	}
	if _, err := schemas.TableSchema(c.Schema); err != nil {
		errs = append(errs, err)
	}
	if c.MaxBatchBytes > maxRequestBytes {
		errs = append(errs, fmt.Errorf("MaxBatchBytes %d is above the 10 MB AppendRows limit", c.MaxBatchBytes))
	}
	if c.RunSequence < 0 {
		errs = append(errs, fmt.Errorf("RunSequence %d is negative", c.RunSequence))
	}
	if c.MaxRetries < 0 {
		errs = append(errs, fmt.Errorf("MaxRetries %d is negative", c.MaxRetries))
	}
	if c.Insecure && c.Endpoint == "" {
		errs = append(errs, errors.New("Insecure needs an Endpoint"))
	}
	if c.CDC && (len(c.PrimaryKey) == 0 || len(c.PrimaryKey) > MaxKeyColumns) {
		errs = append(errs, fmt.Errorf("CDC on table %s needs a PrimaryKey of 1 to %d columns", c.Table, MaxKeyColumns))
	}
	if c.CDC && c.DiscardingPanes {
		errs = append(errs, errors.New("CDC with DiscardingPanes: discarding panes add up, an upsert by key keeps only the last one"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("bigquery.Write %s: %w", c.Table, err)
	}
	return nil
}
