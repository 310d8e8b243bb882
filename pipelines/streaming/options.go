package streaming

import (
	"fmt"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/dedup"
	"github.com/tributary-dev/tributary/transforms/fraud"
	"github.com/tributary-dev/tributary/transforms/privacy"
	"github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/sessions"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

// Options configures the streaming pipeline. It is the single source of the
// pipeline's flags, templates/streaming/metadata.json, the README parameter
// table and the Terraform variables of terraform/modules/dataflow_streaming:
// after changing it, run make generate (go run ./cmd/gendocs).
type Options struct {
	InputSubscription string        `flag:"inputSubscription" group:"Source" param:"PUBSUB_SUBSCRIPTION" required:"template" label:"Input Pub/Sub subscription" help:"Pub/Sub subscription to read events from, in the form projects/<project>/subscriptions/<subscription>. Empty runs in local mode: an in-process Pub/Sub fed by the synthetic event generator." example:"projects/my-project/subscriptions/events" regex:"^projects/[^/\\s]+/subscriptions/[^/\\s]+$"`
	MaxMessages       int64         `flag:"maxMessages" default:"0" group:"Source" label:"Maximum messages" help:"Stop and drain after reading this many messages; 0 reads without bound." example:"100000"`
	IdleTimeout       time.Duration `flag:"idleTimeout" default:"0s" group:"Source" label:"Idle timeout" help:"Stop and drain after this long without a message; 0 never stops." example:"2m"`
	NumReaders        int           `flag:"numReaders" default:"0" group:"Source" label:"Pub/Sub readers" help:"Independent readers of the subscription for the portable source, each with its own restriction, acks and watermark estimate (the source's watermark is their minimum), so the read scales out over workers; 0 picks 1 on Prism and universal and 4 on Dataflow and Flink (1 with --maxMessages). More than one refuses --maxMessages: stop with --idleTimeout." example:"8"`
	PubsubSource      string        `flag:"pubsubSource" default:"portable" group:"Source" label:"Pub/Sub source" help:"portable: Tributary's own source (any runner; every guarantee in README holds); native: Dataflow's own Pub/Sub source (only with --runner=dataflow; Dataflow's watermark, dedup by message id and acks; see README for what differs)." example:"native" regex:"^(portable|native)$"`
	// CoreOptions are the flags the backfill pipeline shares (same names and defaults).
	CoreOptions
	NumShards      int     `flag:"numShards" default:"4" group:"Output" label:"Archive shards" help:"Files per window and pane of the windowed archive writer (files.WriteArchive, for a source that acks by itself); the Pub/Sub source's write-ahead log writes one file per round and hour instead." example:"8"`
	TempDirectory  string  `flag:"tempDirectory" group:"Output" label:"Temp directory" help:"Local directory on each worker for the windowed archive writer's sort spill files (files.WriteArchive), removed after each file (absolute off Prism). Empty uses the system temp directory." example:"/tmp/tributary"`
	GenerateEvents int64   `flag:"generateEvents" default:"50000" template:"-" group:"Local run" label:"Synthetic events" help:"In local mode, how many synthetic events the generator publishes to the in-process Pub/Sub."`
	GenerateRate   float64 `flag:"generateRate" default:"0" template:"-" group:"Local run" label:"Synthetic event rate" help:"In local mode, messages per second the generator publishes, with event times following the wall clock; 0 publishes as fast as possible, with event times ending about now."`
	GenerateSeed   int64   `flag:"generateSeed" default:"1" template:"-" group:"Local run" label:"Synthetic event seed" help:"In local mode, the generator's random seed; the same seed publishes the same events."`
}

// CoreOptions are the flags of Core, shared by the streaming and backfill pipelines: one
// definition, embedded in both options structs, so names, defaults and help never drift.
type CoreOptions struct {
	TimestampAttribute       string        `flag:"timestampAttribute" default:"event_time" group:"Source" label:"Event time attribute" help:"Message attribute holding the event time (RFC 3339 or milliseconds since the epoch), read as PubsubIO.withTimestampAttribute reads it; a message without it takes its publish time." example:"event_time" regex:"^[^\\s]{1,256}$"`
	MaxTimestampSkew         time.Duration `flag:"maxTimestampSkew" default:"5m" group:"Source" label:"Maximum timestamp skew" help:"How far a timestamp attribute may be ahead of the message's publish time; a later one is invalid: the message is dead-lettered (invalid_timestamp), archived under its publish time, and never moves the watermark." example:"1m"`
	MaxTimestampAge          time.Duration `flag:"maxTimestampAge" default:"744h" group:"Source" label:"Maximum timestamp age" help:"How far a timestamp attribute may be behind the message's publish time (default 31 days, Pub/Sub's longest retention); an older one is invalid like one beyond --maxTimestampSkew." example:"168h"`
	MaxOutOfOrderness        time.Duration `flag:"maxOutOfOrderness" default:"10s" group:"Event time" label:"Maximum out-of-orderness" help:"How far the watermark is held back behind the newest event time, so that events arriving up to this much out of order are still on time." example:"30s"`
	AllowedLateness          time.Duration `flag:"allowedLateness" default:"0s" group:"Event time" label:"Allowed lateness" help:"How long after the watermark passes the end of a window late events still update it, in LATE panes as --lateFirings says; later events are kept out of windows and counted." example:"5m"`
	DedupHorizon             time.Duration `flag:"dedupHorizon" default:"10m" group:"Processing" label:"Deduplication horizon" help:"How long an event_id is remembered to drop duplicates and redeliveries." example:"1h"`
	ProductCatalog           string        `flag:"productCatalog" default:"sample://products.csv" group:"Enrichment" param:"GCS_READ_FILE" label:"Product catalog" help:"Product catalog CSV used to enrich events, a gs:// URI or (on Prism) a local path. The default is the sample catalog embedded in the binary (internal/sample/data/products.csv)." example:"gs://my-bucket/reference/products.csv"`
	CurrencyRates            string        `flag:"currencyRates" default:"sample://currency_rates.csv" group:"Enrichment" param:"GCS_READ_FILE" label:"Currency rates" help:"Currency rates CSV (USD per unit of each currency) used to convert amounts, a gs:// URI or (on Prism) a local path. The default is the sample rates embedded in the binary (internal/sample/data/currency_rates.csv)." example:"gs://my-bucket/reference/currency_rates.csv"`
	ReferenceRefresh         time.Duration `flag:"referenceRefresh" default:"10m" group:"Enrichment" label:"Reference data refresh interval" help:"How often the product catalog and currency rates are reloaded." example:"1h"`
	WindowDuration           time.Duration `flag:"windowDuration" default:"1m" group:"Aggregation" label:"Window duration" help:"Length of the fixed windows of the product_metrics aggregates, at most 24h." example:"5m"`
	EarlyFiringDelay         time.Duration `flag:"earlyFiringDelay" default:"0s" group:"Aggregation" label:"Early firing delay" help:"Fire an EARLY pane of a window this long (processing time) after the first element of the pane arrives, until the window ends; 0 fires no early panes." example:"30s"`
	LateFirings              string        `flag:"lateFirings" default:"every" group:"Aggregation" label:"Late firings" help:"How late events within --allowedLateness update a window: every (a LATE pane per late event), a processing-time delay such as 30s (one LATE pane that long after the first late event), or none (only with --allowedLateness=0)." example:"30s" regex:"^(every|none|([0-9]+(\\.[0-9]*)?(ns|us|µs|ms|s|m|h))+)$"`
	Accumulation             string        `flag:"accumulation" default:"accumulating" group:"Aggregation" label:"Pane accumulation" help:"accumulating: each pane of a window and key holds everything so far and replaces the earlier ones; discarding: each pane holds what arrived since the previous one and panes add up. On Prism, accumulating is refused with --allowedLateness > 0." example:"discarding" regex:"^(accumulating|discarding)$"`
	TrendingWindow           time.Duration `flag:"trendingWindow" default:"1h" group:"Aggregation" label:"Trending window" help:"Length of the sliding windows of trending_products, at most 24h." example:"30m"`
	TrendingPeriod           time.Duration `flag:"trendingPeriod" default:"5m" group:"Aggregation" label:"Trending period" help:"How often a trending_products window starts; must divide --trendingWindow evenly (at most 1000 windows per event)." example:"1m"`
	TrendingTopN             int64         `flag:"trendingTopN" default:"10" group:"Aggregation" label:"Trending top N" help:"How many products each trending_products row ranks, 1 to 1000." example:"20"`
	SessionGap               time.Duration `flag:"sessionGap" default:"30m" group:"Sessions" label:"Session gap" help:"Inactivity that ends a user session in user_sessions, at most 24h." example:"45m"`
	MaxSessionDuration       time.Duration `flag:"maxSessionDuration" default:"24h" group:"Sessions" label:"Maximum session duration" help:"A user session still active this long after its first event is closed there (final at that cap + --allowedLateness) and later events start a new session with its own session_id; bounds the state of never-ending sessions (bots, shared user ids). At least --sessionGap, at most 168h." example:"12h"`
	FraudVelocityCount       int64         `flag:"fraudVelocityCount" default:"5" group:"Fraud detection" label:"Velocity limit" help:"The velocity rule alerts when a user makes more than this many purchases within --fraudVelocityWindow." example:"10"`
	FraudVelocityWindow      time.Duration `flag:"fraudVelocityWindow" default:"1m" group:"Fraud detection" label:"Velocity window" help:"Purchases less than this far apart count together for the velocity rule." example:"5m"`
	FraudAnomalyMultiplier   float64       `flag:"fraudAnomalyMultiplier" default:"3" group:"Fraud detection" label:"Anomaly multiplier" help:"The amount-anomaly rule alerts on a purchase above this many times the user's mean purchase in USD; at least 1." example:"5"`
	FraudAnomalyMinPurchases int64         `flag:"fraudAnomalyMinPurchases" default:"3" group:"Fraud detection" label:"Anomaly baseline" help:"Purchases a user must have made before the amount-anomaly rule judges one." example:"5"`
	FraudStateTTL            time.Duration `flag:"fraudStateTtl" default:"24h" group:"Fraud detection" label:"Fraud state TTL" help:"Inactivity after which a user's fraud state is cleared and a later purchase starts afresh; at least --fraudVelocityWindow." example:"72h"`
	AlertsTopic              string        `flag:"alertsTopic" group:"Output" param:"PUBSUB_TOPIC" label:"Fraud alerts topic" help:"Pub/Sub topic that also receives every fraud alert as JSON (attributes alert_id, rule, user_id, detected_at), in the form projects/<project>/topics/<topic>." example:"projects/my-project/topics/fraud-alerts" regex:"^projects/[^/\\s]+/topics/[^/\\s]+$"`
	TokenizeUserIds          bool          `flag:"tokenizeUserIds" default:"false" group:"Privacy" label:"Tokenize user ids" help:"Replace every user_id by tok_ and a keyed HMAC-SHA256 token before any output; the key comes from --tokenKeyFile or --tokenKeyEnv."`
	TokenKeyFile             string        `flag:"tokenKeyFile" group:"Privacy" param:"GCS_READ_FILE" label:"Token key file" help:"gs:// URI or (on Prism) local path of the file holding the tokenization key (at least 32 bytes), read by the workers. Never pass the key itself as a flag." example:"gs://my-secure-bucket/tributary/token.key"`
	TokenKeyEnv              string        `flag:"tokenKeyEnv" group:"Privacy" label:"Token key variable" help:"Name of the workers' environment variable holding the tokenization key (the name, not the key)." example:"TRIBUTARY_TOKEN_KEY" regex:"^[A-Za-z_][A-Za-z0-9_]*$"`
	OutputDirectory          string        `flag:"outputDirectory" default:"out" group:"Output" label:"Output directory" help:"Root of the file outputs, gs://bucket/path or (on Prism) a local path: archive/ holds the raw archive and, without --outputDataset, bq/<table>/ the BigQuery rows as newline-delimited JSON." example:"gs://my-bucket/tributary"`
	OutputDataset            string        `flag:"outputDataset" group:"Output" label:"BigQuery dataset" help:"Dataset of the output tables, as <project>:<dataset>, written through the Storage Write API; empty writes the tables as newline-delimited JSON files under outputDirectory/bq/ (local or gs://)." example:"my-project:tributary" regex:"^[^:\\s]+:[A-Za-z0-9_]+$"`
	DeadLetterTopic          string        `flag:"deadLetterTopic" group:"Output" param:"PUBSUB_TOPIC" label:"Dead-letter topic" help:"Pub/Sub topic that also receives every dead letter (original payload and attributes plus tributary_step, tributary_reason and tributary_error), in the form projects/<project>/topics/<topic>." example:"projects/my-project/topics/tributary-dead-letters" regex:"^projects/[^/\\s]+/topics/[^/\\s]+$"`
	CreateTables             bool          `flag:"createTables" default:"false" group:"Output" label:"Create missing tables" help:"Create missing BigQuery tables from schemas/bigquery instead of failing at start-up."`
	UpsertAggregates         bool          `flag:"upsertAggregates" default:"true" group:"Output" label:"Upsert aggregates" help:"Write windowed aggregates as BigQuery CDC upserts so a later pane replaces an earlier one (needs the table's primary key); false appends every pane with its pane columns."`
	BigQueryEndpoint         string        `flag:"bigQueryEndpoint" group:"Output" label:"BigQuery Storage Write endpoint" help:"host:port of the Storage Write API; empty uses Google's." example:"localhost:9060"`
	BigQueryInsecure         bool          `flag:"bigQueryInsecure" default:"false" group:"Output" label:"Insecure BigQuery endpoint" help:"Connect to bigQueryEndpoint without TLS or credentials (emulators and test servers)."`
	BigQueryRestEndpoint     string        `flag:"bigQueryRestEndpoint" group:"Output" label:"BigQuery REST endpoint" help:"Base URL of the BigQuery REST API, used only by createTables; empty uses Google's." example:"http://localhost:9050/bigquery/v2/"`
	ProgressInterval         time.Duration `flag:"progressInterval" default:"5s" template:"-" group:"Local run" label:"Progress interval" help:"Interval between the progress lines printed while running locally."`
	LogLevel                 string        `flag:"logLevel" default:"warn" template:"-" group:"Local run" label:"Log level" help:"Lowest level of the runner's log lines (Prism's and the Beam SDK's) printed in local runs: debug, info, warn or error; a line repeated verbatim is printed once, with its count at the end. The pipeline's own start line always shows." regex:"^(debug|info|warn|error)$"`
}

// Validate checks every option, in field order, and returns an
// *options.FlagError naming the first bad flag.
func (o Options) Validate() error {
	rules, err := o.CoreOptions.Rules()
	if err != nil {
		return err
	}
	options.AddRules(rules, map[string]options.Rule{
		"maxMessages": func() string {
			if o.MaxMessages > 0 && o.NumReaders > 1 {
				return fmt.Sprintf("is refused with --numReaders=%d: Pub/Sub spreads messages unevenly over the readers, so a quota per reader can wait forever; stop with --idleTimeout", o.NumReaders)
			}
			return options.NonNegative(o.MaxMessages)
		},
		"numReaders":  func() string { return options.Between(o.NumReaders, 0, pubsub.MaxReaders) },
		"idleTimeout": func() string { return options.NonNegative(o.IdleTimeout) },
		"numShards":   func() string { return options.Between(o.NumShards, 1, 99999) },
		"tempDirectory": func() string {
			if strings.HasPrefix(o.TempDirectory, "gs://") {
				return "must be a local directory"
			}
			return ""
		},
		"generateEvents": func() string { return options.NonNegative(o.GenerateEvents) },
		"generateRate":   func() string { return options.NonNegative(o.GenerateRate) },
	})
	options.AddRules(rules, o.launchRules())
	return options.Validate(o, rules)
}

// Readers is the number of readers of the portable source: --numReaders, or for 0 one on
// Prism and behind a job server of unknown kind (universal), where a single process runs them
// one after another, and defaultRemoteReaders on Dataflow and Flink, whose workers each run some;
// always one with --maxMessages.
func (o Options) Readers(runnerName string) int {
	switch {
	case o.NumReaders > 0:
		return o.NumReaders
	case o.MaxMessages > 0:
		return 1
	case runnerName == runner.Dataflow || runnerName == runner.Flink:
		return defaultRemoteReaders
	}
	return 1
}

// defaultRemoteReaders is --numReaders=0 on Dataflow and Flink: enough to pull on several workers
// from the start; a worker runs several readers, so more readers than workers costs only their
// pulls (readers.go in transforms/pubsub).
const defaultRemoteReaders = 4

// Rules returns the checks of the core flags beyond their tags, keyed by flag, for the
// Validate of each pipeline that embeds CoreOptions.
func (o CoreOptions) Rules() (map[string]options.Rule, error) {
	rules := map[string]options.Rule{
		"maxTimestampSkew":  func() string { return options.Positive(o.MaxTimestampSkew) },
		"maxTimestampAge":   func() string { return options.Positive(o.MaxTimestampAge) },
		"maxOutOfOrderness": func() string { return options.NonNegative(o.MaxOutOfOrderness) },
		"dedupHorizon":      func() string { return options.Positive(o.DedupHorizon) },
		"productCatalog":    func() string { return nonEmpty(o.ProductCatalog) },
		"currencyRates":     func() string { return nonEmpty(o.CurrencyRates) },
		"referenceRefresh":  func() string { return options.Positive(o.ReferenceRefresh) },
		"outputDirectory":   func() string { return nonEmpty(o.OutputDirectory) },
		"progressInterval":  func() string { return options.Positive(o.ProgressInterval) },
		"upsertAggregates": func() string {
			if o.UpsertAggregates && o.OutputDataset != "" && o.Accumulation == windowing.Discarding {
				return `discarding panes add up and an upsert by key keeps only the last one: use --accumulation=accumulating, or --upsertAggregates=false to append every pane`
			}
			return ""
		},
	}
	// The transforms' rules, by field, mapped onto their flags; the window and trigger flags are
	// checked against what the selected runner supports.
	for _, t := range []struct {
		pkg   string
		rules map[string]func() string
	}{
		{"windowing", o.Windowing(*runners.Runner).Rules()}, {"sessions", o.Sessions().Rules()},
		{"fraud", o.Fraud().Rules()}, {"privacy", o.Privacy().Rules()},
	} {
		if err := fieldRules(rules, t.pkg, t.rules); err != nil {
			return nil, err
		}
	}
	// Each duration a stage adds to an event time stays within decode's margin, so no window,
	// session or timer of an accepted event leaves what int64 nanoseconds and the sinks hold.
	for flag, d := range map[string]time.Duration{"maxOutOfOrderness": o.MaxOutOfOrderness, "allowedLateness": o.AllowedLateness,
		"dedupHorizon": o.DedupHorizon, "fraudVelocityWindow": o.FraudVelocityWindow, "fraudStateTtl": o.FraudStateTTL} {
		options.AddRules(rules, map[string]options.Rule{flag: func() string {
			if d > decode.MaxStageDuration {
				return fmt.Sprintf("must be at most %v", decode.MaxStageDuration)
			}
			return ""
		}})
	}
	options.AddRules(rules, o.pathRules())
	return rules, nil
}

func nonEmpty(s string) string {
	if s == "" {
		return "must not be empty"
	}
	return ""
}

// artefacts names what make generate derives from Options.
var artefacts = options.Artefacts{
	Pipeline: "streaming",
	Source:   "pipelines/streaming/options.go",
	Options:  Options{},
	Name:     "Tributary streaming: Pub/Sub events to BigQuery and a GCS archive",
	Description: "Reads commerce events from a Pub/Sub subscription; validates, deduplicates and " +
		"enriches them; writes events, windowed product metrics, trending products, user sessions, " +
		"fraud alerts and dead letters to BigQuery (or NDJSON files on Cloud Storage) and the raw " +
		"messages to an hourly archive on Cloud Storage.",
	MetadataPath:  "templates/streaming/metadata.json",
	TerraformPath: "terraform/modules/dataflow_streaming/variables.tf",
	ReadmePath:    "README.md",
	ReadmeBegin:   "<!-- BEGIN GENERATED: streaming parameters (make generate) -->",
	ReadmeEnd:     "<!-- END GENERATED: streaming parameters -->",
}

// GeneratedFiles returns the wanted content of every file generated from
// Options, keyed by its path under root (the repository root). cmd/gendocs
// writes them; a test checks that the files on disk match.
func GeneratedFiles(root string) (map[string][]byte, error) {
	return artefacts.Files(root)
}

// Windowing is the window and trigger configuration of every windowed branch.
func (o CoreOptions) Windowing(runner string) windowing.Options {
	return windowing.Options{
		Trigger: windowing.Trigger{EarlyFiringDelay: o.EarlyFiringDelay, LateFirings: o.LateFirings,
			AllowedLateness: o.AllowedLateness, Accumulation: o.Accumulation},
		WindowDuration: o.WindowDuration, TrendingWindow: o.TrendingWindow, TrendingPeriod: o.TrendingPeriod,
		TrendingTopN: int(o.TrendingTopN), Runner: runner,
	}
}

// Dedup configures the event_id deduplication; its batches divide every window downstream.
func (o CoreOptions) Dedup() dedup.Config {
	return dedup.Config{Horizon: o.DedupHorizon, Batch: dedup.BatchFor(o.WindowDuration, o.TrendingPeriod)}
}

// Sessions configures user_sessions. The skew is how far behind the watermark an event may
// reach the sessionizer without being Late: decode's lateness budget (decode moves an event's
// timestamp back to its event_time) plus one dedup batch.
func (o CoreOptions) Sessions() sessions.Config {
	return sessions.Config{Gap: o.SessionGap, AllowedLateness: o.AllowedLateness, MaxDuration: o.MaxSessionDuration,
		TimestampSkew: o.MaxOutOfOrderness + o.AllowedLateness + o.Dedup().Batch}
}

// Fraud configures fraud_alerts.
func (o CoreOptions) Fraud() fraud.Config {
	return fraud.Config{VelocityCount: int(o.FraudVelocityCount), VelocityWindow: o.FraudVelocityWindow,
		AnomalyMultiplier: o.FraudAnomalyMultiplier, AnomalyMinPurchases: int(o.FraudAnomalyMinPurchases),
		StateTTL: o.FraudStateTTL, AllowedLateness: o.AllowedLateness}
}

// Privacy configures user id tokenization.
func (o CoreOptions) Privacy() privacy.Config {
	return privacy.Config{Enabled: o.TokenizeUserIds, KeyFile: o.TokenKeyFile, KeyEnv: o.TokenKeyEnv}
}
