package streaming

import (
	"fmt"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
)

// The values of --pubsubSource.
const (
	// SourcePortable is transforms/pubsub's own source, a splittable DoFn any runner runs.
	SourcePortable = "portable"
	// SourceNative is Dataflow's own Pub/Sub source (pubsub.ReadNative).
	SourceNative = "native"
)

// launchRules are the rules that depend on where the job runs (Beam's --runner, and whether the
// workers share this process): what the launcher can reach, the workers may not.
func (o Options) launchRules() map[string]options.Rule {
	inProcess := runner.InProcess()
	return map[string]options.Rule{
		"inputSubscription": func() string {
			if o.InputSubscription != "" || inProcess {
				return ""
			}
			return fmt.Sprintf("empty runs local mode, whose in-process Pub/Sub the workers of --runner=%s cannot reach; set it (local mode runs only on Prism, or with --environment_type=LOOPBACK)",
				runner.Name(*runners.Runner))
		},
		"pubsubSource": func() string {
			if o.PubsubSource != SourceNative {
				return ""
			}
			if r := runner.Name(*runners.Runner); r != runner.Dataflow {
				return fmt.Sprintf("native is Dataflow's own Pub/Sub source and runs only with --runner=dataflow, not --runner=%s; use portable", r)
			}
			if o.InputSubscription == "" {
				return "native needs --inputSubscription"
			}
			return ""
		},
		"tempDirectory": func() string {
			// A directory on each worker by design: only a relative path means nothing there.
			if inProcess || o.TempDirectory == "" || filepath.IsAbs(o.TempDirectory) {
				return ""
			}
			return fmt.Sprintf("%q is relative to this process's directory, which the workers of --runner=%s do not share; use an absolute path that exists on the workers, such as /tmp",
				o.TempDirectory, runner.Name(*runners.Runner))
		},
	}
}

// pathRules are the core's launch rules (see Options.launchRules): the files the workers read
// and write.
func (o CoreOptions) pathRules() map[string]options.Rule {
	return map[string]options.Rule{
		"productCatalog":  func() string { return runner.UnreadablePath(o.ProductCatalog) },
		"currencyRates":   func() string { return runner.UnreadablePath(o.CurrencyRates) },
		"tokenKeyFile":    func() string { return runner.UnreadablePath(o.TokenKeyFile) },
		"outputDirectory": func() string { return runner.UnreadablePath(o.OutputDirectory) },
	}
}
