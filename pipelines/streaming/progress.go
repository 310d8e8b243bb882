package streaming

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// reportProgress prints a line of process-local totals every interval until stop closes: the
// read rate over the last interval and, when total (the messages the run stops after) is known,
// a bar and a percentage. With Prism in-process the workers share this process; on a remote
// runner the totals stay zero and the runner's own UI shows progress.
func reportProgress(w io.Writer, every time.Duration, total int64, stop <-chan struct{}) {
	t := time.NewTicker(every)
	defer t.Stop()
	start, last, lastRead := time.Now(), time.Now(), int64(0)
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			c := telemetry.Snapshot()
			fmt.Fprintln(w, progressLine(now.Sub(start), now.Sub(last), messagesRead(c)-lastRead, total, c))
			last, lastRead = now, messagesRead(c)
		}
	}
}

// progressLine renders one progress line; read is the messages read in the last interval.
func progressLine(elapsed, interval time.Duration, read, total int64, c map[string]int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "progress %5.0fs: ", elapsed.Seconds())
	rate := 0.0
	if interval > 0 {
		rate = float64(read) / interval.Seconds()
	}
	if total > 0 {
		const width = 20
		done := min(messagesRead(c), total)
		filled := int(done * width / total)
		fmt.Fprintf(&b, "[%s%s] %3d%% read %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
			done*100/total, messagesRead(c), total)
	} else {
		fmt.Fprintf(&b, "read %d", messagesRead(c))
	}
	// Read but not acked: the source's own backlog, as the subscription tells a puller nothing.
	fmt.Fprintf(&b, " (%.0f/s now, %d in flight), events %d, product_metrics %d, dead letters %d, duplicates %d, late %d",
		rate, max(c["pubsub.out"]-c["pubsub.acked"], 0), c["events.out"], c["product_metrics.out"], c["dead_letters.out"], c["dedup.duplicates"], c["late.dropped"])
	return b.String()
}

// ReplayCounter counts the messages a backfill replays from the archive: what the progress line
// and the summary report as read for a backfill, as pubsub.out is for the streaming source.
const ReplayCounter = "replay.out"

// messagesRead is the messages read by whichever source the run has.
func messagesRead(c map[string]int64) int64 { return c["pubsub.out"] + c[ReplayCounter] }
