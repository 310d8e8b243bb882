package files

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*stamped)(nil)).Elem())
	register.Function1x2[stamped, beam.EventTime, []byte](stamp)
	register.DoFn6x1[context.Context, beam.PaneInfo, beam.Window, int, func(*[]byte) bool, func(string), error](&failingWriteFn{})
}

// stamped is a line and its event time, offset from beamtest.T0.
type stamped struct {
	At   time.Duration
	Line string
}

func stamp(s stamped) (beam.EventTime, []byte) {
	return beam.EventTime(beamtest.T0.Add(s.At).UnixMilli()), []byte(s.Line)
}

func lines(at time.Duration, ls ...string) []stamped {
	out := make([]stamped, len(ls))
	for i, l := range ls {
		out[i] = stamped{At: at, Line: l}
	}
	return out
}

func TestFileName(t *testing.T) {
	tests := []struct {
		name  string
		start time.Time
		d     time.Duration
		run   string
		shard int
		n     int
		pane  int64
		want  string
	}{
		{"first pane", beamtest.T0, time.Hour, "", 1, 4, 0, "dt=2026-11-01/hr=12/20261101T120000Z-20261101T130000Z-00001-of-00004.jsonl.gz"},
		{"later pane", beamtest.T0, time.Hour, "", 3, 4, 2, "dt=2026-11-01/hr=12/20261101T120000Z-20261101T130000Z-00003-of-00004-pane-2.jsonl.gz"},
		{"with a run id", beamtest.T0, time.Hour, "20261101T1207Z", 0, 4, 1, "dt=2026-11-01/hr=12/20261101T120000Z-20261101T130000Z-20261101T1207Z-00000-of-00004-pane-1.jsonl.gz"},
		{"folders from the start, in UTC", beamtest.T0.Add(11*time.Hour + 55*time.Minute).In(time.FixedZone("X", 3600)), 10 * time.Minute, "", 0, 1, 0,
			"dt=2026-11-01/hr=23/20261101T235500Z-20261102T000500Z-00000-of-00001.jsonl.gz"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FileName(tc.start, tc.start.Add(tc.d), tc.run, tc.shard, tc.n, tc.pane, DefaultSuffix); got != tc.want {
				t.Errorf("FileName = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestWrite(t *testing.T) {
	in := append(append(lines(10*time.Minute, `{"n":3}`, `{"n":1}`, `{"n":2}`, `{"n":1}`, `{"n":4}`, `{"n":5}`),
		lines(59*time.Minute, `{"n":6}`)...), lines(61*time.Minute, `{"n":7}`)...)
	want := merge(
		byShard(beamtest.T0, time.Hour, 2, 0, `{"n":3}`, `{"n":1}`, `{"n":2}`, `{"n":1}`, `{"n":4}`, `{"n":5}`, `{"n":6}`),
		byShard(beamtest.T0.Add(time.Hour), time.Hour, 2, 0, `{"n":7}`),
	)
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			prefix, c := tg.prefix(t)
			p, s := beam.NewPipelineWithRoot()
			Write(s, beam.ParDo(s, stamp, beam.CreateList(s, in)), Config{Prefix: prefix, NumShards: 2})
			pr, err := ptest.RunWithMetrics(p)
			if err != nil {
				t.Fatal(err)
			}
			files := listFiles(t, c, prefix)
			if diff := cmp.Diff(want, decodeFiles(t, files)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			var size int64
			for _, f := range files {
				size += int64(len(f))
			}
			wantCounters := map[string]int64{"files.in": 8, "files.out": 8, "files.files": int64(len(want)), "files.bytes": size}
			if diff := cmp.Diff(wantCounters, counters(pr, "files.")); diff != "" {
				t.Errorf("counters (-want +got):\n%s", diff)
			}
		})
	}
}

// counters returns the pipeline's counters whose names start with prefix (a counter never
// incremented is absent).
func counters(pr beam.PipelineResult, prefix string) map[string]int64 {
	out := map[string]int64{}
	for k, v := range telemetry.FromPipeline(pr).Counters {
		if strings.HasPrefix(k, prefix) {
			out[k] = v
		}
	}
	return out
}

// failingWriteFn is writeFn failing its bundle right after each file is written: the worst
// moment for a retry, since the file exists but the runner will run the bundle again.
type failingWriteFn struct {
	W    *writeFn
	Fail bool
}

func (fn *failingWriteFn) Setup(ctx context.Context) error { return fn.W.Setup(ctx) }
func (fn *failingWriteFn) Teardown() error                 { return fn.W.Teardown() }

func (fn *failingWriteFn) ProcessElement(ctx context.Context, pane beam.PaneInfo, w beam.Window, shard int,
	values func(*[]byte) bool, emit func(string)) error {
	if err := fn.W.ProcessElement(ctx, pane, w, shard, values, emit); err != nil {
		return err
	}
	if fn.Fail {
		return errors.New("injected failure after the write")
	}
	return nil
}

// TestWriteRetried runs a pipeline whose bundles fail right after writing, then runs it again
// as the runner's retry would (Prism fails the job rather than retrying the bundle): the
// second run finds identical files and leaves exactly one file per window and shard.
func TestWriteRetried(t *testing.T) {
	var in []stamped
	for i := range 40 {
		in = append(in, stamped{At: time.Duration(i) * 3 * time.Minute, Line: fmt.Sprintf(`{"n":%d}`, i)})
	}
	byWindow := map[time.Time][]string{}
	for _, l := range in {
		start := beamtest.T0.Add(l.At.Truncate(time.Hour))
		byWindow[start] = append(byWindow[start], l.Line)
	}
	want := map[string][]string{}
	for start, ls := range byWindow {
		want = merge(want, byShard(start, time.Hour, 3, 0, ls...))
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			prefix, c := tg.prefix(t)
			cfg := Config{Prefix: prefix, NumShards: 3}.withDefaults()
			run := func(fail bool) (beam.PipelineResult, error) {
				p, s := beam.NewPipelineWithRoot()
				grouped := shardAndGroup(s, beam.ParDo(s, stamp, beam.CreateList(s, in)), cfg)
				beam.ParDo(s, &failingWriteFn{W: newWriteFn(cfg), Fail: fail}, grouped)
				return ptest.RunWithMetrics(p)
			}
			if _, err := run(true); err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("first run: got error %v, want the injected failure", err)
			}
			before := len(listFiles(t, c, prefix))
			if before == 0 {
				t.Fatal("the first run wrote no file")
			}
			pr, err := run(false)
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if diff := cmp.Diff(want, decodeFiles(t, listFiles(t, c, prefix))); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			got := counters(pr, "files.")
			if got["files.existing_identical"] != int64(before) || got["files.files"] != int64(len(want)) || got["files.out"] != int64(len(in)) {
				t.Errorf("counters %v: want files.existing_identical %d (files of the failed run), files.files %d, files.out %d",
					got, before, len(want), len(in))
			}
		})
	}
}

