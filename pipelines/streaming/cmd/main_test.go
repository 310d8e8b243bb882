package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// launcher builds this command once per test binary and returns its path.
func launcher(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tributary-streaming-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "streaming")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = err
			binary = string(out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building the launcher: %v\n%s", buildErr, binary)
	}
	return binary
}

// launch runs the launcher with args and no application default credentials (a credentials
// file that does not exist, an empty HOME), so nothing it does can reach Google's APIs.
func launch(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(launcher(t), args...)
	home := t.TempDir()
	cmd.Dir = home
	cmd.Env = append(slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOOGLE_") || strings.HasPrefix(kv, "HOME=") || strings.HasPrefix(kv, "CLOUDSDK_")
	}), "GOOGLE_APPLICATION_CREDENTIALS="+filepath.Join(home, "no-credentials.json"), "HOME="+home,
		"CLOUDSDK_CONFIG="+filepath.Join(home, "gcloud"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// logMessages returns the msg of every slog line in stderr, unquoted.
func logMessages(t *testing.T, stderr string) []string {
	t.Helper()
	var msgs []string
	for _, line := range strings.Split(stderr, "\n") {
		_, rest, ok := strings.Cut(line, " msg=")
		if !ok {
			continue
		}
		if q, err := strconv.QuotedPrefix(rest); err == nil {
			msg, _ := strconv.Unquote(q)
			msgs = append(msgs, msg)
		} else {
			msgs = append(msgs, strings.SplitN(rest, " ", 2)[0])
		}
	}
	return msgs
}

var dataflowDryRun = []string{"--runner=dataflow", "--dry_run", "--project=tributary-test", "--region=europe-west1",
	"--staging_location=gs://tributary-test-staging/staging", "--inputSubscription=projects/tributary-test/subscriptions/events",
	"--outputDirectory=gs://tributary-test-lake/tributary"}

// dryRunJob is the part of the v1b3 Job JSON the test checks.
type dryRunJob struct {
	Type        string `json:"type"`
	Environment struct {
		Experiments        []string `json:"experiments"`
		SdkPipelineOptions struct {
			Options struct {
				Region       string   `json:"region"`
				TempLocation string   `json:"tempLocation"`
				Experiments  []string `json:"experiments"`
			} `json:"options"`
			GoOptions struct {
				Options map[string]string `json:"options"`
			} `json:"beam:option:go_options:v1"`
		} `json:"sdkPipelineOptions"`
	} `json:"environment"`
	Steps []json.RawMessage `json:"steps"`
}

// TestDataflowDryRun translates the job for Dataflow offline (--dry_run) for each source and
// each sink mode, and checks what the Dataflow runner logs: the pipeline proto (unique names,
// the source's URN and payload, the sinks) and the Job JSON (a streaming job on the Streaming
// Engine with the options). With no reference flags it must say the sample data is used, skip
// the network pre-flight with one line, and print no summary.
func TestDataflowDryRun(t *testing.T) {
	sink := regexp.MustCompile(`^(deadletter\.Route/table/)?bigquery\.(Write|WriteFiles)('\d+)?/bigquery\.(writeFn|filesWriteFn)$`)
	for _, source := range []string{"portable", "native"} {
		for _, sinkMode := range []string{"files", "bigquery"} {
			t.Run(source+"/"+sinkMode, func(t *testing.T) {
				args := append(slices.Clone(dataflowDryRun), "--pubsubSource="+source)
				wantSink, wantSinkName := "bigquery.filesWriteFn", "WriteFiles"
				if sinkMode == "bigquery" {
					args = append(args, "--outputDataset=tributary-test:analytics")
					wantSink, wantSinkName = "bigquery.writeFn", "Write"
				}
				stdout, stderr, code := launch(t, args...)
				if code != 0 {
					t.Fatalf("exit %d:\n%s", code, stderr)
				}
				if stdout != "" {
					t.Errorf("a dry run printed %q on stdout, want no summary", stdout)
				}
				var pipeline *pipepb.Pipeline
				var job *dryRunJob
				var skipped, samples int
				for _, msg := range logMessages(t, stderr) {
					switch {
					case strings.HasPrefix(msg, "components:"):
						pipeline = &pipepb.Pipeline{}
						if err := prototext.Unmarshal([]byte(msg), pipeline); err != nil {
							t.Fatalf("pipeline proto: %v", err)
						}
					case strings.HasPrefix(msg, "{"):
						job = &dryRunJob{}
						if err := json.Unmarshal([]byte(msg), job); err != nil {
							t.Fatalf("Job JSON: %v", err)
						}
					case strings.HasPrefix(msg, "dry run: skipping the start-up checks"):
						skipped++
					case strings.Contains(msg, "is the sample data embedded in the binary"):
						samples++
					}
				}
				if pipeline == nil || job == nil {
					t.Fatalf("no pipeline proto or Job JSON in the log:\n%s", stderr)
				}
				if skipped != 1 || samples != 2 {
					t.Errorf("log has %d dry-run skip lines and %d sample-data lines, want 1 and 2", skipped, samples)
				}

				names := map[string]bool{}
				var sources, sinks []string
				for _, tr := range pipeline.GetComponents().GetTransforms() {
					name, urn := tr.GetUniqueName(), tr.GetSpec().GetUrn()
					if names[name] {
						t.Errorf("unique name %q twice", name)
					}
					names[name] = true
					switch {
					case urn == "beam:transform:pubsub_read:v1":
						sources = append(sources, name+" "+urn)
						var p pipepb.PubSubReadPayload
						if err := proto.Unmarshal(tr.GetSpec().GetPayload(), &p); err != nil {
							t.Fatal(err)
						}
						if p.GetSubscription() != "projects/tributary-test/subscriptions/events" || p.GetTimestampAttribute() != "event_time" || !p.GetWithAttributes() {
							t.Errorf("native source payload = %v, want the subscription, timestamp attribute event_time and attributes", &p)
						}
					case name == "pubsub.Read/pubsub.readFn" && urn == "beam:transform:pardo:v1":
						var pd pipepb.ParDoPayload
						if err := proto.Unmarshal(tr.GetSpec().GetPayload(), &pd); err != nil {
							t.Fatal(err)
						}
						if pd.GetRestrictionCoderId() == "" {
							t.Error("the portable source is not splittable in the proto")
						}
						// The Go SDK's DoFn payload is base64 text of a proto holding the DoFn's JSON.
						fn, err := base64.StdEncoding.DecodeString(string(pd.GetDoFn().GetPayload()))
						if err != nil {
							t.Fatal(err)
						}
						if !bytes.Contains(fn, []byte(`"TimestampAttribute":"event_time"`)) {
							t.Error("the portable source's DoFn does not carry the timestamp attribute")
						}
						if !bytes.Contains(fn, []byte(`"NumReaders":4`)) {
							t.Error("the portable source's DoFn does not carry 4 readers, the default on Dataflow")
						}
						sources = append(sources, name+" "+urn)
					case sink.MatchString(name) && urn == "beam:transform:pardo:v1":
						if !strings.HasSuffix(name, "/"+wantSink) || !strings.Contains(name, "bigquery."+wantSinkName) {
							t.Errorf("sink %s in %s mode", name, sinkMode)
						}
						sinks = append(sinks, name)
					}
				}
				wantSource := []string{"pubsub.Read/pubsub.readFn beam:transform:pardo:v1"}
				if source == "native" {
					wantSource = []string{"pubsub.ReadNative/External beam:transform:pubsub_read:v1"}
				}
				if diff := cmp.Diff(wantSource, sources); diff != "" {
					t.Errorf("source (-want +got):\n%s", diff)
				}
				if len(sinks) != 6 {
					t.Errorf("%d table sinks, want 6 (five tables and dead_letters): %v", len(sinks), sinks)
				}
				// The portable source is the archive's writer (its write-ahead log, inside
				// pubsub.readFn); behind the native source, which acks by itself, it is a
				// downstream windowed write.
				if got, want := names["files.WriteArchive/files.Write/files.writeFn"], source == "native"; got != want {
					t.Errorf("windowed archive writer in the proto: %v, want %v", got, want)
				}
				// The portable source's readers: one element each, reshuffled over the workers.
				if got, want := names["pubsub.Read/pubsub.readerKeysFn"], source == "portable"; got != want {
					t.Errorf("reader fan-out in the proto: %v, want %v", got, want)
				}

				if job.Type != "JOB_TYPE_STREAMING" {
					t.Errorf("job type %q, want JOB_TYPE_STREAMING", job.Type)
				}
				for _, e := range []string{"enable_streaming_engine", "enable_windmill_service", "use_runner_v2"} {
					if !slices.Contains(job.Environment.Experiments, e) || !slices.Contains(job.Environment.SdkPipelineOptions.Options.Experiments, e) {
						t.Errorf("experiment %s missing from %v", e, job.Environment.Experiments)
					}
				}
				opts := job.Environment.SdkPipelineOptions
				if opts.Options.Region != "europe-west1" || opts.Options.TempLocation != "gs://tributary-test-staging/staging/tmp" {
					t.Errorf("options region %q, temp location %q", opts.Options.Region, opts.Options.TempLocation)
				}
				for flag, want := range map[string]string{"pubsubSource": source, "inputSubscription": "projects/tributary-test/subscriptions/events",
					"outputDirectory": "gs://tributary-test-lake/tributary"} {
					if got := opts.GoOptions.Options[flag]; got != want {
						t.Errorf("Job JSON option %s = %q, want %q", flag, got, want)
					}
				}
				if len(job.Steps) != 0 {
					t.Logf("steps is not empty (%d): Dataflow translates portable jobs server-side", len(job.Steps))
				}
			})
		}
	}
}

// TestLaunchRefusals checks what cannot work where the job runs is refused at launch, naming
// the flag, before anything is built.
func TestLaunchRefusals(t *testing.T) {
	dataflow := dataflowDryRun[:5]
	for _, tc := range []struct {
		name string
		args []string
		flag string
	}{
		{"local mode on dataflow", append(slices.Clone(dataflow), "--outputDirectory=gs://b/out"), "--inputSubscription"},
		{"native off dataflow", []string{"--inputSubscription=projects/p/subscriptions/s", "--pubsubSource=native"}, "--pubsubSource"},
		{"native in local mode", append(slices.Clone(dataflow), "--pubsubSource=native"), "--inputSubscription"},
		{"local catalog on dataflow", append(slices.Clone(dataflowDryRun), "--productCatalog=internal/sample/data/products.csv"), "--productCatalog"},
		{"local rates on dataflow", append(slices.Clone(dataflowDryRun), "--currencyRates=/srv/rates.csv"), "--currencyRates"},
		{"local token key on dataflow", append(slices.Clone(dataflowDryRun), "--tokenizeUserIds", "--tokenKeyFile=key.bin"), "--tokenKeyFile"},
		{"default output directory on dataflow", dataflowDryRun[:6], "--outputDirectory"},
		{"relative temp directory on dataflow", append(slices.Clone(dataflowDryRun), "--tempDirectory=spill"), "--tempDirectory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := launch(t, tc.args...)
			if code != 2 || !strings.Contains(stderr, "invalid "+tc.flag+":") {
				t.Errorf("exit %d, stderr:\n%s\nwant exit 2 naming %s", code, stderr, tc.flag)
			}
		})
	}
}
