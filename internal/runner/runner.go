// Package runner answers what a pipeline's launcher must know about the runner named by Beam's
// --runner flag before it builds anything: which runner really runs the job (--runner=direct
// runs on Prism), whether the workers share the launcher's process and disk, and whether this
// is a dry run that submits nothing. Every pipeline's launcher calls Resolve first.
package runner

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/options/jobopts"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"
)

// Runner names, as Beam's --runner takes them (lower case).
const (
	Prism     = "prism"
	Dataflow  = "dataflow"
	Flink     = "flink"
	Universal = "universal"
	Direct    = "direct"
)

// aliases maps every spelling Beam registers to one name.
var aliases = map[string]string{
	"": Prism, "prism": Prism, "prismrunner": Prism,
	"direct": Direct, "directrunner": Direct,
	"dataflow": Dataflow, "dataflowrunner": Dataflow,
	"flink": Flink, "flinkrunner": Flink,
	"universal": Universal, "portablerunner": Universal,
}

var once sync.Once

// Resolve returns the runner the job runs on and sets Beam's --runner to it. The Go SDK's direct
// runner is deprecated, batch-only and runs no splittable DoFn (the Pub/Sub source panics in it),
// so --runner=direct runs on Prism, its successor, with one log line saying so. Calling Resolve
// again returns the same name and logs nothing more.
//
// On Prism it also turns off Prism's runner-initiated splits (NoPrismSplits).
func Resolve() string {
	r := Name(*runners.Runner)
	if r == Direct {
		once.Do(func() {
			slog.Info("--runner=direct: the Go SDK's direct runner is deprecated and runs no streaming source; running on Prism, its successor")
		})
		*runners.Runner = Prism
		r = Prism
	}
	if r == Prism {
		NoPrismSplits()
	}
	return r
}

// PrismNoSplitExperiment turns off Prism's dynamic splits of every stage
// (runners/prism/internal/execute.go reads it into engine.Config.EnableSDFSplit, which
// stage.go checks for all stages, not only splittable DoFns).
const PrismNoSplitExperiment = "prism_disable_sdf_split"

// NoPrismSplits adds PrismNoSplitExperiment to Beam's --experiments (once). Prism v2.77 splits
// the bundles of stateful stages too, and a split bundle that carries timers is cut at the
// SDK's data index in a list that interleaves data and timers
// (engine/elementmanager.go splitBundle, "Unexpected split on a bundle with timers",
// apache/beam#35771): elements are processed twice and, under a burst, bundles of the
// stateful stages wait for input that never comes while Prism spins in stage.Execute, so the
// job never drains. The sources checkpoint themselves (the Pub/Sub reader every round, the
// bench source every 10,000 messages), so nothing needs Prism's splits.
func NoPrismSplits() {
	for _, e := range jobopts.GetExperiments() {
		if e == PrismNoSplitExperiment {
			return
		}
	}
	if *jobopts.Experiments == "" {
		*jobopts.Experiments = PrismNoSplitExperiment
		return
	}
	*jobopts.Experiments += "," + PrismNoSplitExperiment
}

// Name is the canonical name of a --runner value (Prism for the empty default); an unknown
// runner keeps its lower-case spelling.
func Name(runner string) string {
	l := strings.ToLower(runner)
	if n, ok := aliases[l]; ok {
		return n
	}
	return l
}

// InProcess reports whether the workers run in the launcher's own process, so that a local
// path or an in-process server the launcher starts is theirs too: Prism started by the launcher
// (or direct, which becomes it), or any job server with --environment_type=LOOPBACK, whose
// workers call back into this process.
func InProcess() bool {
	switch Name(*runners.Runner) {
	case Prism, Direct:
		return *jobopts.Endpoint == "" || jobopts.IsLoopback()
	case Dataflow:
		return false
	}
	return jobopts.IsLoopback()
}

// DryRun reports whether this is a dry run: --runner=dataflow with --dry_run, which translates
// the job, logs the pipeline proto and the Job JSON, and submits nothing. Other runners ignore
// --dry_run and run the job.
func DryRun() bool {
	f := flag.Lookup("dry_run")
	return f != nil && f.Value.String() == "true" && Name(*runners.Runner) == Dataflow
}

// LocalPath reports whether path names the launcher's own disk: not a gs:// URI, nor the
// sample:// data embedded in the binary.
func LocalPath(path string) bool {
	return path != "" && !strings.HasPrefix(path, "gs://") && !strings.HasPrefix(path, "sample://")
}

// UnreadablePath is why the workers cannot read path, a path on the launcher's disk, phrased to
// follow its flag name; "" where they can (they run in this process, or path is remote).
func UnreadablePath(path string) string {
	if InProcess() || !LocalPath(path) {
		return ""
	}
	return fmt.Sprintf("%q is a path on this machine, which the workers of --runner=%s cannot read; use a gs:// URI",
		path, Name(*runners.Runner))
}

// RemoteError is the refusal of a local resource on a runner whose workers do not share the
// launcher's process, naming the flag.
func RemoteError(flag, what string) error {
	return fmt.Errorf("invalid --%s: %s, but --runner=%s runs the workers outside this process (use Prism, or --environment_type=LOOPBACK)",
		flag, what, Name(*runners.Runner))
}
