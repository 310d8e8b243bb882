package streaming

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/tributary-dev/tributary/internal/beamtest"
)

// TestGoldenUniqueNames pins the unique names of the source and every stateful step (state and
// timers, groupings, combines), as the pipeline proto carries them: Dataflow's in-place update
// (--update) matches running state by these names, so a change needs --transform_name_mapping or
// a drain and relaunch (README, "Updating a running job"). Run with -update-golden after an
// intended change and review the diff.
func TestGoldenUniqueNames(t *testing.T) {
	modes := []struct {
		name string
		set  func(*Options)
	}{
		{"files", func(o *Options) {}},
		{"bigquery", func(o *Options) {
			o.OutputDataset, o.BigQueryEndpoint, o.BigQueryInsecure = bqProject+":"+bqDataset, "localhost:1", true
		}},
	}
	var lines []string
	for _, m := range modes {
		o := defaultOptions(t)
		o.InputSubscription = "projects/tributary-test/subscriptions/events"
		m.set(&o)
		for _, name := range statefulNames(t, o) {
			lines = append(lines, m.name+"\t"+name)
		}
	}
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("..", "..", "testdata", "golden", "unique_names.txt")
	if *updateGolden {
		mustWrite(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update-golden to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(got, "\n")); diff != "" {
		t.Errorf("stateful unique names differ from %s (-want +got):\n%s", path, diff)
	}
}

// statefulNames builds the pipeline and returns, sorted, the unique names of the transforms
// whose ParDo keeps state or timers or is splittable (the Pub/Sub source), and of the
// grouping and combining steps, which hold the windows' state.
func statefulNames(t *testing.T, o Options) []string {
	t.Helper()
	p, s := beam.NewPipelineWithRoot()
	Build(s, Config{Options: o})
	pb := beamtest.PipelineProto(t, p)
	var names []string
	for _, tr := range pb.GetComponents().GetTransforms() {
		switch tr.GetSpec().GetUrn() {
		case "beam:transform:group_by_key:v1", "beam:transform:combine_per_key:v1":
			// Windowed aggregation state lives in these.
			names = append(names, tr.GetUniqueName())
			continue
		case "beam:transform:pardo:v1":
		default:
			continue
		}
		var pd pipepb.ParDoPayload
		if err := proto.Unmarshal(tr.GetSpec().GetPayload(), &pd); err != nil {
			t.Fatalf("%s: %v", tr.GetUniqueName(), err)
		}
		if len(pd.GetStateSpecs()) > 0 || len(pd.GetTimerFamilySpecs()) > 0 || pd.GetRestrictionCoderId() != "" {
			names = append(names, tr.GetUniqueName())
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		t.Fatal("no stateful or splittable transform found")
	}
	return names
}
