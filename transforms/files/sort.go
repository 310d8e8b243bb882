package files

import (
	"bufio"
	"bytes"
	"container/heap"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Lines are written sorted so that a retried bundle, which may see a pane's lines in another
// order, writes the same bytes. Sorting an hour of a stream can take more memory than a worker
// has, so lineSorter sorts runs of at most maxBytes in memory and spills each run to a file in
// the temp directory, then merges the runs.

const (
	spillPrefix = "tributary-spill-"
	// staleSpillAge is how old a spill file must be before Setup removes it as left behind by
	// a crashed worker; writing one file never takes this long.
	staleSpillAge = 6 * time.Hour
	// lineOverhead approximates the memory a held line costs beyond its bytes (slice header
	// and allocation rounding).
	lineOverhead = 32
)

type lineSorter struct {
	dir      string
	maxBytes int64

	lines [][]byte
	held  int64
	runs  []*os.File
}

func newLineSorter(dir string, maxBytes int64) *lineSorter {
	return &lineSorter{dir: dir, maxBytes: maxBytes}
}

func (s *lineSorter) add(line []byte) error {
	s.lines = append(s.lines, line)
	s.held += int64(len(line)) + lineOverhead
	if s.held >= s.maxBytes {
		return s.spill()
	}
	return nil
}

func (s *lineSorter) spill() error {
	slices.SortFunc(s.lines, bytes.Compare)
	if err := os.MkdirAll(s.dir, 0o755); err != nil {
		return fmt.Errorf("creating temp directory %s: %w", s.dir, err)
	}
	f, err := os.CreateTemp(s.dir, spillPrefix+"*")
	if err != nil {
		return fmt.Errorf("creating spill file: %w", err)
	}
	s.runs = append(s.runs, f) // removed by close, whatever happens next
	bw := bufio.NewWriterSize(f, 256<<10)
	var n [binary.MaxVarintLen64]byte
	for _, l := range s.lines {
		bw.Write(n[:binary.PutUvarint(n[:], uint64(len(l)))])
		bw.Write(l)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing spill file %s: %w", f.Name(), err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewinding spill file %s: %w", f.Name(), err)
	}
	s.lines, s.held = nil, 0
	return nil
}

// each calls fn with every line in byte order. fn must not keep the slice.
func (s *lineSorter) each(fn func([]byte) error) error {
	slices.SortFunc(s.lines, bytes.Compare)
	if len(s.runs) == 0 {
		for _, l := range s.lines {
			if err := fn(l); err != nil {
				return err
			}
		}
		return nil
	}
	h := &runHeap{}
	mem := &memRun{lines: s.lines}
	if err := h.push(mem); err != nil {
		return err
	}
	for _, f := range s.runs {
		if err := h.push(&fileRun{r: bufio.NewReaderSize(f, 64<<10), name: f.Name()}); err != nil {
			return err
		}
	}
	for h.Len() > 0 {
		top := (*h)[0]
		if err := fn(top.cur); err != nil {
			return err
		}
		ok, err := top.run.next(&top.cur)
		if err != nil {
			return err
		}
		if ok {
			heap.Fix(h, 0)
		} else {
			heap.Pop(h)
		}
	}
	return nil
}

// close removes the spill files.
func (s *lineSorter) close() {
	for _, f := range s.runs {
		f.Close()
		os.Remove(f.Name())
	}
	s.runs, s.lines = nil, nil
}

// sweepSpills removes spill files older than staleSpillAge from dir: those of workers that died
// mid-write. Younger ones may belong to another worker on this machine.
func sweepSpills(dir string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), spillPrefix) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > staleSpillAge {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

type run interface {
	// next sets *line to the next line and reports whether there was one.
	next(line *[]byte) (bool, error)
}

type memRun struct{ lines [][]byte }

func (m *memRun) next(line *[]byte) (bool, error) {
	if len(m.lines) == 0 {
		return false, nil
	}
	*line, m.lines = m.lines[0], m.lines[1:]
	return true, nil
}

type fileRun struct {
	r    *bufio.Reader
	name string
	buf  []byte
}

func (f *fileRun) next(line *[]byte) (bool, error) {
	n, err := binary.ReadUvarint(f.r)
	if err == io.EOF {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading spill file %s: %w", f.name, err)
	}
	if uint64(cap(f.buf)) < n {
		f.buf = make([]byte, n)
	}
	f.buf = f.buf[:n]
	if _, err := io.ReadFull(f.r, f.buf); err != nil {
		return false, fmt.Errorf("reading spill file %s: %w", f.name, err)
	}
	*line = f.buf
	return true, nil
}

type head struct {
	run run
	cur []byte
}

type runHeap []*head

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return bytes.Compare(h[i].cur, h[j].cur) < 0 }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*head)) }
func (h *runHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// push adds a run's first line, if it has one.
func (h *runHeap) push(r run) error {
	hd := &head{run: r}
	ok, err := r.next(&hd.cur)
	if err != nil || !ok {
		return err
	}
	heap.Push(h, hd)
	return nil
}
