package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/pipelines/streaming/local"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// Mode is the shape of the input.
type Mode string

// The modes.
const (
	Steady Mode = "steady" // paced by the wall clock at Spec.Rate, event times following it
	Burst  Mode = "burst"  // as fast as possible, 50 ms of event time between messages
)

// Spec is one measured run.
type Spec struct {
	Mode   Mode
	Events int64
	Rate   float64 // steady only: messages per second
	// Round is how often a steady source emits what has fallen due (the Pub/Sub reader's
	// rounds: pubsub.DefaultMaxRoundTime); 0 emits as soon as the pipeline takes it, which
	// the runs before session 8 measured (rounds of ~10 ms at 2,500/s).
	Round time.Duration `json:",omitempty"`
	Seed  int64
	// PrismSplits keeps Prism's dynamic splits on (runner.NoPrismSplits turns them off), to
	// reproduce the burst stall of apache/beam#35771.
	PrismSplits bool `json:",omitempty"`
	// Start fixes the generator's start (a test's input); zero is the time of the run.
	Start time.Time `json:"-"`
}

// Generator is the input of a run: the local mode's shares of malformed, duplicate and late
// messages; event times following the wall clock from start (steady) or ending about start
// (burst).
func (sp Spec) Generator(start time.Time) generate.Config {
	rate := 0.0
	if sp.Mode == Steady {
		rate = sp.Rate
	}
	return local.Generator(sp.Events, sp.Seed, rate, generate.DefaultTimestampAttribute, start)
}

// Result is what one run measured, in its own process.
type Result struct {
	Spec
	Wall          time.Duration
	CPU           time.Duration // user + sys of the process (rusage)
	PeakRSS       int64         // bytes, VmHWM
	Mallocs       uint64        // runtime.MemStats.Mallocs during the run
	AllocBytes    uint64        // runtime.MemStats.TotalAlloc during the run
	StateRequests int64         // telemetry.StateRequests
	EventRows     int64         // rows of the events table
	Err           string        `json:",omitempty"`
	// Samples is the child's progress every few seconds (cmd/bench); for a killed run the
	// fields above are the last sample's, with the CPU and peak RSS the parent saw.
	Samples []Sample `json:",omitempty"`
}

// DefaultOptions are the streaming pipeline's defaults with local sinks under dir.
func DefaultOptions(dir string) (streaming.Options, error) {
	var o streaming.Options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	if err := options.Register(fs, &o); err != nil {
		return o, err
	}
	if err := fs.Parse(nil); err != nil {
		return o, err
	}
	o.OutputDirectory = dir
	return o, nil
}

// RunCore runs streaming.Core on the in-memory source on Prism and returns its metrics.
func RunCore(ctx context.Context, sp Spec, o streaming.Options) (Result, error) {
	start := sp.Start
	if start.IsZero() {
		start = time.Now().UTC()
	}
	gen := sp.Generator(start)
	if err := gen.Validate(); err != nil {
		return Result{}, err
	}
	if !sp.PrismSplits {
		runner.NoPrismSplits()
	}
	p, s := beam.NewPipelineWithRoot()
	streaming.Core(s, Source(s, gen, sp.Round), streaming.Config{Options: o, Start: time.Now()})
	return measure(sp, func() (map[string]int64, error) {
		pr, err := beamx.RunWithMetrics(ctx, p)
		if err != nil {
			return nil, err
		}
		return telemetry.FromPipeline(pr).Counters, nil
	})
}

// measure runs f and reads the process's resource use around it.
func measure(sp Spec, f func() (map[string]int64, error)) (Result, error) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	start := time.Now()
	counters, err := f()
	r := Result{Spec: sp, Wall: time.Since(start), CPU: cpuTime() - cpu0, PeakRSS: peakRSS()}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	r.Mallocs, r.AllocBytes = after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc
	if err != nil {
		return r, err
	}
	r.StateRequests, r.EventRows = counters[telemetry.StateRequests], counters["events.out"]
	return r, nil
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's VmHWM in bytes (0 where /proc is missing).
func peakRSS() int64 { return procStatus("self", "VmHWM:") }

// RSS is the current VmRSS of process pid in bytes.
func RSS(pid int) int64 { return procStatus(strconv.Itoa(pid), "VmRSS:") }

// ProcCPU is the user + sys time process pid has used so far (0 where /proc is missing).
func ProcCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command (which may hold spaces) start after its closing ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is Linux's USER_HZ, the unit of /proc/pid/stat's times (100 on every platform Go
// supports).
const clockTicks = 100

func procStatus(pid, field string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// PerEvent formats the per-event costs of r.
func (r Result) PerEvent() (cpuMicros, stateReqs, allocs float64) {
	n := float64(r.Spec.Events)
	return float64(r.CPU.Microseconds()) / n, float64(r.StateRequests) / n, float64(r.Mallocs) / n
}

func (r Result) String() string {
	c, s, a := r.PerEvent()
	return fmt.Sprintf("%s %d: %.0f events/s, %.1f CPU-µs/event, RSS %d MB, %.0f allocs/event, %.2f state req/event",
		r.Mode, r.Spec.Events, float64(r.Spec.Events)/r.Wall.Seconds(), c, r.PeakRSS>>20, a, s)
}
