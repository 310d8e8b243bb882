// Command bench measures the streaming core on Prism (an in-memory source, local sinks) and a
// plain-Go loop doing the same work, each size in a child process bounded by a timeout and an
// RSS limit, and prints the table docs/BENCHMARKS.md shows. -chart writes the PNG beside it.
package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/pipelines/bench"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

var (
	sizes   = flag.String("sizes", "100000,1000000", "comma-separated event counts (4000000 is opt-in)")
	modes   = flag.String("modes", "steady,burst", "comma-separated modes: steady, burst")
	rate    = flag.Float64("rate", 10000, "steady mode: messages per second")
	round   = flag.Duration("round", pubsub.DefaultMaxRoundTime, "steady mode: how often the source emits what has fallen due, as the Pub/Sub reader's rounds (0: as soon as the pipeline takes it)")
	timeout = flag.Duration("timeout", 15*time.Minute, "bound on each run")
	rssMax  = flag.Int64("rssLimitMB", 8192, "a run whose RSS passes this is killed")
	chart   = flag.String("chart", "", "write a PNG chart of CPU-µs/event and RSS against N here")
	jsonOut = flag.String("json", "", "write the results as JSON here")
	from    = flag.String("from", "", "with -chart: draw the results of earlier -json files (comma-separated) instead of running")

	child = flag.String("child", "", "internal: run one measurement (core or reference) and print it as JSON")
	mode  = flag.String("mode", "steady", "internal: the child's mode")
	n     = flag.Int64("n", 0, "internal: the child's event count")
	seed  = flag.Int64("seed", 1, "generator seed")
	prof  = flag.String("cpuprofile", "", "with -child: write the child's CPU profile here")
	mprof = flag.String("memprofile", "", "with -child=core: write the child's heap profile here once the source has emitted every event (near the peak of a steady run)")
	split = flag.Bool("prismSplits", false, "keep Prism's dynamic splits on (they stall bursts, apache/beam#35771)")
	every = flag.Duration("progress", 15*time.Second, "how often a child reports its progress (printed on stderr, kept in the JSON)")
)

func main() {
	flag.Parse()
	beam.Init()
	if *child != "" {
		os.Exit(runChild())
	}
	if *from != "" {
		os.Exit(redraw())
	}
	var results []bench.Row
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, bench.Header)
	for _, m := range strings.Split(*modes, ",") {
		for _, s := range strings.Split(*sizes, ",") {
			size, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bad -sizes:", err)
				os.Exit(2)
			}
			core := runParent("core", m, size)
			ref := runParent("reference", m, size)
			row := bench.Row{Core: core, Reference: ref, Load: loadAverage()}
			results = append(results, row)
			fmt.Fprintln(tw, row.Line())
			tw.Flush()
			if *jsonOut != "" { // after every row, so a long run's first rows survive its end
				b, _ := json.MarshalIndent(results, "", "  ")
				if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
					fmt.Fprintln(os.Stderr, err)
				}
			}
		}
	}
	if *chart != "" {
		if err := bench.WriteChart(*chart, results); err != nil {
			fmt.Fprintln(os.Stderr, "chart:", err)
			os.Exit(1)
		}
	}
}

func runChild() int {
	sp := bench.Spec{Mode: bench.Mode(*mode), Events: *n, Rate: *rate, Round: *round, Seed: *seed, PrismSplits: *split}
	var r bench.Result
	var err error
	if *prof != "" {
		f, perr := os.Create(*prof)
		if perr != nil {
			fmt.Fprintln(os.Stderr, perr)
			return 1
		}
		defer f.Close()
		if perr := pprof.StartCPUProfile(f); perr != nil {
			fmt.Fprintln(os.Stderr, perr)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	switch *child {
	case "core":
		dir, derr := os.MkdirTemp("", "bench-")
		if derr != nil {
			fmt.Fprintln(os.Stderr, derr)
			return 1
		}
		defer os.RemoveAll(dir)
		wctx, stop := context.WithCancel(context.Background())
		defer stop()
		go bench.Watch(wctx, dir, *every, func(p bench.Sample) {
			b, _ := json.Marshal(p)
			fmt.Printf("PROGRESS %s\n", b)
		})
		if *mprof != "" {
			go writeHeapProfileAt(wctx, *mprof, *n)
		}
		o, oerr := bench.DefaultOptions(dir)
		if oerr != nil {
			fmt.Fprintln(os.Stderr, oerr)
			return 1
		}
		r, err = bench.RunCore(context.Background(), sp, o)
	case "reference":
		r, err = bench.RunReference(sp)
	default:
		err = fmt.Errorf("unknown -child %q", *child)
	}
	if err != nil {
		r.Err = err.Error()
	}
	b, _ := json.Marshal(r)
	fmt.Printf("RESULT %s\n", b)
	return 0
}

// writeHeapProfileAt writes a heap profile to path once the source has emitted n events.
func writeHeapProfileAt(ctx context.Context, path string, n int64) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for bench.Emitted() < n {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "memprofile:", err)
		return
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		fmt.Fprintln(os.Stderr, "memprofile:", err)
	}
}

