package backfill

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/pipelines/streaming"
)

// The values of --replay.
const (
	// ReplayAuto is paced on Prism and batch elsewhere (Dataflow).
	ReplayAuto = "auto"
	// ReplayPaced replays partition by partition with an advancing watermark, so windows close
	// and state is released as the replay moves on: memory follows the replay rate, not the range.
	ReplayPaced = "paced"
	// ReplayBatch is one bounded read of every partition: on Dataflow a batch job, which keeps
	// state on disk; on Prism it holds the whole range in memory.
	ReplayBatch = "batch"
)

// Options configures the backfill pipeline. It is the single source of the pipeline's flags,
// templates/backfill/metadata.json, README's backfill parameter table and the Terraform
// variables of terraform/modules/scheduler: after changing it, run make generate.
type Options struct {
	Archive string `flag:"archive" default:"out/archive" required:"template" group:"Range" label:"Archive" help:"The streaming job's archive to replay: gs://bucket/path/archive or (on Prism) a local path, the archive/ folder under the streaming job's --outputDirectory. The default is the archive of a local streaming run (make run)." example:"gs://my-bucket/tributary/archive"`
	From    string `flag:"from" terraform:"-" group:"Range" label:"From" help:"Start of the event-time range to replay, inclusive: a whole hour in RFC 3339 (2026-01-31T00:00:00Z), or a negative duration before the launch (-24h), truncated to the hour. Leave empty with --range." example:"2026-01-31T00:00:00Z" regex:"^(-[0-9hms.]+|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00(\\.0+)?(Z|[+-][0-9]{2}:[0-9]{2}))$"`
	To      string `flag:"to" terraform:"-" group:"Range" label:"To" help:"End of the event-time range, exclusive, in the form of --from; empty is the launch time truncated to the hour." example:"2026-02-01T00:00:00Z" regex:"^(-[0-9hms.]+|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:00:00(\\.0+)?(Z|[+-][0-9]{2}:[0-9]{2}))$"`
	Range   string `flag:"range" terraform:"-" group:"Range" label:"Relative range" help:"A range resolved at launch, for schedulers whose launch request is fixed: previous-day (yesterday 00:00 to today 00:00 UTC) or previous-hour. Not with --from or --to." example:"previous-day" regex:"^(previous-day|previous-hour)$"`
	// ArchiveLateness: the streaming job archives a message under its publish time, so an event
	// of the range can sit in a partition after --to. The streaming job takes an event into its
	// windows until the watermark (the newest event time less --maxOutOfOrderness, held for the
	// source's one-minute sample period) passes its window's end plus --allowedLateness: with the
	// defaults (10s, 0s) well under the archive's one-hour partitions, so the hour after --to.
	ArchiveLateness time.Duration `flag:"archiveLateness" default:"1h" group:"Range" label:"Archive lateness" help:"How long after --to the archive's publish-time partitions are still read for events of the range; at least --maxOutOfOrderness + --allowedLateness + 1m (what the streaming job still takes into its windows: the watermark's hold and sample period, then the allowed lateness). The default reads the hour after --to." example:"3h"`
	AllowOpenRange  bool          `flag:"allowOpenRange" default:"false" group:"Range" label:"Allow an open range" help:"Replay a range that is not closed yet (--to + --archiveLateness is after the launch). Its files then freeze rows the streaming job may still change: late events it takes into the range afterwards are left out of readers of the replaced hours. For tests and a first look, not for schedules."`
	Replay          string        `flag:"replay" default:"auto" group:"Range" label:"Replay mode" help:"paced: partition by partition in publish-time order with an advancing watermark, so windows close and state is freed as the replay moves on (memory grows with the range far less than in proportion, measured in README Backfills; on Dataflow this shape would make a streaming job); batch: one bounded read of every partition (a Dataflow batch job; on Prism the whole range is held in memory); auto: paced on Prism, batch elsewhere." example:"batch" regex:"^(auto|paced|batch)$"`
	// CoreOptions are the streaming pipeline's own core flags: same names and defaults.
	streaming.CoreOptions
}

