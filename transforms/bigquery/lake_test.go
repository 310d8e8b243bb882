package bigquery

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/gcstest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

// lakeT0 is the first hour of the lake tests' rows.
var lakeT0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// lakeRoot is where a lake test writes: a temporary directory, or a prefix in a bucket of
// fake-gcs-server (in-process, found by the store through STORAGE_EMULATOR_HOST).
type lakeRoot struct {
	name string
	root func(t *testing.T) string
}

var lakeRoots = []lakeRoot{
	{"local", func(t *testing.T) string { return t.TempDir() }},
	{"gcs", func(t *testing.T) string {
		gcstest.Start(t, "lake")
		return "gs://lake/tributary"
	}},
}

// ev is an event of membership hour lakeT0 + hour, told apart by id.
func ev(id string, hour int) schemas.Event {
	return schemas.Event{EventID: id, EventType: "view", UserID: "u1", Currency: "USD", SchemaVersion: 1,
		EventTime: lakeT0.Add(time.Duration(hour)*time.Hour + 7*time.Minute)}
}

// writeEvents drives the files writer's DoFn through bundles, as a runner would (a plain write
// without rng, a backfill generation's files with it), and returns the names it emitted.
func writeEvents(t *testing.T, root string, rng *Range, runID string, bundles ...[]schemas.Event) []string {
	t.Helper()
	fn := &filesWriteFn{Directory: root, Table: schemas.TableEvents, RunID: runID, Member: "event_time", Replace: rng}
	ctx := context.Background()
	if err := fn.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	defer fn.Teardown()
	var names []string
	emit := func(n string) { names = append(names, n) }
	for _, b := range bundles {
		fn.StartBundle(ctx, emit)
		for _, e := range b {
			if err := fn.ProcessElement(ctx, 0, e, emit); err != nil {
				t.Fatal(err)
			}
		}
		if err := fn.FinishBundle(ctx, emit); err != nil {
			t.Fatal(err)
		}
	}
	return names
}

// commitEvents runs the commit step over what writeEvents emitted.
func commitEvents(t *testing.T, root string, rng Range, runID string, names []string) {
	t.Helper()
	if err := tryCommitEvents(root, rng, runID, names); err != nil {
		t.Fatal(err)
	}
}

func tryCommitEvents(root string, rng Range, runID string, names []string) error {
	fn := &commitFn{Directory: root, Table: schemas.TableEvents, RunID: runID, Range: rng}
	ctx := context.Background()
	if err := fn.Setup(ctx); err != nil {
		return err
	}
	defer fn.Teardown()
	acc := (&generationFilesFn{}).CreateAccumulator()
	for _, n := range names {
		acc = (&generationFilesFn{}).AddInput(acc, n)
	}
	return fn.ProcessElement(ctx, (&generationFilesFn{}).ExtractOutput(acc), func(string) {})
}

// liveIDs is what the reader rule makes of the events table: its event ids, sorted.
func liveIDs(t *testing.T, root string) []string {
	t.Helper()
	rows, err := ReadFileRows(context.Background(), root, schemas.TableEvents)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, r := range rows {
		var e struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(r, &e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.EventID)
	}
	slices.Sort(ids)
	return ids
}