// runParent runs one child and watches its RSS and CPU. A child killed by the RSS limit or the
// timeout is reported from its last progress sample: how far it got, not nothing.
func runParent(kind, m string, size int64) bench.Result {
	sp := bench.Spec{Mode: bench.Mode(m), Events: size, Rate: *rate, Round: *round, Seed: *seed}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-child="+kind, "-mode="+m, "-n="+strconv.FormatInt(size, 10),
		"-rate="+strconv.FormatFloat(*rate, 'f', -1, 64), "-round="+round.String(), "-seed="+strconv.FormatInt(*seed, 10),
		"-prismSplits="+strconv.FormatBool(*split), "-progress="+every.String())
	out := &childOutput{label: fmt.Sprintf("%s %s %d", kind, m, size)}
	cmd.Stdout, cmd.Stderr = out, nil
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return bench.Result{Spec: sp, Err: err.Error()}
	}
	var (
		killedRSS     atomic.Bool
		peak, lastCPU atomic.Int64
	)
	done := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				rss := bench.RSS(cmd.Process.Pid)
				if rss > peak.Load() {
					peak.Store(rss)
				}
				if c := bench.ProcCPU(cmd.Process.Pid); c > 0 {
					lastCPU.Store(int64(c))
				}
				if rss > *rssMax<<20 {
					killedRSS.Store(true)
					cmd.Process.Kill()
					return
				}
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	<-watched
	var why string
	switch {
	case killedRSS.Load():
		why = fmt.Sprintf("killed: RSS over %d MB", *rssMax)
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		why = fmt.Sprintf("killed: over the %v timeout", *timeout)
	}
	if why == "" {
		if r, ok := out.result(); ok {
			return r
		}
		why = fmt.Sprintf("no result: %v", err)
	}
	r := bench.Result{Spec: sp, Err: why, Samples: out.samples(), PeakRSS: peak.Load(),
		CPU: time.Duration(lastCPU.Load()), Wall: time.Since(started)}
	if n := len(r.Samples); n > 0 {
		last := r.Samples[n-1]
		r.EventRows = last.EventRows
		r.CPU = max(r.CPU, last.CPU)
	}
	fmt.Fprintf(os.Stderr, "%s: %s after %v: %d events rows, %v CPU, peak RSS %d MB\n",
		out.label, why, r.Wall.Round(time.Second), r.EventRows, r.CPU.Round(time.Second), r.PeakRSS>>20)
	return r
}

// childOutput takes a child's stdout line by line as it comes: PROGRESS samples (echoed on
// stderr, so a long run shows how it goes) and the final RESULT.
type childOutput struct {
	label string
	mu    sync.Mutex
	buf   []byte
	prog  []bench.Sample
	res   *bench.Result
}

func (c *childOutput) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf = append(c.buf, p...)
	for {
		i := bytes.IndexByte(c.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(c.buf[:i])
		c.buf = c.buf[i+1:]
		if b, ok := strings.CutPrefix(line, "PROGRESS "); ok {
			var s bench.Sample
			if json.Unmarshal([]byte(b), &s) == nil {
				c.prog = append(c.prog, s)
				fmt.Fprintf(os.Stderr, "%s %s: %v: %d emitted, %d events rows, %v CPU, RSS %d MB, load %s\n",
					time.Now().UTC().Format("15:04:05"), c.label, s.Wall.Round(time.Second), s.Emitted,
					s.EventRows, s.CPU.Round(time.Second), s.RSS>>20, loadAverage())
			}
		} else if b, ok := strings.CutPrefix(line, "RESULT "); ok {
			var r bench.Result
			if json.Unmarshal([]byte(b), &r) == nil {
				c.res = &r
			}
		}
	}
}

func (c *childOutput) samples() []bench.Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.prog)
}

func (c *childOutput) result() (bench.Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.res == nil {
		return bench.Result{}, false
	}
	r := *c.res
	r.Samples = slices.Clone(c.prog)
	return r, true
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// redraw writes the chart of the rows in earlier -json files.
func redraw() int {
	var rows []bench.Row
	for _, path := range strings.Split(*from, ",") {
		b, err := os.ReadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		var r []bench.Row
		if err := json.Unmarshal(b, &r); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", path, err)
			return 1
		}
		rows = append(rows, r...)
	}
	slices.SortFunc(rows, func(a, b bench.Row) int { return cmp.Compare(a.Core.Spec.Events, b.Core.Spec.Events) })
	if err := bench.WriteChart(*chart, rows); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		return 1
	}
	return 0
}
