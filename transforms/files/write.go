package files

import (
	"compress/gzip"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window/trigger"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.Function1x1[string, []byte](stringLine)
	register.DoFn2x2[context.Context, []byte, int, []byte](&shardFn{})
	register.DoFn6x1[context.Context, beam.PaneInfo, beam.Window, int, func(*[]byte) bool, func(string), error](&writeFn{})
	register.Iter1[[]byte]()
	register.Emitter1[string]()
}

// Defaults of Config.
const (
	DefaultWindow          = time.Hour
	DefaultNumShards       = 4
	DefaultAllowedLateness = 24 * time.Hour
	DefaultSuffix          = ".jsonl.gz"
	DefaultName            = "files"
	DefaultMaxBufferBytes  = 64 << 20
)

// Config configures Write. Zero fields take the defaults above.
type Config struct {
	// Prefix is where the files go: a local directory or gs://bucket/path.
	Prefix string
	// Suffix ends every file name. A suffix ending in ".gz" gzips the file.
	Suffix string
	// Window is the fixed window that groups lines into files.
	Window time.Duration
	// NumShards is the number of files per window and pane. Lines go to shards by a hash of
	// their bytes, so a retried bundle puts every line in the same shard.
	NumShards int
	// AllowedLateness keeps a window open after the watermark passes its end: late lines
	// write an additional file (a later pane). Lines later than this are dropped by the
	// runner's GroupByKey; <Name>.in − <Name>.out counts them once the job has drained.
	AllowedLateness time.Duration
	// LateFiringDelay batches late lines: a late pane fires this long (processing time) after
	// its first line. Zero fires at once, which can mean one file per late line.
	LateFiringDelay time.Duration
	// TempDirectory holds sort spill files (a pane larger than MaxBufferBytes is sorted in
	// runs on disk); they are removed after each file, and stale ones left by crashed workers
	// are removed at start-up. Default: os.TempDir()/tributary-files.
	TempDirectory string
	// MaxBufferBytes is how many bytes of lines a pane holds in memory before spilling.
	MaxBufferBytes int64
	// GzipLevel is the compression level (0 means gzip.DefaultCompression, 6). Level 1
	// (gzip.BestSpeed) writes about twice as fast for files about 20% larger.
	GzipLevel int
	// RunID, if set, goes into every file name, so that jobs writing to the same prefix one
	// after another (a drained job and its replacement, or two local runs) never meet on a
	// name: without it the second job's file for a window the first already wrote is a
	// different file under the same name, an ErrDifferentContent error. It must stay the same
	// for the life of a job (retries must find their files): set it when the pipeline is built,
	// e.g. from the launch time. Letters, digits, '.' and '_' only.
	RunID string
	// Name is the step name of the metrics: <Name>.in (lines in), <Name>.out (lines in
	// files), <Name>.files, <Name>.bytes, <Name>.late_files and <Name>.existing_identical
	// (files a retried bundle found already written).
	Name string
}

func (c Config) withDefaults() Config {
	if c.Suffix == "" {
		c.Suffix = DefaultSuffix
	}
	if c.Window <= 0 {
		c.Window = DefaultWindow
	}
	if c.NumShards <= 0 {
		c.NumShards = DefaultNumShards
	}
	if c.AllowedLateness <= 0 {
		c.AllowedLateness = DefaultAllowedLateness
	}
	if c.TempDirectory == "" {
		c.TempDirectory = filepath.Join(os.TempDir(), "tributary-files")
	}
	if c.MaxBufferBytes <= 0 {
		c.MaxBufferBytes = DefaultMaxBufferBytes
	}
	if c.Name == "" {
		c.Name = DefaultName
	}
	if c.GzipLevel == 0 {
		c.GzipLevel = gzip.DefaultCompression
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Prefix == "":
		return fmt.Errorf("files.Write: Prefix is required")
	case isGCS(c.Prefix):
		if _, _, err := splitGCS(c.Prefix); err != nil {
			return fmt.Errorf("files.Write: Prefix: %w", err)
		}
	}
	if isGCS(c.TempDirectory) {
		return fmt.Errorf("files.Write: TempDirectory %q must be a local directory", c.TempDirectory)
	}
	if c.GzipLevel < gzip.HuffmanOnly || c.GzipLevel > gzip.BestCompression {
		return fmt.Errorf("files.Write: GzipLevel %d is not a gzip level (-2 to 9)", c.GzipLevel)
	}
	if c.RunID != "" && !validRunID.MatchString(c.RunID) {
		return fmt.Errorf("files.Write: RunID %q may hold only letters, digits, '.' and '_'", c.RunID)
	}
	if c.NumShards > 99999 {
		return fmt.Errorf("files.Write: NumShards %d is more than 99999", c.NumShards)
	}
	return nil
}

