// Command bench measures the streaming core on Prism (an in-memory source, local sinks) and a
// plain-Go loop doing the same work, each size in a child process bounded by a timeout and an
// RSS limit, and prints the table BENCHMARKS.md shows. -chart writes the PNG beside it.
package main

import (
	"bufio"
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
	"text/tabwriter"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/pipelines/bench"
)

var (
	sizes   = flag.String("sizes", "100000,1000000", "comma-separated event counts (4000000 is opt-in)")
	modes   = flag.String("modes", "steady,burst", "comma-separated modes: steady, burst")
	rate    = flag.Float64("rate", 10000, "steady mode: messages per second")
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
	split = flag.Bool("prismSplits", false, "keep Prism's dynamic splits on (they stall bursts, apache/beam#35771)")
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
		}
	}
	if *jsonOut != "" {
		b, _ := json.MarshalIndent(results, "", "  ")
		if err := os.WriteFile(*jsonOut, b, 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
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
	sp := bench.Spec{Mode: bench.Mode(*mode), Events: *n, Rate: *rate, Seed: *seed, PrismSplits: *split}
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

// runParent runs one child and watches its RSS.
func runParent(kind, m string, size int64) bench.Result {
	sp := bench.Spec{Mode: bench.Mode(m), Events: size, Rate: *rate, Seed: *seed}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-child="+kind, "-mode="+m, "-n="+strconv.FormatInt(size, 10),
		"-rate="+strconv.FormatFloat(*rate, 'f', -1, 64), "-seed="+strconv.FormatInt(*seed, 10),
		"-prismSplits="+strconv.FormatBool(*split))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, nil
	if err := cmd.Start(); err != nil {
		return bench.Result{Spec: sp, Err: err.Error()}
	}
	killed := make(chan int64, 1)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if rss := bench.RSS(cmd.Process.Pid); rss > *rssMax<<20 {
					killed <- rss
					cmd.Process.Kill()
					return
				}
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	select {
	case rss := <-killed:
		return bench.Result{Spec: sp, PeakRSS: rss, Err: fmt.Sprintf("killed: RSS over %d MB", *rssMax)}
	default:
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return bench.Result{Spec: sp, Err: fmt.Sprintf("killed: over the %v timeout", *timeout)}
	}
	sc := bufio.NewScanner(&out)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if b, ok := strings.CutPrefix(sc.Text(), "RESULT "); ok {
			var r bench.Result
			if jerr := json.Unmarshal([]byte(b), &r); jerr == nil {
				return r
			}
		}
	}
	return bench.Result{Spec: sp, Err: fmt.Sprintf("no result: %v", err)}
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
