// Package streaming is Tributary's streaming pipeline: Pub/Sub in; decode, dedup and enrich;
// events, product metrics and dead letters out, plus the raw archive that backfills replay.
// cmd/ holds its thin main.
package streaming

import (
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/aggregate"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/dedup"
	"github.com/tributary-dev/tributary/transforms/enrich"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// Config is what Build needs: the validated options, plus what the process decides rather
// than the user.
type Config struct {
	Options
	// PubsubEndpoint (host:port) targets an emulator or the in-process server of local mode.
	PubsubEndpoint string
	// AckExtension is the ack deadline the source sets on messages it holds (0: the default).
	AckExtension time.Duration
	// RunID goes into archive file names, so a relaunched job never meets its predecessor's
	// files; fixed for the life of a job (empty: names without it).
	RunID string
}

// Outputs are the pipeline's main collections, for tests and callers that add steps.
type Outputs struct {
	Messages       beam.PCollection // schemas.Message, as read
	Events         beam.PCollection // schemas.Event, valid, deduplicated and enriched
	ProductMetrics beam.PCollection // schemas.ProductMetric
	DeadLetters    beam.PCollection // schemas.DeadLetter, from every step
}

// Build adds the streaming pipeline to s. The caller has validated cfg.Options.
func Build(s beam.Scope, cfg Config) Outputs {
	o := cfg.Options
	msgs := pubsub.Read(s, pubsub.ReadConfig{
		Subscription:       o.InputSubscription,
		Endpoint:           cfg.PubsubEndpoint,
		TimestampAttribute: o.TimestampAttribute,
		MaxOutOfOrderness:  o.MaxOutOfOrderness,
		MaxMessages:        o.MaxMessages,
		IdleTimeout:        o.IdleTimeout,
		AckExtension:       cfg.AckExtension,
	})
	return Core(s, msgs, cfg)
}

// Core is everything after the source, shared by the streaming and backfill pipelines (one code
// path): PCollection<schemas.Message> in, every output written.
func Core(s beam.Scope, msgs beam.PCollection, cfg Config) Outputs {
	o := cfg.Options
	files.WriteArchive(s, msgs, files.ArchiveConfig{
		Directory:     o.OutputDirectory,
		NumShards:     o.NumShards,
		TempDirectory: o.TempDirectory,
		RunID:         cfg.RunID,
	})

	decoded := decode.Decode(s, msgs, decode.Config{MaxOutOfOrderness: o.MaxOutOfOrderness, AllowedLateness: o.AllowedLateness})
	unique := dedup.Dedup(s, decoded.Events, dedup.Config{Horizon: o.DedupHorizon})
	events := enrich.Enrich(s, unique, enrich.Config{
		ProductCatalog:  o.ProductCatalog,
		CurrencyRates:   o.CurrencyRates,
		RefreshInterval: o.ReferenceRefresh,
	})
	bigquery.WriteLocal(s, events, bigquery.LocalConfig{Directory: o.OutputDirectory, Table: schemas.TableEvents, RecordLag: true})

	metrics := aggregate.ProductMetrics(s, events, aggregate.Config{WindowDuration: o.WindowDuration, AllowedLateness: o.AllowedLateness})
	bigquery.WriteLocal(s, metrics, bigquery.LocalConfig{Directory: o.OutputDirectory, Table: schemas.TableProductMetrics})

	dead := decoded.DeadLetters
	bigquery.WriteLocal(s, deadletter.Rows(s, dead), bigquery.LocalConfig{Directory: o.OutputDirectory, Table: schemas.TableDeadLetters})

	return Outputs{Messages: msgs, Events: events, ProductMetrics: metrics, DeadLetters: dead}
}