// Write writes lines into one file per fixed window, shard and pane under cfg.Prefix (see
// FileName), each line followed by a newline, sorted, gzipped when the suffix ends in ".gz".
// Every file appears whole or not at all and at most once: a retried bundle finds its file
// already written and checks that it is identical. A window's first pane fires when the
// watermark passes its end; late lines within AllowedLateness fire later panes, each an
// additional file. It returns the location of every file written (or found identical), in
// the file's window.
//
// Write: PCollection<[]byte or string> -> PCollection<string>
func Write(s beam.Scope, lines beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("files.Write")
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		panic(err)
	}
	switch t := lines.Type().Type(); t {
	case reflect.TypeOf(""):
		lines = beam.ParDo(s, stringLine, lines)
	case reflect.TypeOf([]byte(nil)):
	default:
		panic(fmt.Sprintf("files.Write: lines are %v, want []byte or string", t))
	}
	return beam.ParDo(s, newWriteFn(cfg), shardAndGroup(s, lines, cfg))
}

// shardAndGroup keys lines by shard and groups them per window and pane.
func shardAndGroup(s beam.Scope, lines beam.PCollection, cfg Config) beam.PCollection {
	keyed := beam.ParDo(s, &shardFn{NumShards: cfg.NumShards, Name: cfg.Name}, lines)
	late := trigger.Trigger(trigger.AfterCount(1))
	if cfg.LateFiringDelay > 0 {
		late = trigger.AfterProcessingTime().PlusDelay(cfg.LateFiringDelay)
	}
	// No early firings: a window's first file is complete when the watermark passes its end.
	windowed := beam.WindowInto(s, window.NewFixedWindows(cfg.Window), keyed,
		beam.Trigger(trigger.AfterEndOfWindow().EarlyFiring(trigger.Never()).LateFiring(late)),
		beam.AllowedLateness(cfg.AllowedLateness),
		beam.PanesDiscard())
	return beam.GroupByKey(s, windowed)
}

func newWriteFn(cfg Config) *writeFn {
	return &writeFn{
		Prefix:         cfg.Prefix,
		Suffix:         cfg.Suffix,
		NumShards:      cfg.NumShards,
		TempDirectory:  cfg.TempDirectory,
		MaxBufferBytes: cfg.MaxBufferBytes,
		GzipLevel:      cfg.GzipLevel,
		RunID:          cfg.RunID,
		Name:           cfg.Name,
	}
}

func stringLine(s string) []byte { return []byte(s) }

// shardFn keys each line by its shard: a hash of its bytes, so the shard of a line never
// depends on which bundle or worker sees it.
type shardFn struct {
	NumShards int
	Name      string

	in telemetry.Counter
}

func (fn *shardFn) Setup() { fn.in = telemetry.NewCounter(fn.Name + ".in") }

func (fn *shardFn) ProcessElement(ctx context.Context, line []byte) (int, []byte) {
	fn.in.Inc(ctx, 1)
	return Shard(line, fn.NumShards), line
}

