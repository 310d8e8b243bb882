package streaming

import (
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/options"
	"github.com/tributary-dev/tributary/transforms/fraud"
	"github.com/tributary-dev/tributary/transforms/privacy"
	"github.com/tributary-dev/tributary/transforms/sessions"
	"github.com/tributary-dev/tributary/transforms/windowing"
)

// TestNoFlagNamesInTransforms keeps flag names out of transforms/: no string literal there
// names a flag ("--x", "invalid --%s") or is a flag name of Options; flagOf maps fields to
// flags instead. Comments may mention flags.
func TestNoFlagNamesInTransforms(t *testing.T) {
	specs, err := options.Specs(Options{})
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{}
	for _, s := range specs {
		flags[s.Name] = true
	}
	dashes := regexp.MustCompile(`--[A-Za-z%]`)
	var found []string
	err = filepath.WalkDir("../../transforms", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err == nil && (dashes.MatchString(v) || flags[v]) {
				found = append(found, fset.Position(lit.Pos()).String()+": "+lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("flag names in transforms/ (name the Config field; pipelines/streaming/fields.go maps it):\n%s", strings.Join(found, "\n"))
	}
}

// TestFlagOf checks the table: every field a transform validates has a flag of Options.
func TestFlagOf(t *testing.T) {
	specs, err := options.Specs(Options{})
	if err != nil {
		t.Fatal(err)
	}
	flags := map[string]bool{"runner": true} // Beam's, named only in messages
	for _, s := range specs {
		flags[s.Name] = true
	}
	for pkg, fields := range map[string][]string{"windowing": windowing.Fields, "sessions": sessions.Fields,
		"fraud": append(fraud.Fields, "AllowedLateness"), "privacy": privacy.Fields} {
		for _, field := range fields {
			flag, ok := flagOf[pkg][field]
			if !ok || !flags[flag] {
				t.Errorf("%s.%s: flag %q is not a flag of Options", pkg, field, flag)
			}
		}
	}
}

// TestFlagErrors checks what a user reads: the flag, with the fields the message mentions
// named by their flags too, but never inside a value the user gave.
func TestFlagErrors(t *testing.T) {
	base := defaults(t)
	tests := []struct {
		name   string
		change func(*Options)
		want   *options.FlagError
	}{
		{"fraud TTL below the velocity window", func(o *Options) { o.FraudStateTTL = 30 * time.Second },
			&options.FlagError{Flag: "fraudStateTtl", Msg: "30s must be at least --fraudVelocityWindow (1m0s)"}},
		{"trending period not dividing the window", func(o *Options) { o.TrendingPeriod = 7 * time.Minute },
			&options.FlagError{Flag: "trendingPeriod", Msg: "7m0s must divide --trendingWindow (1h0m0s) evenly"}},
		{"accumulating with lateness on Prism", func(o *Options) { o.AllowedLateness = time.Minute },
			&options.FlagError{Flag: "accumulation", Msg: `"accumulating" with --allowedLateness > 0 mis-fires on Prism v2.77 (late panes are held back until the window closes at end + allowed lateness); use "discarding", or run on Dataflow or Flink (--runner=dataflow|flink)`}},
		{"key file without tokenization", func(o *Options) { o.TokenKeyFile = "gs://b/key" },
			&options.FlagError{Flag: "tokenKeyFile", Msg: "is set but --tokenizeUserIds is off: user ids would not be tokenized"}},
		{"tokenization without a key", func(o *Options) { o.TokenizeUserIds = true },
			&options.FlagError{Flag: "tokenizeUserIds", Msg: "needs a key: set --tokenKeyFile or --tokenKeyEnv"}},
		{"session gap", func(o *Options) { o.SessionGap = -time.Second },
			&options.FlagError{Flag: "sessionGap", Msg: "must be between 1ms and 24h0m0s (0 uses the default, 30m0s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			var got *options.FlagError
			if err := o.Validate(); !errors.As(err, &got) {
				t.Fatalf("Validate = %v, want a *options.FlagError", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFlagNamesSkipValues checks that a value the user gave is never renamed, even when it
// reads like a field (the flags' regexes keep such values out of Options.Validate today).
func TestFlagNamesSkipValues(t *testing.T) {
	got := flagNames("windowing", `"Runner" must divide TrendingWindow ("a \"Runner\"") on Runner`)
	want := `"Runner" must divide --trendingWindow ("a \"Runner\"") on --runner`
	if got != want {
		t.Errorf("flagNames = %s, want %s", got, want)
	}
}

// TestFlagErrorOfKey checks that the launcher's key check names the flag.
func TestFlagErrorOfKey(t *testing.T) {
	o := defaults(t)
	o.TokenizeUserIds, o.TokenKeyEnv = true, "TRIBUTARY_TEST_UNSET_KEY"
	got := flagError(privacy.CheckKey(context.Background(), o.Privacy()))
	want := "invalid --tokenKeyEnv: environment variable TRIBUTARY_TEST_UNSET_KEY is not set"
	if got == nil || got.Error() != want {
		t.Errorf("flagError(CheckKey) = %v, want %q", got, want)
	}
}
