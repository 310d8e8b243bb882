package bigquery

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/teststream"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

func init() { beam.RegisterType(reflect.TypeOf((*failingRow)(nil)).Elem()) }

// failingRow is a row whose encoding fails: a file write that cannot finish.
type failingRow struct{ ID string }

func (failingRow) MarshalJSON() ([]byte, error) { return nil, errors.New("this row cannot be encoded") }

// TestWriteFilesCommitsAfterEveryFile runs backfill generations on Prism over a table the
// streaming job wrote (hours 10 to 13), for [11:00, 13:00): bounded, and as a test stream
// whose rows of one hour come in two batches with the watermark moved between them (the
// unbounded read that finishes, as the backfill's paced replay). The manifests must list the
// files of both batches, and of every bundle (no backfill file of the range left unlisted):
// the commit ran after the last file was written. A write that fails commits nothing.
func TestWriteFilesCommitsAfterEveryFile(t *testing.T) {
	rng := Range{From: lakeT0.Add(time.Hour), To: lakeT0.Add(3 * time.Hour)}
	first := []schemas.Event{ev("b11a", 1), ev("b11b", 1), ev("b13x", 3)}
	second := []schemas.Event{ev("b11c", 1), ev("b11d", 1)}
	cases := []struct {
		name    string
		rows    func(s beam.Scope) beam.PCollection
		want    []string // live ids; nil: the run fails
		wantOut int64    // events.outside_range
	}{
		{"bounded", func(s beam.Scope) beam.PCollection {
			return beamtest.Events(s, append(slices.Clone(first), second...))
		}, []string{"b11a", "b11b", "b11c", "b11d", "s10a", "s13a"}, 1},
		{"unbounded, finishing", func(s beam.Scope) beam.PCollection {
			return teststream.Create(s, beamtest.Stream(t, []beamtest.Step{
				beamtest.Add(first...), beamtest.Watermark(lakeT0.Add(4 * time.Hour)), beamtest.Add(second...),
			}))
		}, []string{"b11a", "b11b", "b11c", "b11d", "s10a", "s13a"}, 1},
		{"a failed write", func(s beam.Scope) beam.PCollection {
			return beam.CreateList(s, []failingRow{{"x"}})
		}, nil, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeEvents(t, root, nil, "", []schemas.Event{ev("s10a", 0), ev("s11a", 1), ev("s12a", 2), ev("s13a", 3)})
			p, s := beam.NewPipelineWithRoot()
			manifests := WriteFiles(s, tc.rows(s), FilesConfig{Directory: root, Table: schemas.TableEvents, RunID: "r1", Replace: &rng})
			beamtest.Collect(s, t.Name(), manifests)
			got, counters, err := beamtest.Run[string](t, p, t.Name(), strings.Compare)
			if tc.want == nil {
				if err == nil {
					t.Fatal("the run succeeded, want it to fail")
				}
				for n := range lakeFiles(t, root) {
					if strings.HasSuffix(n, "/_manifest") {
						t.Errorf("manifest %s written by a failed run", n)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := []string{files.Join(HourDir(root, schemas.TableEvents, rng.From), ManifestName(1)),
				files.Join(HourDir(root, schemas.TableEvents, rng.From.Add(time.Hour)), ManifestName(1))}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("manifests emitted (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.want, liveIDs(t, root)); diff != "" {
				t.Errorf("live rows (-want +got):\n%s", diff)
			}
			if counters["events.outside_range"] != tc.wantOut {
				t.Errorf("events.outside_range = %d, want %d", counters["events.outside_range"], tc.wantOut)
			}
			checkEveryFileListed(t, root, rng)
		})
	}
}

// checkEveryFileListed fails unless each hour of rng has a manifest listing exactly the data
// files of its folder (the commit deleted the rest, and missed none of the generation's).
func checkEveryFileListed(t *testing.T, root string, rng Range) {
	t.Helper()
	ctx, st := context.Background(), openStore(t, root)
	for _, h := range rng.Hours() {
		dir := HourDir(root, schemas.TableEvents, h)
		names, err := st.ListTree(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		m, err := readManifest(ctx, st, files.Join(dir, ManifestName(1)))
		if err != nil {
			t.Fatalf("hour %s: %v", HourFolder(h), err)
		}
		present := slices.DeleteFunc(names, func(n string) bool { return n == ManifestName(1) })
		if diff := cmp.Diff(present, m.Files); diff != "" {
			t.Errorf("hour %s: files (-present +listed):\n%s", HourFolder(h), diff)
		}
		if m.RunID != "r1" || !m.From.Equal(rng.From) || !m.To.Equal(rng.To) || !m.Hour.Equal(h) {
			t.Errorf("hour %s: manifest %+v", HourFolder(h), m)
		}
	}
}