// Shard is the shard of a line among n: FNV-1a of its bytes, mod n.
func Shard(line []byte, n int) int {
	h := fnv.New64a()
	h.Write(line)
	return int(h.Sum64() % uint64(n))
}

// writeFn writes one file per window, shard and pane.
type writeFn struct {
	Prefix         string
	Suffix         string
	NumShards      int
	TempDirectory  string
	MaxBufferBytes int64
	GzipLevel      int
	RunID          string
	Name           string

	store                             store
	out, files, bytes, late, existing telemetry.Counter
}

func (fn *writeFn) Setup(ctx context.Context) error {
	st, err := openStore(ctx, fn.Prefix)
	if err != nil {
		return fmt.Errorf("files.Write %s: %w", fn.Prefix, err)
	}
	fn.store = st
	sweepSpills(fn.TempDirectory)
	fn.out = telemetry.NewCounter(fn.Name + ".out")
	fn.files = telemetry.NewCounter(fn.Name + ".files")
	fn.bytes = telemetry.NewCounter(fn.Name + ".bytes")
	fn.late = telemetry.NewCounter(fn.Name + ".late_files")
	fn.existing = telemetry.NewCounter(fn.Name + ".existing_identical")
	return nil
}

func (fn *writeFn) Teardown() error {
	if fn.store == nil {
		return nil
	}
	return fn.store.close()
}

func (fn *writeFn) ProcessElement(ctx context.Context, pane beam.PaneInfo, w beam.Window, shard int,
	values func(*[]byte) bool, emit func(string)) error {
	iw, ok := w.(window.IntervalWindow)
	if !ok {
		return fmt.Errorf("files.Write: shard %d is in a %T, want an interval window", shard, w)
	}
	sorter := newLineSorter(fn.TempDirectory, fn.MaxBufferBytes)
	defer sorter.close()
	var line []byte
	for values(&line) {
		if err := sorter.add(line); err != nil {
			return fmt.Errorf("files.Write: %w", err)
		}
	}
	location := Join(fn.Prefix, FileName(iw.Start.ToTime(), iw.End.ToTime(), fn.RunID, shard, fn.NumShards, pane.Index, fn.Suffix))
	res, err := writeLines(ctx, fn.store, location, fn.GzipLevel, sorter.each)
	if err != nil {
		return fmt.Errorf("files.Write: %w", err)
	}
	fn.out.Inc(ctx, res.Lines)
	fn.files.Inc(ctx, 1)
	fn.bytes.Inc(ctx, res.Size)
	if pane.Timing == typex.PaneLate {
		fn.late.Inc(ctx, 1)
	}
	if res.Existing {
		fn.existing.Inc(ctx, 1)
	}
	emit(location)
	return nil
}

// written is the outcome of one file write.
type written struct {
	Object
	Lines    int64
	Existing bool // an identical file was already there (a retried bundle)
}

// writeLines writes the lines that each yields, one per line, to location through st,
// gzipped at level if the name ends in ".gz".
func writeLines(ctx context.Context, st store, location string, level int, each func(func([]byte) error) error) (written, error) {
	var n int64
	obj, existing, err := st.create(ctx, location, func(w io.Writer) (err error) {
		out, zw := w, (*gzip.Writer)(nil)
		if strings.HasSuffix(location, ".gz") {
			zw, err = gzip.NewWriterLevel(w, level)
			if err != nil {
				return err
			}
			out = zw
		}
		nl := []byte{'\n'}
		err = each(func(line []byte) error {
			n++
			if _, err := out.Write(line); err != nil {
				return err
			}
			_, err := out.Write(nl)
			return err
		})
		if err != nil {
			return err
		}
		if zw != nil {
			return zw.Close()
		}
		return nil
	})
	if err != nil {
		return written{}, err
	}
	return written{Object: obj, Lines: n, Existing: existing}, nil
}
