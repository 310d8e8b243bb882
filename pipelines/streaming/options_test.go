package streaming

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/transforms/decode"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

func TestOptionsDefaults(t *testing.T) {
	o := defaults(t)
	want := Options{
		CoreOptions: CoreOptions{
			TimestampAttribute:       "event_time",
			MaxTimestampSkew:         5 * time.Minute,
			MaxTimestampAge:          744 * time.Hour,
			MaxOutOfOrderness:        10 * time.Second,
			DedupHorizon:             10 * time.Minute,
			ProductCatalog:           "sample://products.csv",
			CurrencyRates:            "sample://currency_rates.csv",
			ReferenceRefresh:         10 * time.Minute,
			WindowDuration:           time.Minute,
			LateFirings:              "every",
			Accumulation:             "accumulating",
			TrendingWindow:           time.Hour,
			TrendingPeriod:           5 * time.Minute,
			TrendingTopN:             10,
			SessionGap:               30 * time.Minute,
			MaxSessionDuration:       24 * time.Hour,
			FraudVelocityCount:       5,
			FraudVelocityWindow:      time.Minute,
			FraudAnomalyMultiplier:   3,
			FraudAnomalyMinPurchases: 3,
			FraudStateTTL:            24 * time.Hour,
			OutputDirectory:          "out",
			ProgressInterval:         5 * time.Second,
			LogLevel:                 "warn",
			UpsertAggregates:         true,
		},
		PubsubSource:   "portable",
		NumShards:      4,
		GenerateEvents: 50000,
		GenerateSeed:   1,
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("defaults are invalid: %v", err)
	}
}

