package options

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type usageOptions struct {
	In    string `flag:"in" group:"Input" required:"template" label:"In" help:"Where to read."`
	Shard int    `flag:"shards" default:"4" group:"Output" label:"Shards" help:"Files per window."`
	Rate  int64  `flag:"rate" default:"0" group:"Input" label:"Rate" help:"Messages per second, 0 unbounded; a long help text that wraps onto a second line when it is longer than the width."`
	Local bool   `flag:"local" default:"true" template:"-" group:"Local run" label:"Local" help:"Run locally."`
}

func TestUsage(t *testing.T) {
	var b bytes.Buffer
	if err := Usage(&b, usageOptions{}); err != nil {
		t.Fatal(err)
	}
	want := `Input:
  --in string
      Required in the template. Where to read.
  --rate int64
      Messages per second, 0 unbounded; a long help text that wraps onto a second line when it is
      longer than the width.

Output:
  --shards int (default 4)
      Files per window.

Local run:
  --local bool (default true)
      Run locally. Local runs only.
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("Usage (-want +got):\n%s", diff)
	}
}

func TestRunnerUsage(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	var o usageOptions
	if err := Register(fs, &o); err != nil {
		t.Fatal(err)
	}
	fs.String("runner", "", "Pipeline runner.")
	fs.Bool("help_runner", false, "this list")
	var b bytes.Buffer
	if err := RunnerUsage(&b, fs, &o, "help_runner"); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(b.String()), "-runner string\n    \tPipeline runner."; got != want {
		t.Errorf("RunnerUsage = %q, want %q", got, want)
	}
	if n, err := CountRunnerFlags(fs, &o, "help_runner"); err != nil || n != 1 {
		t.Errorf("CountRunnerFlags = %d, %v; want 1", n, err)
	}
}
