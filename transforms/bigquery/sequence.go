package bigquery

import (
	"math"
	"strconv"
	"time"
)

// Classes of change, the first section of _CHANGE_SEQUENCE_NUMBER <class>/<run>/<pane_index>
// (hexadecimal; BigQuery compares the sections in turn, as numbers, and keeps the highest). For
// one key (a window and product), a change of a higher class replaces one of a lower class
// whatever their runs and panes. Replacing an earlier pane by a later one is right only for
// accumulating panes: see the pane contract in schemas/pane.go.
const (
	// SequenceBeforeRun: the row's window ended before its run started (a drained and
	// relaunched job seeing late or redelivered events of an old window, or a job fed a
	// historical load). Such a row never replaces an earlier run's row of that window: its run
	// section counts down (math.MaxInt64 − RunSequence), so among these rows the earliest run
	// wins; it stands where no earlier row exists, and within its run a later pane still
	// replaces an earlier one.
	SequenceBeforeRun = 0
	// SequenceStreaming: the window was still open when the run started; a later run replaces an
	// earlier one, and a later pane an earlier pane.
	SequenceStreaming = 1
	// SequenceBackfill: a backfill's rows (Config.Backfill), which recompute whole windows from
	// the archive and replace every streaming row of them; among backfills the later run wins.
	SequenceBackfill = 2
)

// changeOrder builds the _CHANGE_SEQUENCE_NUMBER of a run's rows.
type changeOrder struct {
	run      int64     // RunSequence
	start    time.Time // RunStart
	backfill bool      // Config.Backfill: every row is of class SequenceBackfill
}

// sequence returns the change sequence number of a row of a window ending at end, of pane
// pane; a zero end (a table without window_end) counts as a window still open. A backfill's
// rows are all of class SequenceBackfill.
func (o changeOrder) sequence(end time.Time, pane int64) string {
	class, run := SequenceStreaming, o.run
	switch {
	case o.backfill:
		class = SequenceBackfill
	case !end.IsZero() && !end.After(o.start):
		class, run = SequenceBeforeRun, math.MaxInt64-o.run
	}
	b := make([]byte, 0, 40)
	b = strconv.AppendInt(b, int64(class), 16)
	b = append(b, '/')
	b = strconv.AppendInt(b, run, 16)
	b = append(b, '/')
	return string(strconv.AppendInt(b, pane, 16))
}
