package windowing

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func TestValidate(t *testing.T) {
	with := func(f func(*Options)) Options {
		o := Defaults()
		f(&o)
		return o
	}
	tests := []struct {
		name     string
		opts     Options
		wantFlag string // "" for valid
		wantMsg  string // a part of the message
	}{
		{"defaults", Defaults(), "", ""},
		{"early firings and late delay", with(func(o *Options) { o.EarlyFiringDelay = 30 * time.Second; o.LateFirings = "1m" }), "", ""},
		{"negative early delay", with(func(o *Options) { o.EarlyFiringDelay = -time.Second }), "EarlyFiringDelay", ">= 0"},
		{"sub-millisecond early delay", with(func(o *Options) { o.EarlyFiringDelay = time.Microsecond }), "EarlyFiringDelay", "1ms"},
		{"unknown late firing", with(func(o *Options) { o.LateFirings = "sometimes" }), "LateFirings", `"sometimes" must be`},
		{"negative late delay", with(func(o *Options) { o.LateFirings = "-5s" }), "LateFirings", "positive duration"},
		{"no late firings with lateness", with(func(o *Options) {
			o.LateFirings = LateNone
			o.AllowedLateness = time.Minute
			o.Accumulation = Discarding
		}),
			"LateFirings", "silently"},
		{"no late firings without lateness", with(func(o *Options) { o.LateFirings = LateNone }), "", ""},
		{"no late firings with lateness on Dataflow", with(func(o *Options) {
			o.LateFirings, o.AllowedLateness, o.Runner = LateNone, time.Minute, "dataflow"
		}), "LateFirings", "silently"},
		{"negative lateness", with(func(o *Options) { o.AllowedLateness = -time.Second }), "AllowedLateness", ">= 0"},
		{"unknown accumulation", with(func(o *Options) { o.Accumulation = "both" }), "Accumulation", `"both" must be`},
		{"accumulating with lateness on Prism", with(func(o *Options) { o.AllowedLateness = time.Minute }), "Accumulation", "Prism"},
		{"accumulating with lateness on the portable runner", with(func(o *Options) { o.AllowedLateness = time.Minute; o.Runner = "universal" }),
			"Accumulation", "Prism"},
		{"accumulating with lateness on Dataflow", with(func(o *Options) { o.AllowedLateness = time.Minute; o.Runner = "dataflow" }), "", ""},
		{"accumulating with lateness on Flink", with(func(o *Options) { o.AllowedLateness = time.Minute; o.Runner = "FlinkRunner" }), "", ""},
		{"discarding with lateness on Prism", with(func(o *Options) { o.AllowedLateness = time.Minute; o.Accumulation = Discarding }), "", ""},
		{"zero window", with(func(o *Options) { o.WindowDuration = 0 }), "WindowDuration", "> 0"},
		{"window over a day", with(func(o *Options) { o.WindowDuration = 25 * time.Hour }), "WindowDuration", "24h"},
		{"zero trending window", with(func(o *Options) { o.TrendingWindow = 0 }), "TrendingWindow", "> 0"},
		{"zero trending period", with(func(o *Options) { o.TrendingPeriod = 0 }), "TrendingPeriod", "> 0"},
		{"period longer than window", with(func(o *Options) { o.TrendingPeriod = 2 * time.Hour }), "TrendingPeriod", "at most"},
		{"period not dividing window", with(func(o *Options) { o.TrendingPeriod = 7 * time.Minute }), "TrendingPeriod", "evenly"},
		{"too many windows per event", with(func(o *Options) { o.TrendingWindow = 24 * time.Hour; o.TrendingPeriod = time.Minute }),
			"TrendingPeriod", "1440 windows"},
		{"fixed trending windows", with(func(o *Options) { o.TrendingPeriod = o.TrendingWindow }), "", ""},
		{"no products", with(func(o *Options) { o.TrendingTopN = 0 }), "TrendingTopN", "between 1 and 1000"},
		{"too many products", with(func(o *Options) { o.TrendingTopN = 1001 }), "TrendingTopN", "between 1 and 1000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if tc.wantFlag == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var oe *FieldError
			if !errors.As(err, &oe) {
				t.Fatalf("Validate() = %v, want a *FieldError for %s", err, tc.wantFlag)
			}
			if oe.Field != tc.wantFlag || !strings.Contains(oe.Msg, tc.wantMsg) {
				t.Errorf("Validate() = %q, want %s: ...%s...", err, tc.wantFlag, tc.wantMsg)
			}
			if !strings.HasPrefix(err.Error(), "invalid "+tc.wantFlag+": ") {
				t.Errorf("error %q does not start by naming the field", err)
			}
		})
	}
}