// Validate checks every option, in field order, and returns an *options.FlagError naming the
// first bad flag. The range is resolved against the current time.
func (o Options) Validate() error {
	rules, err := o.CoreOptions.Rules()
	if err != nil {
		return err
	}
	now := time.Now()
	_, to, rangeErr := ResolveRange(o.From, o.To, o.Range, now)
	if rangeErr == nil && !o.AllowOpenRange && to.Add(o.ArchiveLateness).After(now) {
		flag := "to"
		if o.Range != "" {
			flag = "range"
		}
		rangeErr = fmt.Errorf("%s: the range ending %s is not closed until %s (--archiveLateness after it): late events may still change it; wait, or pass --allowOpenRange",
			flag, to.Format(time.RFC3339), to.Add(o.ArchiveLateness).Format(time.RFC3339))
	}
	rangeRule := func(flag string) options.Rule {
		return func() string {
			if rangeErr == nil {
				return ""
			}
			f, msg, _ := strings.Cut(rangeErr.Error(), ": ")
			if f != flag {
				return ""
			}
			return msg
		}
	}
	options.AddRules(rules, map[string]options.Rule{
		"archive": func() string {
			if o.Archive == "" {
				return "must not be empty"
			}
			if msg := validateArchive(o.Archive); msg != "" {
				return msg
			}
			return runner.UnreadablePath(o.Archive)
		},
		"from":  rangeRule("from"),
		"to":    rangeRule("to"),
		"range": rangeRule("range"),
		"archiveLateness": func() string {
			if min := o.minArchiveLateness(); o.ArchiveLateness < min {
				return fmt.Sprintf("must be at least --maxOutOfOrderness + --allowedLateness + 1m = %v, or events the streaming job took late are left out", min)
			}
			return ""
		},
	})
	return options.Validate(o, rules)
}

// watermarkSample is the source's watermark hold (pubsub.ReadConfig.SamplePeriod's default):
// the streaming watermark trails the newest event time by up to this much more.
const watermarkSample = time.Minute

func (o Options) minArchiveLateness() time.Duration {
	return o.MaxOutOfOrderness + o.AllowedLateness + watermarkSample
}

// contextOf is how much event time before --from the backfill replays so that the windows,
// sessions, dedup and fraud state that cross --from see the data before it: the longest of the
// dedup horizon, the trending window, a session's longest life (--maxSessionDuration + the
// gap that closes it) and the fraud velocity window. The amount-anomaly baseline is a user's
// whole history, which no finite context holds (README, Backfills).
func contextOf(o streaming.CoreOptions) time.Duration {
	return max(o.DedupHorizon, o.TrendingWindow, o.MaxSessionDuration+o.SessionGap, o.FraudVelocityWindow)
}

// Context is the event time before --from the backfill replays (see contextOf).
func (o Options) Context() time.Duration { return contextOf(o.CoreOptions) }

// Paced reports whether the replay is paced on the runner the job runs on (--replay).
func (o Options) Paced() bool {
	switch o.Replay {
	case ReplayPaced:
		return true
	case ReplayBatch:
		return false
	}
	return runner.Name(*runners.Runner) == runner.Prism
}

// artefacts names what make generate derives from Options.
var artefacts = options.Artefacts{
	Pipeline: "backfill",
	Source:   "pipelines/backfill/options.go",
	Options:  Options{},
	Name:     "Tributary backfill: replay the archive of a range into the tables",
	Description: "Replays the streaming job's raw archive for an event-time range (with the context " +
		"before it that windows, sessions, dedup and fraud state need) through the streaming " +
		"pipeline's own processing, and replaces that range's rows of events, product metrics, " +
		"trending products, user sessions, fraud alerts and dead letters in BigQuery (or the " +
		"NDJSON files on Cloud Storage).",
	MetadataPath:  "templates/backfill/metadata.json",
	TerraformPath: "terraform/modules/scheduler/backfill_variables.tf",
	ReadmePath:    "README.md",
	ReadmeBegin:   "<!-- BEGIN GENERATED: backfill parameters (make generate) -->",
	ReadmeEnd:     "<!-- END GENERATED: backfill parameters -->",
	// README holds the streaming table too: start from its wanted content.
	ReadmeBase: func(root string) ([]byte, error) {
		files, err := streaming.GeneratedFiles(root)
		if err != nil {
			return nil, err
		}
		return files[filepath.Join(root, "README.md")], nil
	},
}

// GeneratedFiles returns the wanted content of every file generated from Options, keyed by its
// path under root (the repository root). cmd/gendocs writes them; a test checks them.
func GeneratedFiles(root string) (map[string][]byte, error) {
	return artefacts.Files(root)
}

// validateArchive is the rule of --archive: the archive/ folder the streaming job writes.
func validateArchive(archiveDir string) string {
	d := strings.TrimSuffix(archiveDir, "/")
	if d != "archive" && !strings.HasSuffix(d, "/archive") {
		return fmt.Sprintf("%q must be the archive/ folder under the streaming job's --outputDirectory (…/archive)", archiveDir)
	}
	return ""
}
