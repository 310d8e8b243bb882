package files

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
)

func init() {
	register.Function1x2[schemas.Message, []byte, error](archiveLine)
}

// Archive defaults.
const (
	// DefaultArchiveWindow is the archive's partition: one folder per hour.
	DefaultArchiveWindow = time.Hour
	// DefaultArchiveLateFiringDelay batches late messages into one additional file per
	// window and shard per minute, rather than one per message.
	DefaultArchiveLateFiringDelay = time.Minute
	// ArchiveMetrics is the step name of the archive's metrics (archive.in, archive.out,
	// archive.files, ...; see Config.Name).
	ArchiveMetrics = "archive"
)

// ArchiveConfig configures WriteArchive. Zero fields take the defaults of Write, except where
// noted.
type ArchiveConfig struct {
	// Directory is the output root, a local directory or gs://bucket/path; files go under
	// Directory/archive/dt=YYYY-MM-DD/hr=HH/.
	Directory string
	// Window is the fixed window that partitions the archive (default 1h).
	Window time.Duration
	// NumShards is the number of files per window and pane (default 4).
	NumShards int
	// AllowedLateness is how long after a window's end late messages still go into an
	// additional file of that window (default 24h).
	AllowedLateness time.Duration
	// LateFiringDelay batches late messages (default 1m).
	LateFiringDelay time.Duration
	// TempDirectory holds sort spill files (default os.TempDir()/tributary-files).
	TempDirectory string
	// GzipLevel is the compression level (default 6; 1 is about twice as fast).
	GzipLevel int
	// RunID goes into file names so successive jobs never collide (see Config.RunID).
	RunID string
}

// WriteArchive writes every message as received, one JSON line each (schemas.Message as JSON:
// {"data": base64, "attributes", "publish_time", "message_id"}), into gzipped files per window
// and shard under Directory/archive/, by element timestamp, with Write.
//
// WriteArchive: PCollection<schemas.Message> -> files
func WriteArchive(s beam.Scope, msgs beam.PCollection, cfg ArchiveConfig) {
	s = s.Scope("files.WriteArchive")
	if cfg.Window <= 0 {
		cfg.Window = DefaultArchiveWindow
	}
	if cfg.LateFiringDelay <= 0 {
		cfg.LateFiringDelay = DefaultArchiveLateFiringDelay
	}
	lines := beam.ParDo(s, archiveLine, msgs)
	Write(s, lines, Config{
		Prefix:          ArchivePrefix(cfg.Directory),
		Suffix:          DefaultSuffix,
		Window:          cfg.Window,
		NumShards:       cfg.NumShards,
		AllowedLateness: cfg.AllowedLateness,
		LateFiringDelay: cfg.LateFiringDelay,
		TempDirectory:   cfg.TempDirectory,
		GzipLevel:       cfg.GzipLevel,
		RunID:           cfg.RunID,
		Name:            ArchiveMetrics,
	})
}

// ArchivePrefix is the archive's folder under an output root.
func ArchivePrefix(directory string) string { return Join(directory, "archive") }

func archiveLine(m schemas.Message) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("archive: encoding message %s: %w", m.MessageID, err)
	}
	return b, nil
}

// ReadArchiveFile decodes one archive file of either format (WriteArchive's format 1 or the
// WAL's format 2) into the messages as received, with the source's marks.
func ReadArchiveFile(data []byte) ([]schemas.Message, error) {
	recs, err := ReadArchiveRecords(data)
	if err != nil {
		return nil, err
	}
	out := make([]schemas.Message, len(recs))
	for i, r := range recs {
		out[i] = r.Message
	}
	return out, nil
}
