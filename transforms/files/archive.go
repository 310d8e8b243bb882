package files

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn3x1[context.Context, beam.Window, schemas.Message, error](&archiveFn{})
}

// DefaultArchiveWindow is the archive's partition: one folder per hour.
const DefaultArchiveWindow = time.Hour

// ArchiveConfig configures WriteArchive.
type ArchiveConfig struct {
	// Directory is the output root; files go under Directory/archive/dt=YYYY-MM-DD/hr=HH/.
	Directory string
	// Window is the fixed window that partitions the archive (default 1h).
	Window time.Duration
}

// WriteArchive writes every message as received, one JSON line each (the archive line format of
// the design), gzip-compressed, into hourly folders by element timestamp. Each bundle writes one
// file per window, named after its window and content, atomically. It assigns windows without
// grouping, so no message can be dropped as late.
//
// WriteArchive: PCollection<schemas.Message> -> files
func WriteArchive(s beam.Scope, msgs beam.PCollection, cfg ArchiveConfig) {
	s = s.Scope("files.WriteArchive")
	if cfg.Window <= 0 {
		cfg.Window = DefaultArchiveWindow
	}
	windowed := beam.WindowInto(s, window.NewFixedWindows(cfg.Window), msgs)
	beam.ParDo0(s, &archiveFn{Directory: cfg.Directory}, windowed)
}

type archiveFn struct {
	Directory string

	pending map[window.IntervalWindow][]schemas.Message
	out     telemetry.Counter
	files   telemetry.Counter
}

func (fn *archiveFn) Setup() {
	fn.out = telemetry.NewCounter("archive.out")
	fn.files = telemetry.NewCounter("archive.files")
}

func (fn *archiveFn) StartBundle(context.Context) {
	fn.pending = map[window.IntervalWindow][]schemas.Message{}
}

func (fn *archiveFn) ProcessElement(ctx context.Context, w beam.Window, m schemas.Message) error {
	iw, ok := w.(window.IntervalWindow)
	if !ok {
		return fmt.Errorf("archive: message %s is in a %T, want an interval window", m.MessageID, w)
	}
	fn.pending[iw] = append(fn.pending[iw], m)
	return nil
}

func (fn *archiveFn) FinishBundle(ctx context.Context) error {
	for w, msgs := range fn.pending {
		// Sorted so that a retried bundle with the same messages writes the same bytes and name.
		slices.SortFunc(msgs, func(a, b schemas.Message) int { return strings.Compare(a.MessageID, b.MessageID) })
		data, err := encodeArchive(msgs)
		if err != nil {
			return err
		}
		path := filepath.Join(fn.Directory, ArchivePath(w.Start, w.End, ContentName(data)))
		if err := WriteAtomic(path, data); err != nil {
			return fmt.Errorf("archive: %w", err)
		}
		fn.out.Inc(ctx, int64(len(msgs)))
		fn.files.Inc(ctx, 1)
	}
	return nil
}

// ArchivePath is the archive file for a window, relative to the output root:
// archive/dt=YYYY-MM-DD/hr=HH/<start>-<end>-<tag>.jsonl.gz (times in UTC, compact ISO 8601).
func ArchivePath(start, end mtime.Time, tag string) string {
	s, e := start.ToTime().UTC(), end.ToTime().UTC()
	return filepath.Join("archive", s.Format("dt=2006-01-02"), s.Format("hr=15"),
		fmt.Sprintf("%s-%s-%s.jsonl.gz", s.Format("20060102T150405Z"), e.Format("20060102T150405Z"), tag))
}

func encodeArchive(msgs []schemas.Message) ([]byte, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	enc := json.NewEncoder(zw)
	for _, m := range msgs {
		if err := enc.Encode(m); err != nil {
			return nil, fmt.Errorf("archive: encoding message %s: %w", m.MessageID, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("archive: compressing: %w", err)
	}
	return buf.Bytes(), nil
}

// ReadArchiveFile decodes one archive file (for tests and tools).
func ReadArchiveFile(data []byte) ([]schemas.Message, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("opening archive file: %w", err)
	}
	dec := json.NewDecoder(zr)
	var out []schemas.Message
	for dec.More() {
		var m schemas.Message
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("decoding archive line %d: %w", len(out)+1, err)
		}
		out = append(out, m)
	}
	return out, nil
}
