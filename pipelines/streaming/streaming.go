// Package streaming is Tributary's streaming pipeline: Pub/Sub in; decode, dedup, tokenize and
// enrich; events, product_metrics, trending_products, user_sessions, fraud_alerts and
// dead_letters out (BigQuery or NDJSON files), fraud alerts and dead letters optionally to
// topics, plus the raw archive that backfills replay. cmd/ holds its thin main.
package streaming

import (
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/runners"

	"github.com/tributary-dev/tributary/internal/runner"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/aggregate"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/dedup"
	"github.com/tributary-dev/tributary/transforms/enrich"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/fraud"
	"github.com/tributary-dev/tributary/transforms/privacy"
	"github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/sessions"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

// Config is what Build needs: the validated options, plus what the process decides rather
// than the user.
type Config struct {
	Options
	// PubsubEndpoint (host:port) targets an emulator or the in-process server of local mode, for
	// the subscription and both topics.
	PubsubEndpoint string
	// AckExtension is the ack deadline the source sets on messages it holds (0: the default).
	AckExtension time.Duration
	// WatermarkSamplePeriod is how long the source's oldest recent timestamp holds the
	// watermark (0: Beam Java's minute; tests shorten it).
	WatermarkSamplePeriod time.Duration
	// Start is when the run was launched: CDC upserts of a later run replace an earlier one's.
	Start time.Time
	// RunID goes into archive file names, so a relaunched job never meets its predecessor's
	// files; fixed for the life of a job (empty: names without it).
	RunID string
	// Backfill marks a backfill's writes: BigQuery changes of class bigquery.SequenceBackfill,
	// ordered after the streaming rows they correct.
	Backfill bool
	// Replace is a backfill's range: its NDJSON tables replace the rows of that range
	// (bigquery.FilesConfig.Replace). Nil appends.
	Replace *bigquery.Range
}

// Collections are the pipeline's main collections: what Process derives and Write writes.
type Collections struct {
	Messages         beam.PCollection // schemas.Message, as read
	Events           beam.PCollection // schemas.Event, valid, deduplicated and enriched
	ProductMetrics   beam.PCollection // schemas.ProductMetric
	TrendingProducts beam.PCollection // schemas.TrendingProducts
	UserSessions     beam.PCollection // schemas.UserSession
	FraudAlerts      beam.PCollection // schemas.FraudAlert
}

// Outputs are the pipeline's main collections, for tests and callers that add steps.
type Outputs struct {
	Collections
	DeadLetters beam.PCollection // schemas.DeadLetter, from every step
}

// Build adds the streaming pipeline to s, reading with the source --pubsubSource names. The
// caller has validated cfg.Options.
func Build(s beam.Scope, cfg Config) Outputs {
	o := cfg.Options
	if o.PubsubSource == SourceNative {
		// Dataflow acks after its own durable commit, so the archive is a normal downstream
		// (windowed) write here, not the source's write-ahead log.
		msgs := pubsub.ReadNative(s, pubsub.NativeReadConfig{
			Subscription: o.InputSubscription, TimestampAttribute: o.TimestampAttribute})
		files.WriteArchive(s, msgs, files.ArchiveConfig{
			Directory: o.OutputDirectory, NumShards: o.NumShards, TempDirectory: o.TempDirectory, RunID: cfg.RunID})
		return Core(s, msgs, cfg)
	}
	msgs := pubsub.Read(s, pubsub.ReadConfig{
		Subscription:       o.InputSubscription,
		Endpoint:           cfg.PubsubEndpoint,
		TimestampAttribute: o.TimestampAttribute,
		MaxTimestampSkew:   o.MaxTimestampSkew,
		MaxTimestampAge:    o.MaxTimestampAge,
		SamplePeriod:       cfg.WatermarkSamplePeriod,
		MaxOutOfOrderness:  o.MaxOutOfOrderness,
		NumReaders:         o.Readers(runner.Name(*runners.Runner)),
		MaxMessages:        o.MaxMessages,
		IdleTimeout:        o.IdleTimeout,
		AckExtension:       cfg.AckExtension,
		// The source is the archive's writer (a write-ahead log: nothing is acked before it is
		// archived); files.WriteArchive stays for a source that acks by itself.
		Archive: files.WALConfig{Directory: o.OutputDirectory, RunID: cfg.RunID},
	})
	return Core(s, msgs, cfg)
}

// Core is everything after the source, shared by the streaming and backfill pipelines (one code
// path): PCollection<schemas.Message> in, every output written but the archive, which the
// streaming source writes itself before it acks (Build; pubsub.ReadConfig.Archive). It is
// Process then Write; the backfill runs both with its range filter between them.
func Core(s beam.Scope, msgs beam.PCollection, cfg Config) Outputs {
	return Write(s, Process(s, msgs, cfg), cfg)
}

// Processed are the results of Process, before any sink: the tables' rows and the dead
// letters of each step.
type Processed struct {
	Collections
	DeadLetters []beam.PCollection // schemas.DeadLetter, one collection per step
}

// Process decodes, deduplicates, tokenizes and enriches msgs and derives the windowed
// aggregates, sessions and fraud alerts: PCollection<schemas.Message> -> Processed.
func Process(s beam.Scope, msgs beam.PCollection, cfg Config) Processed {
	o := cfg.Options
	decoded := decode.Decode(s, msgs, decode.Config{MaxOutOfOrderness: o.MaxOutOfOrderness, AllowedLateness: o.AllowedLateness})
	// Tokenize first, so dedup state, every table and the alerts topic only see tokens.
	unique := dedup.Dedup(s, privacy.Tokenize(s, decoded.Events, o.Privacy()), o.Dedup())
	enriched := enrich.Enrich(s, unique, enrich.Config{
		ProductCatalog:  o.ProductCatalog,
		CurrencyRates:   o.CurrencyRates,
		RefreshInterval: o.ReferenceRefresh,
	})
	events := enriched.Events
	w := o.Windowing(*runners.Runner)
	metrics := aggregate.ProductMetrics(s, events, aggregate.Config{WindowDuration: o.WindowDuration, Windowing: w.Trigger})
	trending := aggregate.TrendingProducts(s, events, aggregate.TrendingConfig{Window: w.Trending(), Windowing: w.Trigger, TopN: w.TrendingTopN})
	userSessions := sessions.UserSessions(s, events, o.Sessions())
	alerts := fraud.Detect(s, events, o.Fraud())
	return Processed{
		Collections: Collections{Messages: msgs, Events: events, ProductMetrics: metrics, TrendingProducts: trending,
			UserSessions: userSessions, FraudAlerts: alerts},
		DeadLetters: []beam.PCollection{decoded.DeadLetters, enriched.DeadLetters},
	}
}

// Write writes every table (BigQuery or NDJSON files), the alerts topic and the dead letters
// of p and of the sinks themselves, and returns the outputs.
func Write(s beam.Scope, p Processed, cfg Config) Outputs {
	o := cfg.Options
	events, metrics, trending, userSessions, alerts := p.Events, p.ProductMetrics, p.TrendingProducts, p.UserSessions, p.FraudAlerts
	dead := append([]beam.PCollection(nil), p.DeadLetters...)
	if o.AlertsTopic != "" {
		dead = append(dead, pubsub.Write(s, o.AlertsTopic, fraud.AlertMessages(s, alerts),
			pubsub.WriteConfig{Endpoint: cfg.PubsubEndpoint, Metrics: "alerts_topic"}))
	}
	var sinks deadletter.Sinks
	if o.OutputDataset == "" {
		writeFiles := func(rows beam.PCollection, table string) {
			bigquery.WriteFiles(s, rows, bigquery.FilesConfig{Directory: o.OutputDirectory, Table: table,
				RecordLag: table == schemas.TableEvents, Replace: cfg.Replace})
		}
		writeFiles(events, schemas.TableEvents)
		writeFiles(metrics, schemas.TableProductMetrics)
		writeFiles(trending, schemas.TableTrendingProducts)
		writeFiles(userSessions, schemas.TableUserSessions)
		writeFiles(alerts, schemas.TableFraudAlerts)
		sinks.Table = func(s beam.Scope, dl beam.PCollection) beam.PCollection {
			bigquery.WriteFiles(s, deadletter.Rows(s, dl), bigquery.FilesConfig{Directory: o.OutputDirectory, Table: schemas.TableDeadLetters, Replace: cfg.Replace})
			return beam.PCollection{} // a failed file write fails its bundle
		}
	} else {
		tables := cfg.BigQueryTables()
		dead = append(dead,
			bigquery.Write(s, events, tables[schemas.TableEvents]),
			bigquery.Write(s, metrics, tables[schemas.TableProductMetrics]),
			bigquery.Write(s, trending, tables[schemas.TableTrendingProducts]),
			bigquery.Write(s, userSessions, tables[schemas.TableUserSessions]),
			bigquery.Write(s, alerts, tables[schemas.TableFraudAlerts]))
		sinks.Table = func(s beam.Scope, dl beam.PCollection) beam.PCollection {
			return bigquery.Write(s, deadletter.Rows(s, dl), tables[schemas.TableDeadLetters])
		}
	}
	if o.DeadLetterTopic != "" {
		sinks.Topic = func(s beam.Scope, dl beam.PCollection) beam.PCollection {
			return pubsub.Write(s, o.DeadLetterTopic, deadletter.Messages(s, dl),
				pubsub.WriteConfig{Endpoint: cfg.PubsubEndpoint, Metrics: "deadletter_topic"})
		}
	}
	all := deadletter.Route(s, sinks, dead...)

	return Outputs{Collections: p.Collections, DeadLetters: all}
}

// BigQueryTables returns the Storage Write sink configuration of each table, for
// --outputDataset.
func (cfg Config) BigQueryTables() map[string]bigquery.Config {
	o := cfg.Options
	project, dataset, _ := strings.Cut(o.OutputDataset, ":")
	start := cfg.Start
	if start.IsZero() {
		start = time.Now()
	}
	// Every table is upserted by its key (bigquery.Layout), so retries, relaunches and
	// backfills leave one row per key.
	table := func(name string) bigquery.Config {
		return bigquery.Config{Project: project, Dataset: dataset, Table: name, Endpoint: o.BigQueryEndpoint,
			Insecure: o.BigQueryInsecure, RESTEndpoint: o.BigQueryRestEndpoint, CreateTables: o.CreateTables,
			CDC: true, RunSequence: start.UnixMicro(), RunStart: start, RunID: cfg.RunID, Backfill: cfg.Backfill}
	}
	events := table(schemas.TableEvents)
	events.RecordLag = true
	// A key replaces a window's row by a later pane: right only when panes accumulate (schemas/pane.go);
	// discarding panes add up, and Options.Validate refuses them with --upsertAggregates.
	metrics := table(schemas.TableProductMetrics)
	metrics.CDC, metrics.DiscardingPanes = o.UpsertAggregates, o.Accumulation == windowing.Discarding
	return map[string]bigquery.Config{
		schemas.TableEvents:           events,
		schemas.TableProductMetrics:   metrics,
		schemas.TableTrendingProducts: table(schemas.TableTrendingProducts), // its rankings accumulate whatever --accumulation
		schemas.TableUserSessions:     table(schemas.TableUserSessions),
		schemas.TableFraudAlerts:      table(schemas.TableFraudAlerts),
		schemas.TableDeadLetters:      table(schemas.TableDeadLetters),
	}
}
