package options

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Common is embedded to check that promoted fields are options too.
type Common struct {
	Verbose bool `flag:"verbose" label:"Verbose" help:"Log more." template:"-"`
}

type sample struct {
	Common
	Input    string        `flag:"inputSubscription" group:"Source" param:"PUBSUB_SUBSCRIPTION" required:"template" label:"Input" help:"Where <events> come from." example:"projects/p/subscriptions/s" regex:"^projects/[^/]+/subscriptions/[^/]+$"`
	Name     string        `flag:"jobName" default:"job" required:"true" label:"Name" help:"Job name." regex:"[a-z]+"`
	Window   time.Duration `flag:"windowDuration" default:"1m" group:"Windows" label:"Window" help:"Window size."`
	Shards   int           `flag:"numShards" default:"4" label:"Shards" help:"Shards | files."`
	Limit    int64         `flag:"maxMessages" label:"Limit" help:"Stop after this many."`
	Ratio    float64       `flag:"sampleRatio" default:"0.5" label:"Ratio" help:"Fraction kept."`
	internal string        // unexported: not an option
	Plain    string        // no flag tag: not an option
}

func wantSampleSpecs() []Spec {
	return []Spec{
		{Field: "Verbose", Name: "verbose", Type: Bool, Default: "false", Value: "false", Label: "Verbose", Help: "Log more.", Regex: typeRegex[Bool]},
		{Field: "Input", Name: "inputSubscription", Type: String, Label: "Input", Help: "Where <events> come from.", Example: "projects/p/subscriptions/s", Regex: "^projects/[^/]+/subscriptions/[^/]+$", Group: "Source", Param: "PUBSUB_SUBSCRIPTION", Required: RequiredInTemplate, Templated: true},
		{Field: "Name", Name: "jobName", Type: String, Default: "job", Label: "Name", Help: "Job name.", Regex: "[a-z]+", Required: RequiredAlways, Templated: true},
		{Field: "Window", Name: "windowDuration", Type: Duration, Default: "1m", Value: "0s", Label: "Window", Help: "Window size.", Regex: typeRegex[Duration], Group: "Windows", Templated: true},
		{Field: "Shards", Name: "numShards", Type: Int, Default: "4", Value: "0", Label: "Shards", Help: "Shards | files.", Regex: typeRegex[Int], Templated: true},
		{Field: "Limit", Name: "maxMessages", Type: Int64, Default: "0", Value: "0", Label: "Limit", Help: "Stop after this many.", Regex: typeRegex[Int64], Templated: true},
		{Field: "Ratio", Name: "sampleRatio", Type: Float64, Default: "0.5", Value: "0", Label: "Ratio", Help: "Fraction kept.", Regex: typeRegex[Float64], Templated: true},
	}
}

func TestSpecs(t *testing.T) {
	for _, opts := range []any{sample{}, &sample{}} {
		got, err := Specs(opts)
		if err != nil {
			t.Fatalf("Specs(%T): %v", opts, err)
		}
		if diff := cmp.Diff(wantSampleSpecs(), got); diff != "" {
			t.Errorf("Specs(%T) mismatch (-want +got):\n%s", opts, diff)
		}
	}
}

