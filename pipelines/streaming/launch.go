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
	remotePath := func(path string) string {
		if inProcess || !runner.LocalPath(path) {
			return ""
		}
		return fmt.Sprintf("%q is a path on this machine, which the workers of --runner=%s cannot read; use a gs:// URI",
			path, runner.Name(*runners.Runner))
	}
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
		"productCatalog":  func() string { return remotePath(o.ProductCatalog) },
		"currencyRates":   func() string { return remotePath(o.CurrencyRates) },
		"tokenKeyFile":    func() string { return remotePath(o.TokenKeyFile) },
		"outputDirectory": func() string { return remotePath(o.OutputDirectory) },
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

// addRules adds more to rules; where both have a rule for a flag, the first failing one wins.
func addRules(rules, more map[string]options.Rule) {
	for flag, rule := range more {
		if first, ok := rules[flag]; ok {
			rules[flag] = func() string {
				if msg := first(); msg != "" {
					return msg
				}
				return rule()
			}
			continue
		}
		rules[flag] = rule
	}
}
