package bench

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Sample is a child's progress at one moment, so a run killed by the timeout or the RSS limit
// still reports how far it got.
type Sample struct {
	Wall      time.Duration // since the run started
	CPU       time.Duration // user + sys of the process so far
	RSS       int64         // bytes, VmRSS now
	Emitted   int64         // messages the source has emitted
	EventRows int64         // lines written to the events table so far
}

// Watch calls f with a Sample every interval until ctx ends; the events rows are the lines of
// the files under dir/bq/events, counted incrementally (the sinks only append).
func Watch(ctx context.Context, dir string, every time.Duration, f func(Sample)) {
	start, cpu0 := time.Now(), cpuTime()
	rows := lineCounter{dir: filepath.Join(dir, "bq", "events"), seen: map[string]int64{}}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			f(Sample{Wall: time.Since(start), CPU: cpuTime() - cpu0, RSS: procStatus("self", "VmRSS:"),
				Emitted: Emitted(), EventRows: rows.count()})
		}
	}
}

// lineCounter counts the newlines of the files under dir, reading only what each file gained
// since the last count.
type lineCounter struct {
	dir   string
	seen  map[string]int64 // bytes counted per file
	lines int64
}

func (c *lineCounter) count() int64 {
	_ = filepath.WalkDir(c.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil //nolint:nilerr // a file renamed or removed meanwhile is counted next time
		}
		info, err := d.Info()
		if err != nil || info.Size() <= c.seen[path] {
			return nil //nolint:nilerr // as above
		}
		f, err := os.Open(path)
		if err != nil {
			return nil //nolint:nilerr // as above
		}
		defer f.Close()
		if _, err := f.Seek(c.seen[path], io.SeekStart); err != nil {
			return nil //nolint:nilerr // as above
		}
		buf := make([]byte, 64<<10)
		for {
			n, rerr := f.Read(buf)
			c.lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			c.seen[path] += int64(n)
			if rerr != nil {
				return nil
			}
		}
	})
	return c.lines
}
