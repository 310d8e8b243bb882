package bigquery

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-dev/tributary/schemas"
)

// Layout is how one table is laid out: the one source of its primary key, partitioning,
// clustering and max_staleness. CreateTables creates tables from it and make generate writes
// terraform/modules/bigquery/tables.tf from it (GeneratedFiles), so a table the sink
// creates and one Terraform creates are the same table.
type Layout struct {
	// Table is the table id and the name of its schema in schemas/bigquery.
	Table string
	// Description is the table's description.
	Description string
	// PrimaryKey is the CDC key (at most MaxKeyColumns columns; BigQuery does not enforce it):
	// rows of one key are one row, the change with the highest _CHANGE_SEQUENCE_NUMBER.
	PrimaryKey []string
	// Partition is the DAY-partitioning column, Clustering the clustering columns (at most 4).
	Partition  string
	Clustering []string
	// MaxStaleness is how old the applied state of the table may be when it is queried:
	// BigQuery applies pending upserts in the background and merges the rest at query time.
	MaxStaleness time.Duration
	// Member is the column whose time says which range a row belongs to, for a backfill
	// replacing a range: windows by window_start, sessions by session_start, alerts by
	// detected_at, events by event_time, dead letters by publish_time (a row without one, a
	// dead letter of no message, belongs to no range and is never replaced).
	Member string
}

// MaxKeyColumns is the most columns a BigQuery CDC primary key may have (Google's "Stream
// table updates with change data capture", section Limitations).
const MaxKeyColumns = 16

// defaultMaxStaleness: queries may see a state up to 10 minutes old, which keeps background
// apply cheap; the streaming job's own latency is below it.
const defaultMaxStaleness = 10 * time.Minute

var layouts = []Layout{
	{Table: schemas.TableEvents, Description: "Every valid, deduplicated, enriched event; one row per event_id.",
		PrimaryKey: []string{"event_id"}, Partition: "event_time", Clustering: []string{"event_type", "product_id", "user_id"},
		MaxStaleness: defaultMaxStaleness, Member: "event_time"},
	{Table: schemas.TableProductMetrics, Description: "Views, carts, purchases, revenue and distinct users per product and fixed window; later panes replace earlier ones.",
		PrimaryKey: []string{"window_start", "product_id"}, Partition: "window_start", Clustering: []string{"product_id", "category"},
		MaxStaleness: defaultMaxStaleness, Member: "window_start"},
	{Table: schemas.TableTrendingProducts, Description: "The top products by purchases per sliding window; a later pane replaces an earlier one.",
		PrimaryKey: []string{"window_start"}, Partition: "window_start",
		MaxStaleness: defaultMaxStaleness, Member: "window_start"},
	{Table: schemas.TableUserSessions, Description: "One row per user session; a merged session deletes the sessions it supersedes.",
		PrimaryKey: []string{"session_id"}, Partition: "session_start", Clustering: []string{"user_id"},
		MaxStaleness: defaultMaxStaleness, Member: "session_start"},
	{Table: schemas.TableFraudAlerts, Description: "Fraud alerts (velocity, amount anomaly), one row per alert_id.",
		PrimaryKey: []string{"alert_id"}, Partition: "detected_at", Clustering: []string{"rule", "user_id"},
		MaxStaleness: defaultMaxStaleness, Member: "detected_at"},
	{Table: schemas.TableDeadLetters, Description: "Messages the pipeline could not process, with the original payload, the error and the step; one row per dead_letter_id.",
		PrimaryKey: []string{"dead_letter_id"}, Partition: "timestamp", Clustering: []string{"step", "reason"},
		MaxStaleness: defaultMaxStaleness, Member: "publish_time"},
}

// Layouts returns the layout of every table, in a fixed order.
func Layouts() []Layout {
	out := make([]Layout, len(layouts))
	for i, l := range layouts {
		l.PrimaryKey, l.Clustering = slices.Clone(l.PrimaryKey), slices.Clone(l.Clustering)
		out[i] = l
	}
	return out
}

// LayoutOf returns the layout of a table (by schema name).
func LayoutOf(table string) (Layout, bool) {
	for _, l := range Layouts() {
		if l.Table == table {
			return l, true
		}
	}
	return Layout{}, false
}

// DefaultPrimaryKey is the primary key of a table written with CDC (Layout.PrimaryKey).
func DefaultPrimaryKey(table string) []string {
	l, _ := LayoutOf(table)
	return l.PrimaryKey
}

// check reports what is wrong with a layout against its table schema: every column it names
// exists, the key has 1 to 16 columns, clustering at most 4, max_staleness whole minutes.
func (l Layout) check() error {
	fields, err := schemas.TableSchema(l.Table)
	if err != nil {
		return err
	}
	has := func(c string) bool {
		return slices.ContainsFunc(fields, func(f schemas.TableField) bool { return f.Name == c })
	}
	if len(l.PrimaryKey) == 0 || len(l.PrimaryKey) > MaxKeyColumns {
		return fmt.Errorf("table %s: primary key of %d columns, want 1 to %d", l.Table, len(l.PrimaryKey), MaxKeyColumns)
	}
	if len(l.Clustering) > 4 {
		return fmt.Errorf("table %s: %d clustering columns, at most 4", l.Table, len(l.Clustering))
	}
	if l.MaxStaleness <= 0 || l.MaxStaleness%time.Minute != 0 {
		return fmt.Errorf("table %s: max_staleness %v is not a positive number of minutes", l.Table, l.MaxStaleness)
	}
	for _, c := range slices.Concat(l.PrimaryKey, l.Clustering, []string{l.Partition, l.Member}) {
		if c != "" && !has(c) {
			return fmt.Errorf("table %s: layout names column %s, which the schema lacks", l.Table, c)
		}
	}
	return nil
}

// DeadLetterID is the key of a dead_letters row: a hash of its message id, step and reason, so
// the same failure of the same message (a retried bundle, a relaunch, a backfill) is one row.
// A dead letter of no message (e.g. a table row the sink refused) hashes its payload instead.
func DeadLetterID(r schemas.DeadLetterRow) string {
	h := sha256.New()
	for _, s := range []string{r.MessageID, r.Step, r.Reason} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if r.MessageID == "" {
		h.Write(r.Payload())
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// withKey fills the columns the sinks own: a dead_letters row's dead_letter_id and run_id.
// Other rows carry their keys already.
func withKey(row any, runID string) any {
	if r, ok := row.(schemas.DeadLetterRow); ok {
		r.DeadLetterID, r.RunID = DeadLetterID(r), runID
		return r
	}
	return row
}
