package streaming

// The shared kit of this package's tests: the Pub/Sub emulator, crafted messages, the options
// and set-ups every end-to-end test starts from (emulator, bqtest, fake-gcs-server, local
// mode's golden traffic), running the pipeline, and reading what it wrote.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	gpubsub "cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/internal/emulatortest"
	"github.com/tributary-dev/tributary/internal/gcstest"
	"github.com/tributary-dev/tributary/internal/generate"
	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/pipelines/streaming/local"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/bigquery"
	"github.com/tributary-dev/tributary/transforms/bigquery/bqtest"
	"github.com/tributary-dev/tributary/transforms/files"
)

func TestMain(m *testing.M) { emulatortest.Main(m) }

// t0 is the start of the crafted messages' event times, the test kit's.
var t0 = beamtest.T0

// The BigQuery project and dataset of the bqtest tables.
const bqProject, bqDataset = "tributary-test", "analytics"

// --- the Pub/Sub emulator (internal/emulatortest; these names are the package's tests')

// startEmulator returns the emulator's host:port, starting it on first use.
func startEmulator(t *testing.T) string {
	t.Helper()
	return emulatortest.Start(t)
}

func stopEmulator() { emulatortest.Stop() }

// emulatorClient is a client of addr for path (a topic or subscription); the caller closes it.
func emulatorClient(t *testing.T, addr, path string) *gpubsub.Client {
	t.Helper()
	return emulatortest.Client(t, addr, path)
}

// newEmulatorSubscription creates a topic and a subscription with a unique name.
func newEmulatorSubscription(t *testing.T, addr string, ackDeadline int32) (topic, sub string) {
	t.Helper()
	return emulatortest.NewSubscription(t, addr, ackDeadline)
}

// addSubscription adds a subscription to an existing topic: the topic's name with suffix.
func addSubscription(t *testing.T, addr, topic, suffix string, ackDeadline int32) string {
	t.Helper()
	return emulatortest.AddSubscription(t, addr, topic, suffix, ackDeadline)
}

// publish sends messages and returns their ids in order.
func publish(t *testing.T, addr, topic string, msgs []*pubsubpb.PubsubMessage) []string {
	t.Helper()
	return emulatortest.Publish(t, addr, topic, msgs)
}

// backlog pulls once and returns how many messages the subscription redelivers.
func backlog(t *testing.T, addr, sub string) int {
	t.Helper()
	return emulatortest.Backlog(t, addr, sub)
}

// pullAll pulls and acks until want messages arrived or a pull comes back empty.
func pullAll(t *testing.T, addr, sub string, want int) []*pubsubpb.PubsubMessage {
	t.Helper()
	return emulatortest.PullAll(t, addr, sub, want)
}

// --- crafted messages

// crafted is one published message and what the test expects of it.
type crafted struct {
	payload string
	at      time.Duration // event time, also the timestamp attribute; <0: no attribute
}

func validEvent(id, typ, user, product string, at time.Duration, amountCurrency string) crafted {
	var b strings.Builder
	fmt.Fprintf(&b, `{"event_id":%q,"event_type":%q,"event_time":%q,"user_id":%q`, id, typ, t0.Add(at).Format(time.RFC3339), user)
	if product != "" {
		fmt.Fprintf(&b, `,"product_id":%q,"quantity":1`, product)
	}
	if amount, currency, ok := strings.Cut(amountCurrency, " "); ok {
		fmt.Fprintf(&b, `,"amount":%s,"currency":%q`, amount, currency)
	}
	b.WriteString(`,"device":{"os":"ios","country":"US"}}`)
	return crafted{payload: b.String(), at: at}
}

// pubsubMessages are msgs as Pub/Sub messages: each with attrs, and with its event time in the
// event_time attribute unless its at is negative.
func pubsubMessages(msgs []crafted, attrs map[string]string) []*pubsubpb.PubsubMessage {
	var pub []*pubsubpb.PubsubMessage
	for _, m := range msgs {
		a := maps.Clone(attrs)
		if a == nil {
			a = map[string]string{}
		}
		if m.at >= 0 {
			a["event_time"] = t0.Add(m.at).Format(time.RFC3339)
		}
		pub = append(pub, &pubsubpb.PubsubMessage{Data: []byte(m.payload), Attributes: a})
	}
	return pub
}