// openStore opens the store of root for the rest of t.
func openStore(t *testing.T, root string) *files.Store {
	t.Helper()
	st, err := files.OpenStore(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// lakeFiles is every file of the events table by name, with a manifest reduced to the files it
// lists under the name dir/_manifest (its run id and number differ between runs by design).
func lakeFiles(t *testing.T, root string) map[string]string {
	t.Helper()
	ctx, st := context.Background(), openStore(t, root)
	dir := TableDir(root, schemas.TableEvents)
	names, err := st.ListTree(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, n := range names {
		data, err := st.Read(ctx, files.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := manifestNumber(path.Base(n)); ok {
			n = path.Dir(n) + "/_manifest"
			var m Manifest
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			data = []byte("manifest of " + strings.Join(m.Files, ","))
		}
		out[n] = string(data)
	}
	return out
}

// TestBackfillReplacesRange writes a table as the streaming job does (hours 10 to 13), then
// backfill generations of [11:00, 13:00) whose rows all fall in hour 11, and reads it back by
// the reader rule, locally and on fake-gcs-server.
func TestBackfillReplacesRange(t *testing.T) {
	rng := Range{From: lakeT0.Add(time.Hour), To: lakeT0.Add(3 * time.Hour)}
	streaming := [][]schemas.Event{
		{ev("s10a", 0), ev("s11a", 1), ev("s12a", 2)},
		{ev("s11b", 1), ev("s13a", 3)},
	}
	newRows := []schemas.Event{ev("b11a", 1), ev("b11b", 1), ev("b11c", 1)}
	outside := []string{"s10a", "s13a"}
	replaced := []string{"b11a", "b11b", "b11c", "s10a", "s13a"}
	old := []string{"s10a", "s11a", "s11b", "s12a", "s13a"}

	cases := []struct {
		name string
		run  func(t *testing.T, root string) (want []string)
	}{
		{"replace: new rows in range, old rows outside, an hour without rows empty", func(t *testing.T, root string) []string {
			commitEvents(t, root, rng, "r1", writeEvents(t, root, &rng, "r1", newRows))
			return replaced
		}},
		{"rows outside the range are not written by a backfill", func(t *testing.T, root string) []string {
			names := writeEvents(t, root, &rng, "r1", append([]schemas.Event{ev("b10x", 0), ev("b13x", 3)}, newRows...))
			commitEvents(t, root, rng, "r1", names)
			return replaced
		}},
		{"twice with the same bundles: same rows, same files", func(t *testing.T, root string) []string {
			commitEvents(t, root, rng, "r1", writeEvents(t, root, &rng, "r1", newRows))
			first := lakeFiles(t, root)
			commitEvents(t, root, rng, "r2", writeEvents(t, root, &rng, "r2", newRows))
			if diff := cmp.Diff(first, lakeFiles(t, root)); diff != "" {
				t.Errorf("files after the second run (-first +second):\n%s", diff)
			}
			return replaced
		}},
		{"twice with other bundles: same rows, only the second run's files", func(t *testing.T, root string) []string {
			commitEvents(t, root, rng, "r1", writeEvents(t, root, &rng, "r1", newRows))
			names := writeEvents(t, root, &rng, "r2", newRows[:1], newRows[1:])
			commitEvents(t, root, rng, "r2", names)
			var data []string
			for n := range lakeFiles(t, root) {
				if strings.Contains(n, "hr=11/") && !strings.HasSuffix(n, "/_manifest") {
					data = append(data, n)
				}
			}
			slices.Sort(data)
			slices.Sort(names)
			if diff := cmp.Diff(names, data); diff != "" {
				t.Errorf("files of hour 11 (-second run's +present):\n%s", diff)
			}
			return replaced
		}},
		{"crash between files and manifests: old rows stay live", func(t *testing.T, root string) []string {
			writeEvents(t, root, &rng, "r1", newRows)
			return old
		}},
		{"crash, then a rerun commits", func(t *testing.T, root string) []string {
			writeEvents(t, root, &rng, "r1", newRows[:2])
			commitEvents(t, root, rng, "r2", writeEvents(t, root, &rng, "r2", newRows))
			return replaced
		}},
		{"crash of a second backfill: the first one's rows stay live", func(t *testing.T, root string) []string {
			commitEvents(t, root, rng, "r1", writeEvents(t, root, &rng, "r1", newRows))
			writeEvents(t, root, &rng, "r2", []schemas.Event{ev("c11", 1), ev("c12", 2)})
			return replaced
		}},
		{"a retried commit keeps its manifests", func(t *testing.T, root string) []string {
			names := writeEvents(t, root, &rng, "r1", newRows)
			commitEvents(t, root, rng, "r1", names)
			first := lakeFiles(t, root)
			commitEvents(t, root, rng, "r1", names)
			if diff := cmp.Diff(first, lakeFiles(t, root)); diff != "" {
				t.Errorf("files after the retry (-first +retry):\n%s", diff)
			}
			return replaced
		}},
		{"a backfill whose files another one's commit deleted does not commit", func(t *testing.T, root string) []string {
			stale := writeEvents(t, root, &rng, "r1", []schemas.Event{ev("c11", 1)})
			commitEvents(t, root, rng, "r2", writeEvents(t, root, &rng, "r2", newRows))
			if err := tryCommitEvents(root, rng, "r1", stale); err == nil || !strings.Contains(err.Error(), "missing") {
				t.Errorf("commit of the stale generation: %v, want a missing file", err)
			}
			return replaced
		}},
		{"an empty backfill empties its range", func(t *testing.T, root string) []string {
			commitEvents(t, root, rng, "r1", nil)
			return outside
		}},
	}
	for _, lr := range lakeRoots {
		for _, tc := range cases {
			t.Run(lr.name+"/"+tc.name, func(t *testing.T) {
				root := lr.root(t)
				writeEvents(t, root, nil, "", streaming...)
				want := tc.run(t, root)
				if diff := cmp.Diff(want, liveIDs(t, root)); diff != "" {
					t.Errorf("live rows (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestManifestNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		ok   bool
	}{
		{ManifestName(1), 1, true},
		{ManifestName(12345678), 12345678, true},
		{"_manifest-00000000", 0, false},
		{"_manifest-1", 0, false},
		{"_manifest-0000000x", 0, false},
		{"_manifest-00000001.json", 0, false},
		{"part-00000001.json", 0, false},
	} {
		if n, ok := manifestNumber(tc.name); n != tc.n || ok != tc.ok {
			t.Errorf("manifestNumber(%q) = %d, %v; want %d, %v", tc.name, n, ok, tc.n, tc.ok)
		}
	}
	if got := latestManifest([]string{ManifestName(2), "part-a.json", ManifestName(10), ManifestName(9)}); got != 10 {
		t.Errorf("latestManifest = %d, want 10", got)
	}
}

// TestLakeLayout pins the layout a user's reader relies on: hour folders of membership time
// with part- files, a backfill's backfill- files and _manifest, and the table folder's own
// files (the layout before hour folders) always live.
func TestLakeLayout(t *testing.T) {
	root := t.TempDir()
	rng := Range{From: lakeT0, To: lakeT0.Add(time.Hour)}
	writeEvents(t, root, nil, "", []schemas.Event{ev("s10", 0), ev("s11", 1)})
	commitEvents(t, root, rng, "r1", writeEvents(t, root, &rng, "r1", []schemas.Event{ev("b10", 0)}))
	legacy := filepath.Join(TableDir(root, schemas.TableEvents), "part-0000000000000000.json")
	if err := os.WriteFile(legacy, []byte(`{"event_id":"flat"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := range lakeFiles(t, root) {
		got = append(got, n)
	}
	slices.Sort(got)
	name := func(dir, prefix string, evs ...schemas.Event) string {
		var data []byte
		for _, e := range evs {
			line, _ := json.Marshal(e)
			data = append(append(data, line...), '\n')
		}
		return dir + "/" + prefix + files.ContentName(data) + ".json"
	}
	want := []string{
		name("dt=2026-11-01/hr=10", "backfill-", ev("b10", 0)),
		"dt=2026-11-01/hr=10/_manifest",
		name("dt=2026-11-01/hr=11", "part-", ev("s11", 1)),
		"part-0000000000000000.json",
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"b10", "flat", "s11"}, liveIDs(t, root)); diff != "" {
		t.Errorf("live rows (-want +got):\n%s", diff)
	}
	live, err := LiveFiles(context.Background(), root, schemas.TableEvents)
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 3 {
		t.Errorf("LiveFiles = %v, want 3 files", live)
	}
}