func TestRulesCoverFields(t *testing.T) {
	var got []string
	for field := range Defaults().Rules() {
		got = append(got, field)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(Fields))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Rules() fields (-Fields +Rules):\n%s", diff)
	}
}

func TestOnPrism(t *testing.T) {
	for runner, want := range map[string]bool{"": true, "prism": true, "PrismRunner": true, "universal": true, "direct": true,
		"dataflow": false, "DataflowRunner": false, "flink": false, "spark": false} {
		if got := OnPrism(runner); got != want {
			t.Errorf("OnPrism(%q) = %v, want %v", runner, got, want)
		}
	}
}

// TestBeamTrigger checks the mapping onto Beam's trigger package.
func TestBeamTrigger(t *testing.T) {
	pt := func(d time.Duration) trigger.Trigger { return trigger.AfterProcessingTime().PlusDelay(d) }
	tests := []struct {
		name string
		in   Trigger
		want trigger.Trigger
	}{
		{"default", Trigger{}, trigger.AfterEndOfWindow().LateFiring(trigger.AfterCount(1))},
		// No late firing would do with no lateness, but Prism panics without one (see Beam).
		{"none", Trigger{LateFirings: LateNone}, trigger.AfterEndOfWindow().LateFiring(trigger.AfterCount(1))},
		{"early and every", Trigger{EarlyFiringDelay: time.Minute, LateFirings: LateEvery},
			trigger.AfterEndOfWindow().EarlyFiring(pt(time.Minute)).LateFiring(trigger.AfterCount(1))},
		{"late delay", Trigger{LateFirings: "30s", AllowedLateness: time.Hour},
			trigger.AfterEndOfWindow().LateFiring(pt(30 * time.Second))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// The trigger types keep their fields unexported.
			allFields := cmp.Exporter(func(reflect.Type) bool { return true })
			if diff := cmp.Diff(tc.want, tc.in.Beam(), allFields); diff != "" {
				t.Errorf("Beam() (-want +got):\n%s", diff)
			}
		})
	}
}

func TestWindowFn(t *testing.T) {
	tests := []struct {
		w          Window
		want       *window.Fn
		perElement int64
	}{
		{Fixed(time.Minute), window.NewFixedWindows(time.Minute), 1},
		{Sliding(time.Hour, 5*time.Minute), window.NewSlidingWindows(5*time.Minute, time.Hour), 12},
		{Sliding(time.Hour, time.Hour), window.NewFixedWindows(time.Hour), 1},
	}
	for _, tc := range tests {
		if got := tc.w.Fn(); !got.Equals(tc.want) {
			t.Errorf("%v: Fn() = %v, want %v", tc.w, got, tc.want)
		}
		if got := tc.w.PerElement(); got != tc.perElement {
			t.Errorf("%v: PerElement() = %d, want %d", tc.w, got, tc.perElement)
		}
	}
}

// Panes seen by the Prism tests below, per test.
var (
	panesMu sync.Mutex
	panes   = map[string][]string{}
)

type item struct {
	N int64
}

func keyItem(it item) (string, int64) { return "k", it.N }

// paneFn records "TIMING index [values] final" for each pane of the one key.
type paneFn struct{ ID string }

func (fn *paneFn) ProcessElement(p beam.PaneInfo, _ string, values func(*int64) bool) {
	var vs []int64
	var v int64
	for values(&v) {
		vs = append(vs, v)
	}
	slices.Sort(vs)
	timing := map[typex.PaneTiming]string{typex.PaneEarly: "EARLY", typex.PaneOnTime: "ON_TIME", typex.PaneLate: "LATE"}[p.Timing]
	panesMu.Lock()
	defer panesMu.Unlock()
	panes[fn.ID] = append(panes[fn.ID], fmt.Sprintf("%s %d %v final=%t", timing, p.Index, vs, p.IsLast))
}

func init() {
	register.Function1x2(keyItem)
	register.DoFn3x0[beam.PaneInfo, string, func(*int64) bool](&paneFn{})
	register.Iter1[int64]()
}

