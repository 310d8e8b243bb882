package files

import (
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

// Hourly gzipped JSON lines in eight shards per hour on Cloud Storage; late lines up to a day
// after their hour go into additional files, batched per minute.
func ExampleWrite() {
	p, s := beam.NewPipelineWithRoot()
	lines := beam.Create(s, []byte(`{"event_id":"e1"}`), []byte(`{"event_id":"e2"}`)) // any PCollection<[]byte>
	Write(s, lines, Config{
		Prefix:          "gs://my-bucket/events",
		NumShards:       8,
		AllowedLateness: 24 * time.Hour,
		LateFiringDelay: time.Minute,
		TempDirectory:   "/tmp/tributary",
	})
	_ = p
}