func TestOptionsFlags(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("streaming", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := options.Register(fs, &o); err != nil {
		t.Fatal(err)
	}
	err := fs.Parse([]string{
		"--inputSubscription=projects/p/subscriptions/s",
		"--windowDuration=5m",
		"--maxMessages=100",
		"--productCatalog=gs://b/products.csv",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.InputSubscription != "projects/p/subscriptions/s" || o.WindowDuration != 5*time.Minute ||
		o.MaxMessages != 100 || o.ProductCatalog != "gs://b/products.csv" {
		t.Errorf("parsed options = %+v", o)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	base := defaults(t)
	tests := []struct {
		name   string
		change func(*Options)
		flag   string // "" when the options are valid
	}{
		{"local mode", func(o *Options) { o.InputSubscription = "" }, ""},
		{"subscription", func(o *Options) { o.InputSubscription = "projects/p/subscriptions/s" }, ""},
		{"zero lateness, bounds and timeouts", func(o *Options) {
			o.MaxOutOfOrderness, o.AllowedLateness, o.MaxMessages, o.IdleTimeout, o.GenerateEvents = 0, 0, 0, 0, 0
		}, ""},
		{"day window", func(o *Options) { o.WindowDuration = 24 * time.Hour }, ""},
		{"session cap equal to the gap", func(o *Options) { o.SessionGap, o.MaxSessionDuration = time.Hour, time.Hour }, ""},

		{"subscription name only", func(o *Options) { o.InputSubscription = "events" }, "inputSubscription"},
		{"topic instead of subscription", func(o *Options) { o.InputSubscription = "projects/p/topics/t" }, "inputSubscription"},
		{"attribute with space", func(o *Options) { o.TimestampAttribute = "event time" }, "timestampAttribute"},
		{"negative out-of-orderness", func(o *Options) { o.MaxOutOfOrderness = -time.Second }, "maxOutOfOrderness"},
		{"negative lateness", func(o *Options) { o.AllowedLateness = -time.Second }, "allowedLateness"},
		{"negative max messages", func(o *Options) { o.MaxMessages = -1 }, "maxMessages"},
		{"max messages with several readers", func(o *Options) { o.MaxMessages, o.NumReaders = 100, 3 }, "maxMessages"},
		{"too many readers", func(o *Options) { o.NumReaders = 1001 }, "numReaders"},
		{"negative idle timeout", func(o *Options) { o.IdleTimeout = -time.Second }, "idleTimeout"},
		{"zero dedup horizon", func(o *Options) { o.DedupHorizon = 0 }, "dedupHorizon"},
		{"no product catalog", func(o *Options) { o.ProductCatalog = "" }, "productCatalog"},
		{"no currency rates", func(o *Options) { o.CurrencyRates = "" }, "currencyRates"},
		{"zero refresh", func(o *Options) { o.ReferenceRefresh = 0 }, "referenceRefresh"},
		{"zero window", func(o *Options) { o.WindowDuration = 0 }, "windowDuration"},
		{"negative window", func(o *Options) { o.WindowDuration = -time.Minute }, "windowDuration"},
		{"window over a day", func(o *Options) { o.WindowDuration = 25 * time.Hour }, "windowDuration"},
		{"no output directory", func(o *Options) { o.OutputDirectory = "" }, "outputDirectory"},
		{"negative generated events", func(o *Options) { o.GenerateEvents = -1 }, "generateEvents"},
		{"zero progress interval", func(o *Options) { o.ProgressInterval = 0 }, "progressInterval"},
		{"unknown log level", func(o *Options) { o.LogLevel = "loud" }, "logLevel"},
		{"session cap below the gap", func(o *Options) { o.SessionGap, o.MaxSessionDuration = time.Hour, 30*time.Minute }, "maxSessionDuration"},
		{"session cap over a week", func(o *Options) { o.MaxSessionDuration = 169 * time.Hour }, "maxSessionDuration"},
		// Issue 8 item 12: every duration added to an event time stays within decode's margin.
		{"lateness of two years", func(o *Options) { o.AllowedLateness, o.Accumulation = decode.MaxStageDuration, windowing.Discarding }, ""},
		{"lateness over two years", func(o *Options) { o.AllowedLateness = decode.MaxStageDuration + time.Hour }, "allowedLateness"},
		{"out-of-orderness over two years", func(o *Options) { o.MaxOutOfOrderness = 200 * 365 * 24 * time.Hour }, "maxOutOfOrderness"},
		{"dedup horizon over two years", func(o *Options) { o.DedupHorizon = decode.MaxStageDuration + 1 }, "dedupHorizon"},
		{"fraud state TTL over two years", func(o *Options) { o.FraudStateTTL = decode.MaxStageDuration + 1 }, "fraudStateTtl"},
		{"fraud velocity window over two years", func(o *Options) {
			o.FraudVelocityWindow, o.FraudStateTTL = decode.MaxStageDuration+1, decode.MaxStageDuration+1
		}, "fraudVelocityWindow"},
		{"alerts topic not a topic path", func(o *Options) { o.AlertsTopic = "alerts" }, "alertsTopic"},
		{"dead-letter topic not a topic path", func(o *Options) { o.DeadLetterTopic = "projects/p/subscriptions/s" }, "deadLetterTopic"},
		{"first bad flag wins", func(o *Options) { o.OutputDirectory = ""; o.DedupHorizon = 0 }, "dedupHorizon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			err := o.Validate()
			if tt.flag == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var fe *options.FlagError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want a *options.FlagError", err)
			}
			if fe.Flag != tt.flag {
				t.Errorf("Validate = %q, want an error naming --%s", err, tt.flag)
			}
		})
	}
}

// TestOptionsTemplate pins the template contract the README and Terraform
// rely on: the subscription is required there, local-run flags are absent.
func TestOptionsTemplate(t *testing.T) {
	specs, err := options.Specs(Options{})
	if err != nil {
		t.Fatal(err)
	}
	local := map[string]bool{"generateEvents": true, "generateRate": true, "generateSeed": true, "progressInterval": true, "logLevel": true}
	for _, s := range specs {
		if s.Templated == local[s.Name] {
			t.Errorf("--%s: templated = %v, want %v", s.Name, s.Templated, !local[s.Name])
		}
		if got, want := s.OptionalInTemplate(), s.Name != "inputSubscription"; got != want {
			t.Errorf("--%s: optional in template = %v, want %v", s.Name, got, want)
		}
	}
}

func TestReadersPerRunner(t *testing.T) {
	for _, tc := range []struct {
		o      Options
		runner string
		want   int
	}{
		{Options{}, "prism", 1},
		{Options{}, "universal", 1},
		{Options{}, "dataflow", defaultRemoteReaders},
		{Options{}, "flink", defaultRemoteReaders},
		{Options{MaxMessages: 10}, "dataflow", 1},
		{Options{NumReaders: 3}, "prism", 3},
	} {
		if got := tc.o.Readers(tc.runner); got != tc.want {
			t.Errorf("%+v on %s: %d readers, want %d", tc.o.NumReaders, tc.runner, got, tc.want)
		}
	}
}