type tsBatch struct {
	watermark time.Duration // advance the watermark to beamtest.T0 + this first (0: don't)
	at        time.Duration // element timestamps: beamtest.T0 + at
	lines     []string
}

// TestWriteLatePanes checks that late lines within the allowed lateness add a file (a later
// pane of the same window) and that lines later than that are accounted for: files.in counts
// them, files.out does not.
func TestWriteLatePanes(t *testing.T) {
	const n = 2
	tests := []struct {
		name    string
		delay   time.Duration
		batches []tsBatch
		want    map[string][]string
		late    int64
		dropped int64
	}{
		{
			name: "a late line writes a second pane",
			batches: []tsBatch{
				{at: 10 * time.Minute, lines: []string{"a", "b", "c"}},
				{watermark: 61 * time.Minute, at: 20 * time.Minute, lines: []string{"late"}},
			},
			want: merge(byShard(beamtest.T0, time.Hour, n, 0, "a", "b", "c"), byShard(beamtest.T0, time.Hour, n, 1, "late")),
			late: 1,
		},
		{
			name:  "late lines are batched by the late firing delay",
			delay: time.Minute,
			batches: []tsBatch{
				{at: 10 * time.Minute, lines: []string{"a", "b"}}, // one line per shard
				{watermark: 61 * time.Minute, at: 20 * time.Minute, lines: []string{"late1", "late2", "late3"}},
			},
			want: merge(byShard(beamtest.T0, time.Hour, n, 0, "a", "b"), byShard(beamtest.T0, time.Hour, n, 1, "late1", "late2", "late3")),
			late: 2,
		},
		{
			name: "a window's first pane keeps the plain name even when it is late",
			batches: []tsBatch{
				{at: 10 * time.Minute, lines: []string{"a"}},                                 // shard 0 only
				{watermark: 61 * time.Minute, at: 20 * time.Minute, lines: []string{"late"}}, // shard 1
			},
			want: byShard(beamtest.T0, time.Hour, n, 0, "a", "late"),
			late: 1,
		},
		{
			name: "lines beyond the allowed lateness are counted in, not out",
			batches: []tsBatch{
				{at: 10 * time.Minute, lines: []string{"a"}},
				{watermark: 4 * time.Hour, at: 20 * time.Minute, lines: []string{"too late"}},
			},
			want:    byShard(beamtest.T0, time.Hour, n, 0, "a"),
			dropped: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := teststream.NewConfig()
			total := int64(0)
			for _, b := range tc.batches {
				if b.watermark > 0 {
					if err := cfg.AdvanceWatermark(beamtest.T0.Add(b.watermark).UnixMilli()); err != nil {
						t.Fatal(err)
					}
				}
				var els []any
				for _, l := range b.lines {
					els = append(els, []byte(l))
				}
				if err := cfg.AddElements(beamtest.T0.Add(b.at).UnixMilli(), els...); err != nil {
					t.Fatal(err)
				}
				total += int64(len(b.lines))
			}
			if tc.delay > 0 {
				cfg.AdvanceProcessingTime(tc.delay.Milliseconds() + 1)
			}
			if err := cfg.AdvanceWatermarkToInfinity(); err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			p, s := beam.NewPipelineWithRoot()
			Write(s, teststream.Create(s, cfg), Config{Prefix: dir, NumShards: n, AllowedLateness: time.Hour, LateFiringDelay: tc.delay})
			pr, err := ptest.RunWithMetrics(p)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, decodeFiles(t, listFiles(t, nil, dir))); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			got := counters(pr, "files.")
			if got["files.late_files"] != tc.late || got["files.in"]-got["files.out"] != tc.dropped || got["files.in"] != total {
				t.Errorf("counters %v: want files.late_files %d, files.in %d, files.in - files.out %d", got, tc.late, total, tc.dropped)
			}
		})
	}
}