// pageView is a valid page view of p-0001 at `at`.
func pageView(id string, at time.Time) []byte {
	return fmt.Appendf(nil, `{"event_id":%q,"event_type":"page_view","event_time":%q,"user_id":"u1","product_id":"p-0001","device":{"os":"ios","country":"US"}}`,
		id, at.Format(time.RFC3339Nano))
}

func dec(s string) schemas.Decimal {
	d, err := schemas.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// --- options and set-ups

// defaults returns Options as the flags leave them when none is given.
func defaults(t *testing.T) Options {
	t.Helper()
	var o Options
	fs := flag.NewFlagSet("streaming", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := options.Register(fs, &o); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if err := fs.Parse(nil); err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return o
}

// defaultOptions returns Options with every flag at its default, but for the timestamp band.
func defaultOptions(t *testing.T) Options {
	t.Helper()
	o := defaults(t)
	// Tests publish fixed historical event times (goldens depend on them): widen the band
	// around the publish time (today) so they stay valid whatever the date.
	o.MaxTimestampAge = 100 * 365 * 24 * time.Hour
	return o
}

// emulatorOptions are the options of a run that reads sub until it idles for 3 s, with the small
// reference data of writeReference; the caller sets the outputs.
func emulatorOptions(t *testing.T, sub string) Options {
	t.Helper()
	o := defaultOptions(t)
	o.InputSubscription, o.IdleTimeout = sub, 3*time.Second
	o.ProductCatalog, o.CurrencyRates = writeReference(t, t.TempDir())
	return o
}

// emulatorConfig is the Config of a run on the emulator at addr, with a short ack extension.
func emulatorConfig(o Options, addr, runID string) Config {
	return Config{Options: o, PubsubEndpoint: addr, AckExtension: 10 * time.Second, RunID: runID}
}

// toBigQuery points o's tables at bq.
func toBigQuery(o *Options, bq *bqtest.Server) {
	o.OutputDataset, o.BigQueryEndpoint, o.BigQueryInsecure = bqProject+":"+bqDataset, bq.Addr(), true
}

// bqTable is the bqtest name of table.
func bqTable(table string) string { return bqtest.TableName(bqProject, bqDataset, table) }

// startBigQuery starts bqtest with every table of dataset tributary-test:analytics, as Terraform
// declares them: its schema and the primary key every table is upserted by.
func startBigQuery(t *testing.T) *bqtest.Server {
	t.Helper()
	bq := bqtest.Start(t)
	for _, table := range allTables {
		fields, err := schemas.TableSchema(table)
		if err != nil {
			t.Fatal(err)
		}
		bq.CreateTable(bqProject, bqDataset, table, bqtest.WithSchema(fields), bqtest.WithPrimaryKey(bigquery.DefaultPrimaryKey(table)...))
	}
	return bq
}

// startGCS starts fake-gcs-server with the bucket "lake" and points the storage client at it.
func startGCS(t *testing.T) *fakestorage.Server {
	t.Helper()
	return gcstest.Start(t, "lake")
}

// goldenTraffic publishes the golden run's traffic (3,000 generated events, seed 7, from t0) to
// local mode's in-process Pub/Sub and returns it with options that read all of it, with the
// repository's reference data; the caller sets the outputs.
func goldenTraffic(t *testing.T) (*local.Source, Options) {
	t.Helper()
	ctx := context.Background()
	src, err := local.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	o := defaultOptions(t)
	o.GenerateEvents, o.GenerateSeed = 3000, 7
	gen := local.Generator(o.GenerateEvents, o.GenerateSeed, 0, o.TimestampAttribute, time.Time{})
	gen.Start = t0
	if _, err := src.Publish(ctx, gen, func(generate.Stats) {}); err != nil {
		t.Fatal(err)
	}
	o.InputSubscription, o.MaxMessages = src.Subscription, gen.Count
	o.ProductCatalog, o.CurrencyRates = "../../internal/sample/data/products.csv", "../../internal/sample/data/currency_rates.csv"
	return src, o
}

// writeReference writes a small catalog and rate file whose numbers the expectations use.
func writeReference(t *testing.T, dir string) (catalog, rates string) {
	t.Helper()
	catalog, rates = filepath.Join(dir, "products.csv"), filepath.Join(dir, "rates.csv")
	mustWrite(t, catalog, "product_id,name,category,list_price,currency\np-0001,Atlas,books,12.50,USD\np-0002,Kite,toys,8,USD\n")
	mustWrite(t, rates, "currency,usd_per_unit,as_of\nUSD,1,2026-11-01\nEUR,1.1,2026-11-01\n")
	return catalog, rates
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// --- running the pipeline

// pipelineOf validates cfg.Options and builds the pipeline.
func pipelineOf(t *testing.T, cfg Config) *beam.Pipeline {
	t.Helper()
	if err := cfg.Options.Validate(); err != nil {
		t.Fatal(err)
	}
	p, s := beam.NewPipelineWithRoot()
	Build(s, cfg)
	return p
}

// run builds and runs the pipeline on Prism, failing the test if the job fails.
func run(t *testing.T, cfg Config) beam.PipelineResult {
	t.Helper()
	pr, err := ptest.RunWithMetrics(pipelineOf(t, cfg))
	if err != nil {
		t.Fatal(err)
	}
	return pr
}

// runInBackground starts the pipeline and returns a channel with its result.
func runInBackground(t *testing.T, o Options, cfg Config) (<-chan beam.PipelineResult, <-chan error) {
	t.Helper()
	cfg.Options = o
	p := pipelineOf(t, cfg)
	res, errc := make(chan beam.PipelineResult, 1), make(chan error, 1)
	go func() {
		pr, err := ptest.RunWithMetrics(p)
		res <- pr
		errc <- err
	}()
	return res, errc
}

// waitFor polls cond until it holds, failing the test after timeout or if the pipeline ends.
func waitFor(t *testing.T, what string, timeout time.Duration, errc <-chan error, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case err := <-errc:
			t.Fatalf("pipeline ended (%v) while waiting for %s", err, what)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s after %v", what, timeout)
		}
	}
}

// --- reading what it wrote

// allTables is every table the pipeline writes.
var allTables = []string{schemas.TableEvents, schemas.TableProductMetrics, schemas.TableTrendingProducts,
	schemas.TableUserSessions, schemas.TableFraudAlerts, schemas.TableDeadLetters}

// readRows decodes the live NDJSON rows of a local table (bigquery.ReadFileRows: the reader
// rule of the hour folders and their backfill manifests).
func readRows[T any](t *testing.T, root, table string) []T {
	t.Helper()
	raw, err := bigquery.ReadFileRows(context.Background(), root, table)
	if err != nil {
		t.Fatal(err)
	}
	rows := make([]T, 0, len(raw))
	for _, line := range raw {
		var r T
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		rows = append(rows, r)
	}
	return rows
}

// archived is an archived message and the path of its file, relative to the output.
type archived struct {
	schemas.Message
	path string
}

// readArchive reads the archive under root and returns every message by message id, failing the
// test if one is archived twice.
func readArchive(t *testing.T, root string) map[string]archived {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "archive", "dt=*", "hr=*", "*.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	out := map[string]archived{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		msgs, err := files.ReadArchiveFile(data)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		rel, _ := filepath.Rel(root, p)
		for _, m := range msgs {
			if _, dup := out[m.MessageID]; dup {
				t.Errorf("message %s archived twice", m.MessageID)
			}
			out[m.MessageID] = archived{m, rel}
		}
	}
	return out
}

// hourFolder is the archive folder of the hourly window holding t.
func hourFolder(t time.Time) string {
	return t.UTC().Format("archive/dt=2006-01-02/hr=15/")
}