// TestPrism runs the mapped triggers on Prism: the work-arounds hold, and the behaviour behind
// each Prism-only restriction of Options.Rules is still there. When one of these fails after a
// Beam upgrade, Prism changed: revisit the restriction and the README's list.
func TestPrism(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := time.Second
	type step struct {
		at    time.Duration // add item N at t0 + at; with N == 0, move the watermark there
		n     int64
		clock time.Duration // or move processing time on by this much
	}
	tests := []struct {
		name    string
		trigger Trigger
		steps   []step
		want    []string
	}{
		{
			// Without a late firing, Prism v2.77 panics on the pending early firing (nil map in
			// aggregateStageKind.buildProcessingTimeBundle); Beam() always sets one.
			name:    "early firing pending as the window closes",
			trigger: Trigger{EarlyFiringDelay: 10 * s, LateFirings: LateNone},
			steps:   []step{{at: 50 * s, n: 1}, {at: 61 * s}, {clock: 30 * s}},
			want:    []string{"ON_TIME 0 [1] final=true"},
		},
		{
			name:    "discarding LATE panes fire per late element",
			trigger: Trigger{AllowedLateness: 5 * time.Minute, Accumulation: Discarding},
			steps:   []step{{at: 10 * s, n: 1}, {at: 61 * s}, {at: 30 * s, n: 2}, {at: 70 * s}, {at: 40 * s, n: 4}, {at: 80 * s}},
			want:    []string{"LATE 1 [2] final=false", "LATE 2 [4] final=false", "ON_TIME 0 [1] final=false"},
		},
		{
			// Why Options refuses accumulating panes with lateness on Prism: the two late
			// elements should give LATE panes [1 2] and [1 2 4]; Prism holds both back until
			// the window closes.
			name:    "accumulating LATE panes are held back until the window closes",
			trigger: Trigger{AllowedLateness: 5 * time.Minute},
			steps:   []step{{at: 10 * s, n: 1}, {at: 61 * s}, {at: 30 * s, n: 2}, {at: 70 * s}, {at: 40 * s, n: 4}, {at: 80 * s}},
			want:    []string{"LATE 1 [1 2 4] final=true", "ON_TIME 0 [1] final=false"},
		},
		{
			name:    "a late firing after a processing-time delay",
			trigger: Trigger{AllowedLateness: 5 * time.Minute, LateFirings: "10s", Accumulation: Discarding},
			steps: []step{{at: 10 * s, n: 1}, {at: 61 * s}, {at: 30 * s, n: 2}, {clock: 5 * s}, {at: 40 * s, n: 4},
				{clock: 30 * s}, {at: 50 * s, n: 8}, {at: 10 * time.Minute}},
			want: []string{"LATE 1 [2 4] final=false", "LATE 2 [8] final=true", "ON_TIME 0 [1] final=false"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := teststream.NewConfig()
			for _, st := range tc.steps {
				var err error
				switch {
				case st.clock > 0:
					cfg.AdvanceProcessingTime(st.clock.Milliseconds())
				case st.n > 0:
					err = cfg.AddElements(t0.Add(st.at).UnixMilli(), item{N: st.n})
				default:
					err = cfg.AdvanceWatermark(t0.Add(st.at).UnixMilli())
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := cfg.AdvanceWatermarkToInfinity(); err != nil {
				t.Fatal(err)
			}
			p, sc := beam.NewPipelineWithRoot()
			keyed := beam.ParDo(sc, keyItem, teststream.Create(sc, cfg))
			windowed := Into(sc, Fixed(time.Minute), tc.trigger, keyed)
			beam.ParDo0(sc, &paneFn{ID: t.Name()}, beam.GroupByKey(sc, windowed))
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			panesMu.Lock()
			got := slices.Sorted(slices.Values(panes[t.Name()]))
			panesMu.Unlock()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("panes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTriggerValidate(t *testing.T) {
	// Runner restrictions are Options'; a transform given a trigger checks only its values.
	if err := (Trigger{AllowedLateness: time.Hour}).Validate(); err != nil {
		t.Errorf("accumulating with lateness: Validate() = %v, want nil", err)
	}
	err := Trigger{Accumulation: "sometimes"}.Validate()
	var oe *FieldError
	if !errors.As(err, &oe) || oe.Field != "Accumulation" {
		t.Errorf("Validate() = %v, want a *FieldError for Accumulation", err)
	}
}
