package bigquery

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.Function2x0(seedGeneration)
	register.Combiner3[[]string, string, []string](&generationFilesFn{})
	register.DoFn3x1[context.Context, []string, func(string), error](&commitFn{})
}

// commit writes the manifests of a backfill generation once every file of it is written:
// the written names, moved into the global window, are combined into one list, which a
// global-window combine emits only when its input is done (the end of a bounded input, or
// the final watermark of an unbounded one). An impulse seeds the combine, so a generation
// without any file still commits (every hour of its range then empty).
//
// commit: PCollection<string> (file names relative to the table folder) -> PCollection<string>
// (the manifests written).
func commit(s beam.Scope, written beam.PCollection, cfg FilesConfig) beam.PCollection {
	s = s.Scope("bigquery.CommitGeneration")
	global := beam.WindowInto(s, window.NewGlobalWindows(), written)
	seed := beam.ParDo(s, seedGeneration, beam.Impulse(s))
	names := beam.Combine(s, &generationFilesFn{}, beam.Flatten(s, seed, global))
	return beam.ParDo(s, &commitFn{Directory: cfg.Directory, Table: cfg.Table, RunID: cfg.RunID,
		Range: Range{From: cfg.Replace.From.UTC(), To: cfg.Replace.To.UTC()}}, names)
}

// seedGeneration emits the empty name, which generationFilesFn skips.
func seedGeneration(_ []byte, emit func(string)) { emit("") }

// generationFilesFn collects the distinct file names of a generation, sorted.
type generationFilesFn struct{}

func (*generationFilesFn) CreateAccumulator() []string { return nil }

func (*generationFilesFn) AddInput(acc []string, name string) []string {
	if name == "" {
		return acc
	}
	return append(acc, name)
}

func (*generationFilesFn) MergeAccumulators(a, b []string) []string { return append(a, b...) }

func (*generationFilesFn) ExtractOutput(acc []string) []string {
	out := slices.Clone(acc)
	slices.Sort(out)
	return slices.Compact(out)
}

// commitFn writes one manifest per hour of the range, listing the generation's files of that
// hour, then deletes the hour's files the manifest does not list. It checks first that every
// file it lists is there: a missing one means something else (another backfill of the same
// hours) deleted it, and committing would lose its rows. Rerunning it is harmless.
type commitFn struct {
	Directory string
	Table     string
	RunID     string
	Range     Range

	store     *files.Store
	manifests telemetry.Counter
	pruned    telemetry.Counter
	failed    telemetry.Counter
}

func (fn *commitFn) Setup(ctx context.Context) error {
	st, err := files.OpenStore(ctx, fn.Directory)
	if err != nil {
		return fmt.Errorf("bigquery %s: %w", fn.Table, err)
	}
	fn.store = st
	fn.manifests = telemetry.NewCounter(fn.Table + ".manifests")
	fn.pruned = telemetry.NewCounter(fn.Table + ".files_pruned")
	fn.failed = telemetry.NewCounter(fn.Table + ".prune_failed")
	return nil
}

func (fn *commitFn) Teardown() error {
	if fn.store == nil {
		return nil
	}
	return fn.store.Close()
}

func (fn *commitFn) ProcessElement(ctx context.Context, names []string, emit func(string)) error {
	byHour := map[string][]string{}
	for _, n := range names {
		dir, base := path.Split(n)
		dir = strings.TrimSuffix(dir, "/")
		byHour[dir] = append(byHour[dir], base)
	}
	for _, h := range fn.Range.Hours() {
		location, err := fn.commitHour(ctx, h, byHour[HourFolder(h)])
		if err != nil {
			return fmt.Errorf("bigquery %s: committing backfill %s: %w", fn.Table, fn.RunID, err)
		}
		emit(location)
	}
	return nil
}

func (fn *commitFn) commitHour(ctx context.Context, hour time.Time, live []string) (string, error) {
	dir := HourDir(fn.Directory, fn.Table, hour)
	listing, err := fn.store.ListTree(ctx, dir)
	if err != nil {
		return "", err
	}
	for _, n := range live {
		if _, found := slices.BinarySearch(listing, n); !found {
			return "", fmt.Errorf("%s: file %s of this generation is missing (did another backfill of this hour delete it?)", dir, n)
		}
	}
	m := Manifest{Format: ManifestFormat, Table: fn.Table, Hour: hour.UTC(), From: fn.Range.From, To: fn.Range.To,
		RunID: fn.RunID, Files: append([]string{}, live...)}
	latest := latestManifest(listing)
	number := latest + 1
	if latest > 0 {
		// A retried commit finds its own manifest and keeps it.
		prev, err := readManifest(ctx, fn.store, files.Join(dir, ManifestName(latest)))
		if err != nil {
			return "", err
		}
		if prev.RunID == m.RunID && prev.From.Equal(m.From) && prev.To.Equal(m.To) && slices.Equal(prev.Files, m.Files) {
			number = latest
		}
	}
	location := files.Join(dir, ManifestName(number))
	if number > latest {
		data, err := json.Marshal(m)
		if err != nil {
			return "", err
		}
		if _, err := fn.store.Create(ctx, location, append(data, '\n')); err != nil {
			return "", fmt.Errorf("%w (did another backfill commit this hour meanwhile?)", err)
		}
		fn.manifests.Inc(ctx, 1)
	}
	// The latest manifest decides what is live; deleting the rest only saves space and keeps
	// plain listings (an external table over the folder) right, so a failure (a bucket that
	// grants create only) is logged, not fatal.
	for _, n := range listing {
		old, isManifest := manifestNumber(n)
		superseded := (isManifest && old < number) ||
			(!slices.Contains(live, n) && (isRowsFile(n, partPrefix) || isRowsFile(n, backfillPrefix)))
		if !superseded {
			continue
		}
		if err := fn.store.Delete(ctx, files.Join(dir, n)); err != nil {
			fn.failed.Inc(ctx, 1)
			slog.WarnContext(ctx, "backfill: could not delete a superseded file", "table", fn.Table, "error", err)
			continue
		}
		fn.pruned.Inc(ctx, 1)
	}
	return location, nil
}