// TestWriteRuns runs two jobs with different lines for the same window into one prefix, as a
// drained job and its replacement would: without run ids the second finds a different file
// under its name and fails naming it; with them both files stay.
func TestWriteRuns(t *testing.T) {
	first, second := lines(5*time.Minute, "a", "b"), lines(50*time.Minute, "a", "c")
	tests := []struct {
		name       string
		runs       [2]string
		want       map[string][]string
		wantErrFor string // a file the second run's error names
	}{
		{
			name:       "without run ids the second job fails on a different file",
			want:       byShard(beamtest.T0, time.Hour, 1, 0, "a", "b"),
			wantErrFor: FileName(beamtest.T0, beamtest.T0.Add(time.Hour), "", 0, 1, 0, DefaultSuffix),
		},
		{
			name: "with run ids each job keeps its own file",
			runs: [2]string{"r1", "r2"},
			want: merge(byShardRun(beamtest.T0, time.Hour, "r1", 1, 0, "a", "b"), byShardRun(beamtest.T0, time.Hour, "r2", 1, 0, "a", "c")),
		},
	}
	for _, tg := range targets {
		for _, tc := range tests {
			t.Run(tg.name+"/"+tc.name, func(t *testing.T) {
				prefix, c := tg.prefix(t)
				var err error
				for i, in := range [][]stamped{first, second} {
					p, s := beam.NewPipelineWithRoot()
					Write(s, beam.ParDo(s, stamp, beam.CreateList(s, in)), Config{Prefix: prefix, NumShards: 1, RunID: tc.runs[i]})
					if err = ptest.Run(p); i == 0 && err != nil {
						t.Fatalf("first run: %v", err)
					}
				}
				switch {
				case tc.wantErrFor == "" && err != nil:
					t.Errorf("second run: %v", err)
				case tc.wantErrFor != "" && (err == nil || !strings.Contains(err.Error(), ErrDifferentContent.Error()) || !strings.Contains(err.Error(), tc.wantErrFor)):
					t.Errorf("second run: error %v, want %q naming %s", err, ErrDifferentContent, tc.wantErrFor)
				}
				if diff := cmp.Diff(tc.want, decodeFiles(t, listFiles(t, c, prefix))); diff != "" {
					t.Errorf("files (-want +got):\n%s", diff)
				}
			})
		}
	}
}