func TestSpecsValues(t *testing.T) {
	got, err := Specs(sample{Input: "projects/a/subscriptions/b", Window: 90 * time.Second, Ratio: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]string{}
	for _, s := range got {
		values[s.Name] = s.Value
	}
	want := map[string]string{
		"verbose": "false", "inputSubscription": "projects/a/subscriptions/b", "jobName": "",
		"windowDuration": "1m30s", "numShards": "0", "maxMessages": "0", "sampleRatio": "0.25",
	}
	if diff := cmp.Diff(want, values); diff != "" {
		t.Errorf("values mismatch (-want +got):\n%s", diff)
	}
}

func TestSpecsErrors(t *testing.T) {
	tests := []struct {
		name string
		opts any
		want string
	}{
		{"not a struct", 3, "need a struct"},
		{"nil pointer", (*sample)(nil), "nil"},
		{"unsupported type", &struct {
			X []string `flag:"x" label:"X" help:"x"`
		}{}, "unsupported type []string"},
		{"duplicate", &struct {
			A string `flag:"x" label:"A" help:"a"`
			B string `flag:"x" label:"B" help:"b"`
		}{}, `flag "x" already used by A`},
		{"bad name", &struct {
			A string `flag:"input_subscription" label:"A" help:"a"`
		}{}, "camelCase"},
		{"no help", &struct {
			A string `flag:"a" label:"A"`
		}{}, "needs a label and a help"},
		{"bad default", &struct {
			A time.Duration `flag:"a" default:"10" label:"A" help:"a"`
		}{}, `default "10"`},
		{"default fails regex", &struct {
			A string `flag:"a" default:"X" regex:"^[a-z]+$" label:"A" help:"a"`
		}{}, `default "X" does not match`},
		{"example fails regex", &struct {
			A string `flag:"a" example:"X" regex:"^[a-z]+$" label:"A" help:"a"`
		}{}, `example "X" does not match`},
		{"bad regex", &struct {
			A string `flag:"a" regex:"(" label:"A" help:"a"`
		}{}, "regex"},
		{"bad param", &struct {
			A string `flag:"a" param:"pubsub" label:"A" help:"a"`
		}{}, "paramType"},
		{"bad required", &struct {
			A string `flag:"a" required:"yes" label:"A" help:"a"`
		}{}, "required must be"},
		{"template-required local flag", &struct {
			A string `flag:"a" required:"template" template:"-" label:"A" help:"a"`
		}{}, "contradicts"},
		{"bad template tag", &struct {
			A string `flag:"a" template:"no" label:"A" help:"a"`
		}{}, "template tag"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Specs(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Specs error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestTypeRegexes(t *testing.T) {
	dur := regexp.MustCompile(typeRegex[Duration])
	for _, s := range []string{"0", "0s", "10m", "1h30m", "1.5h", ".5s", "300ms", "10us", "10µs", "2h45m0.5s"} {
		if _, err := time.ParseDuration(s); err != nil {
			t.Fatalf("test value %q is not a Go duration: %v", s, err)
		}
		if !dur.MatchString(s) {
			t.Errorf("duration regex rejects %q", s)
		}
	}
	for _, s := range []string{"", "10", "1d", "m", "-1s", "1 m", "1m "} {
		if dur.MatchString(s) {
			t.Errorf("duration regex accepts %q", s)
		}
	}
	float := regexp.MustCompile(typeRegex[Float64])
	for _, s := range []string{"0", "0.5", "-1", ".5", "1e-3", "2.5E10"} {
		if !float.MatchString(s) {
			t.Errorf("float regex rejects %q", s)
		}
	}
}

func TestRegister(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    sample
		wantErr string
	}{
		{
			name: "defaults",
			want: sample{Name: "job", Window: time.Minute, Shards: 4, Ratio: 0.5},
		},
		{
			name: "every type",
			args: []string{"--verbose", "--inputSubscription=projects/a/subscriptions/b", "--jobName=x",
				"--windowDuration=1h30m", "--numShards", "8", "--maxMessages=100", "--sampleRatio=0.1"},
			want: sample{Common: Common{Verbose: true}, Input: "projects/a/subscriptions/b", Name: "x",
				Window: 90 * time.Minute, Shards: 8, Limit: 100, Ratio: 0.1},
		},
		{name: "bad duration", args: []string{"--windowDuration=5"}, wantErr: "windowDuration"},
		{name: "bad int", args: []string{"--numShards=many"}, wantErr: "numShards"},
		{name: "unknown flag", args: []string{"--nope=1"}, wantErr: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Fields start non-zero to show that Register applies the defaults.
			got := sample{Name: "stale", Shards: 99, Plain: "kept"}
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			if err := Register(fs, &got); err != nil {
				t.Fatalf("Register: %v", err)
			}
			err := fs.Parse(tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			tt.want.Plain = "kept"
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(sample{})); diff != "" {
				t.Errorf("options mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRegisterNamedTypes(t *testing.T) {
	type mode string
	var opts struct {
		Mode mode `flag:"mode" default:"fast" label:"Mode" help:"Mode."`
		On   bool `flag:"on" label:"On" help:"On."`
	}
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	if err := Register(fs, &opts); err != nil {
		t.Fatal(err)
	}
	if opts.Mode != "fast" {
		t.Errorf("default Mode = %q, want fast", opts.Mode)
	}
	if err := fs.Parse([]string{"--mode=slow", "--on"}); err != nil {
		t.Fatal(err)
	}
	if opts.Mode != "slow" || !opts.On {
		t.Errorf("after Parse: %+v", opts)
	}
}

func TestRegisterNeedsPointer(t *testing.T) {
	if err := Register(flag.NewFlagSet("t", flag.ContinueOnError), sample{}); err == nil {
		t.Error("Register(struct value) succeeded, want an error")
	}
}

func TestValidate(t *testing.T) {
	valid := sample{Name: "job", Window: time.Minute, Shards: 4}
	rules := func(o sample) map[string]Rule {
		return map[string]Rule{
			"windowDuration": func() string { return Positive(o.Window) },
			"numShards":      func() string { return Between(o.Shards, 1, 1000) },
			"maxMessages":    func() string { return NonNegative(o.Limit) },
		}
	}
	tests := []struct {
		name   string
		change func(*sample)
		want   *FlagError
	}{
		{name: "valid", change: func(*sample) {}},
		{name: "optional empty", change: func(o *sample) { o.Input = "" }},
		{name: "regex", change: func(o *sample) { o.Input = "my-sub" },
			want: &FlagError{Flag: "inputSubscription", Msg: `"my-sub" does not match ^projects/[^/]+/subscriptions/[^/]+$ (for example projects/p/subscriptions/s)`}},
		{name: "regex matches whole value", change: func(o *sample) { o.Name = "job1" },
			want: &FlagError{Flag: "jobName", Msg: `"job1" does not match [a-z]+`}},
		{name: "required", change: func(o *sample) { o.Name = "" },
			want: &FlagError{Flag: "jobName", Msg: "is required"}},
		{name: "positive", change: func(o *sample) { o.Window = 0 },
			want: &FlagError{Flag: "windowDuration", Msg: "must be > 0"}},
		{name: "between", change: func(o *sample) { o.Shards = 1001 },
			want: &FlagError{Flag: "numShards", Msg: "must be between 1 and 1000"}},
		{name: "non-negative", change: func(o *sample) { o.Limit = -1 },
			want: &FlagError{Flag: "maxMessages", Msg: "must be >= 0"}},
		{name: "first bad flag in field order", change: func(o *sample) { o.Limit = -1; o.Window = 0 },
			want: &FlagError{Flag: "windowDuration", Msg: "must be > 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := valid
			tt.change(&o)
			err := Validate(o, rules(o))
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var fe *FlagError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want a *FlagError", err)
			}
			if diff := cmp.Diff(tt.want, fe); diff != "" {
				t.Errorf("Validate mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateUnknownRule(t *testing.T) {
	err := Validate(sample{Name: "job"}, map[string]Rule{"windowDurations": func() string { return "" }})
	if err == nil || !strings.Contains(err.Error(), "windowDurations") {
		t.Errorf("Validate = %v, want an error naming the unknown flag", err)
	}
}

func TestFlagErrorMessage(t *testing.T) {
	err := error(&FlagError{Flag: "windowDuration", Msg: "must be > 0"})
	if got, want := err.Error(), "invalid --windowDuration: must be > 0"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDurationHelpers(t *testing.T) {
	if got, want := Between(25*time.Hour, time.Minute, 24*time.Hour), "must be between 1m0s and 24h0m0s"; got != want {
		t.Errorf("Between = %q, want %q", got, want)
	}
	if got := Positive(time.Second); got != "" {
		t.Errorf("Positive(1s) = %q", got)
	}
}

func TestFlexTemplateMetadata(t *testing.T) {
	got, err := FlexTemplateMetadata("Sample", "A <sample> & more.", wantSampleSpecs())
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "name": "Sample",
  "description": "A <sample> & more.",
  "parameters": [
    {
      "name": "inputSubscription",
      "groupName": "Source",
      "label": "Input",
      "helpText": "Where <events> come from. For example: projects/p/subscriptions/s.",
      "isOptional": false,
      "regexes": [
        "^projects/[^/]+/subscriptions/[^/]+$"
      ],
      "paramType": "PUBSUB_SUBSCRIPTION"
    },
    {
      "name": "jobName",
      "label": "Name",
      "helpText": "Job name.",
      "isOptional": false,
      "regexes": [
        "[a-z]+"
      ],
      "paramType": "TEXT"
    },
    {
      "name": "windowDuration",
      "groupName": "Windows",
      "label": "Window",
      "helpText": "Window size.",
      "isOptional": true,
      "regexes": [
        "^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$"
      ],
      "paramType": "TEXT",
      "defaultValue": "1m"
    },
    {
      "name": "numShards",
      "label": "Shards",
      "helpText": "Shards | files.",
      "isOptional": true,
      "regexes": [
        "^-?[0-9]+$"
      ],
      "paramType": "TEXT",
      "defaultValue": "4"
    },
    {
      "name": "maxMessages",
      "label": "Limit",
      "helpText": "Stop after this many.",
      "isOptional": true,
      "regexes": [
        "^-?[0-9]+$"
      ],
      "paramType": "TEXT",
      "defaultValue": "0"
    },
    {
      "name": "sampleRatio",
      "label": "Ratio",
      "helpText": "Fraction kept.",
      "isOptional": true,
      "regexes": [
        "^-?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?$"
      ],
      "paramType": "TEXT",
      "defaultValue": "0.5"
    }
  ]
}
`
	diffText(t, "metadata.json", string(got), want)

	if _, err := FlexTemplateMetadata("", "", nil); err == nil {
		t.Error("FlexTemplateMetadata with no name succeeded")
	}
}

func TestMarkdownTable(t *testing.T) {
	got := MarkdownTable(wantSampleSpecs())
	want := "| Flag | Type | Default | Description |\n" +
		"|---|---|---|---|\n" +
		"| `--verbose` | bool | `false` | *Local runs only; not a template parameter.* Log more. |\n" +
		"| `--inputSubscription` | string | \"\" | **Required in the template.** Where &lt;events&gt; come from. Example: `projects/p/subscriptions/s`. |\n" +
		"| `--jobName` | string | `job` | **Required.** Job name. |\n" +
		"| `--windowDuration` | duration | `1m` | Window size. |\n" +
		"| `--numShards` | int | `4` | Shards \\| files. |\n" +
		"| `--maxMessages` | int64 | `0` | Stop after this many. |\n" +
		"| `--sampleRatio` | float64 | `0.5` | Fraction kept. |\n"
	diffText(t, "table", string(got), want)
}

func TestTerraformVariables(t *testing.T) {
	specs := wantSampleSpecs()[1:4] // inputSubscription, jobName, windowDuration
	specs[2].Help = `Window size, e.g. ${var} or %{if}; "quoted" \ slash.`
	got, err := TerraformVariables("sample", append(specs, wantSampleSpecs()[0]))
	if err != nil {
		t.Fatal(err)
	}
	want := `variable "input_subscription" {
  type        = string
  description = "Where <events> come from. For example: projects/p/subscriptions/s."

  validation {
    condition     = can(regex("^(?:^projects/[^/]+/subscriptions/[^/]+$)$", var.input_subscription))
    error_message = "The input_subscription variable must match ^projects/[^/]+/subscriptions/[^/]+$, for example projects/p/subscriptions/s."
  }
}

variable "job_name" {
  type        = string
  description = "Job name."

  validation {
    condition     = can(regex("^(?:[a-z]+)$", var.job_name))
    error_message = "The job_name variable must match [a-z]+."
  }
}

variable "window_duration" {
  type        = string
  description = "Window size, e.g. $${var} or %%{if}; \"quoted\" \\ slash. Null keeps the pipeline default (1m)."
  default     = null

  validation {
    condition     = var.window_duration == null || can(regex("^(?:^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$)$", var.window_duration))
    error_message = "The window_duration variable must match ^(0|(([0-9]+(\\.[0-9]*)?|\\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)$."
  }
}

locals {
  # Unset (null) parameters are left out so that the pipeline defaults apply.
  sample_parameters = {
    for name, value in {
      inputSubscription = var.input_subscription
      jobName           = var.job_name
      windowDuration    = var.window_duration
    } : name => value if value != null
  }
}
`
	diffText(t, "variables.tf", string(got), want)
	checkTerraformFmt(t, got)

	if _, err := TerraformVariables("Sample-1", specs); err == nil {
		t.Error("TerraformVariables accepted an invalid pipeline name")
	}
}

// checkTerraformFmt checks that terraform fmt leaves hcl unchanged, when a
// terraform binary is at hand (it needs no providers).
func checkTerraformFmt(t *testing.T, hcl []byte) {
	t.Helper()
	path, err := exec.LookPath("terraform")
	if err != nil {
		t.Log("terraform not on PATH; skipping the fmt check")
		return
	}
	cmd := exec.Command(path, "fmt", "-")
	cmd.Stdin = bytes.NewReader(hcl)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("terraform fmt: %v: %s", err, stderr.String())
	}
	diffText(t, "terraform fmt output", string(out), string(hcl))
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"inputSubscription":  "input_subscription",
		"maxOutOfOrderness":  "max_out_of_orderness",
		"outputBQTable":      "output_bq_table",
		"numShards":          "num_shards",
		"gcsPath2":           "gcs_path2",
		"x":                  "x",
		"javascriptTextUDF":  "javascript_text_udf",
		"outputDeadletterID": "output_deadletter_id",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReplaceBetweenMarkers(t *testing.T) {
	const b, e = "<!-- BEGIN -->", "<!-- END -->"
	tests := []struct {
		name, doc, content, want, wantErr string
	}{
		{name: "empty region", doc: "a\n" + b + "\n" + e + "\nz\n", content: "x\n",
			want: "a\n" + b + "\nx\n" + e + "\nz\n"},
		{name: "replaces old content", doc: b + "\nold\nolder\n" + e + "\n", content: "new\n",
			want: b + "\nnew\n" + e + "\n"},
		{name: "adds final newline", doc: b + "\n" + e, content: "new",
			want: b + "\nnew\n" + e},
		{name: "empty content", doc: b + "\nold\n" + e + "\n", content: "",
			want: b + "\n" + e + "\n"},
		{name: "missing begin", doc: e + "\n", wantErr: "occurs 0 times"},
		{name: "missing end", doc: b + "\n", wantErr: "occurs 0 times"},
		{name: "duplicate", doc: b + "\n" + e + "\n" + b + "\n", wantErr: "occurs 2 times"},
		{name: "reversed", doc: e + "\n" + b + "\n", wantErr: "comes before"},
		{name: "same line", doc: b + e + "\n", wantErr: "separate lines"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceBetweenMarkers([]byte(tt.doc), b, e, []byte(tt.content))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			diffText(t, "document", string(got), tt.want)
			again, err := ReplaceBetweenMarkers(got, b, e, []byte(tt.content))
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("second replacement changed the document: %q, %v", again, err)
			}
		})
	}
}

// diffText compares texts line by line, so a failure shows the lines that
// differ rather than two long strings.
func diffText(t *testing.T, what, got, want string) {
	t.Helper()
	if diff := cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, diff)
	}
}
