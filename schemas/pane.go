package schemas

import (
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
)

// Pane locates a windowed row: which window and which firing of it. This comment is the pane
// contract's one home (`go doc schemas.Pane`); README, the aggregate and sessions packages,
// bigquery's change sequence and the streaming pipeline point here.
//
// Every windowed row (product_metrics, trending_products, user_sessions) carries window_start,
// window_end, pane_index, pane_timing (EARLY, ON_TIME, LATE) and is_final, so a consumer knows
// which firing of which window it holds. The windowing.Trigger shared by the branches decides
// how the panes of one (window, key) relate:
//
//   - accumulating (the default): a pane holds everything seen so far in the window. Keep the
//     row with the highest pane_index per (window, key) and drop the others; it is the total.
//     This is what a sink that replaces an earlier pane by a later one (BigQuery CDC) assumes.
//   - discarding: a pane holds only what arrived since the previous pane. Keep every row and
//     sum the counts and amounts per (window, key); replacing would lose data. distinct_users
//     is the count of one pane and cannot be summed (the sum is an upper bound).
//
// With discarding panes the ON_TIME pane of a (window, key) is left out when early panes have
// already emitted all its elements (Beam's FIRE_IF_NONEMPTY), and is_final may stay false when
// no element comes after the last firing: neither is needed to reach the total.
//
// trending_products rows are always complete rankings, whatever the mode: a later pane of a
// window replaces an earlier one. user_sessions follow the same columns with their own rule
// (see the sessions package): per session_id the highest pane_index wins.
//
// The sinks: the BigQuery sink upserts accumulating panes by key (a later pane replaces the row)
// and refuses to upsert discarding ones, which it can only append; the file sink appends every
// pane.
type Pane struct {
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	PaneIndex   int64     `json:"pane_index"`
	PaneTiming  string    `json:"pane_timing"`
	IsFinal     bool      `json:"is_final"`
}

// Pane timings as written to the pane_timing column.
const (
	PaneEarly  = "EARLY"
	PaneOnTime = "ON_TIME"
	PaneLate   = "LATE"
)

// PaneOf describes a window and its firing for a row.
func PaneOf(w beam.Window, pane beam.PaneInfo) Pane {
	p := Pane{PaneIndex: pane.Index, IsFinal: pane.IsLast}
	if iw, ok := w.(window.IntervalWindow); ok {
		p.WindowStart = iw.Start.ToTime().UTC()
		p.WindowEnd = iw.End.ToTime().UTC()
	}
	switch pane.Timing {
	case typex.PaneEarly:
		p.PaneTiming = PaneEarly
	case typex.PaneLate:
		p.PaneTiming = PaneLate
	default: // on time, or unknown when the runner sent no pane (the default trigger fires once, on time)
		p.PaneTiming = PaneOnTime
	}
	return p
}
