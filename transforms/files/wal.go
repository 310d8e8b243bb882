package files

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// ArchiveFormat is the version of the archive lines the WAL writes. Format 1 (lines without a
// "format" field) is what WriteArchive writes; ReadArchiveFile reads both.
const ArchiveFormat = 2

// walPrefix starts every WAL file's name, so readers can tell them from WriteArchive's windowed
// files in the same folders.
const walPrefix = "wal-"

// WALConfig configures a WAL: the archive written by the reading source itself, one file per
// publish-time hour per call of WAL.Write, before the source acknowledges anything it holds.
type WALConfig struct {
	// Directory is the output root, a local directory or gs://bucket/path; files go under
	// Directory/archive/dt=YYYY-MM-DD/hr=HH/, the hour of each message's publish time (UTC).
	Directory string
	// RunID goes into file names, so the files of successive jobs are told apart (see
	// Config.RunID). Letters, digits, '.' and '_' only; empty leaves it out.
	RunID string
	// GzipLevel is the compression level (0 means gzip.DefaultCompression, 6).
	GzipLevel int
}

// Enabled reports whether the WAL is configured (Directory set).
func (c WALConfig) Enabled() bool { return c.Directory != "" }

// Validate reports the first invalid field.
func (c WALConfig) Validate() error {
	switch {
	case c.RunID != "" && !validRunID.MatchString(c.RunID):
		return fmt.Errorf("files.WAL: RunID %q may hold only letters, digits, '.' and '_'", c.RunID)
	case c.GzipLevel < gzip.HuffmanOnly || c.GzipLevel > gzip.BestCompression:
		return fmt.Errorf("files.WAL: GzipLevel %d is not within [%d, %d]", c.GzipLevel, gzip.HuffmanOnly, gzip.BestCompression)
	}
	return nil
}

// WAL writes batches of messages durably to the archive. Open one per DoFn instance (in Setup)
// and close it in Teardown. Its metrics are archive.out (messages in files), archive.files,
// archive.bytes and archive.existing_identical (files a retry found already written).
type WAL struct {
	cfg      WALConfig
	store    *Store
	out      telemetry.Counter
	files    telemetry.Counter
	bytes    telemetry.Counter
	existing telemetry.Counter
}

// OpenWAL opens the archive store of cfg.Directory.
func OpenWAL(ctx context.Context, cfg WALConfig) (*WAL, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := OpenStore(ctx, ArchivePrefix(cfg.Directory))
	if err != nil {
		return nil, fmt.Errorf("opening the archive: %w", err)
	}
	return &WAL{cfg: cfg, store: st,
		out:      telemetry.NewCounter(ArchiveMetrics + ".out"),
		files:    telemetry.NewCounter(ArchiveMetrics + ".files"),
		bytes:    telemetry.NewCounter(ArchiveMetrics + ".bytes"),
		existing: telemetry.NewCounter(ArchiveMetrics + ".existing_identical"),
	}, nil
}

// Close releases the store's client.
func (w *WAL) Close() error { return w.store.Close() }

// Write archives msgs: one file per publish-time hour, each closed and synced (locally, with its
// directory) or a finished object (Cloud Storage) when Write returns nil. A file's name is a hash
// of its bytes, so writing the same batch again (a retry) finds the same file and leaves it. An
// error means some of msgs may not be archived: the caller must not acknowledge any of them.
func (w *WAL) Write(ctx context.Context, msgs []schemas.Message) error {
	for _, part := range walPartitions(msgs) {
		data, err := encodeWALFile(part, w.cfg.GzipLevel)
		if err != nil {
			return err
		}
		loc := Join(ArchivePrefix(w.cfg.Directory), walName(part[0].PublishTime, w.cfg.RunID, data))
		existing, err := w.store.Create(ctx, loc, data)
		if err != nil {
			return fmt.Errorf("archiving %d messages: %w", len(part), err)
		}
		if existing {
			w.existing.Inc(ctx, 1)
			continue
		}
		w.out.Inc(ctx, int64(len(part)))
		w.files.Inc(ctx, 1)
		w.bytes.Inc(ctx, int64(len(data)))
	}
	return nil
}

// walPartitions groups msgs by the UTC hour of their publish time, oldest hour first, keeping
// their order within an hour.
func walPartitions(msgs []schemas.Message) [][]schemas.Message {
	byHour := map[int64][]schemas.Message{}
	for _, m := range msgs {
		h := m.PublishTime.UTC().Truncate(time.Hour).Unix()
		byHour[h] = append(byHour[h], m)
	}
	hours := make([]int64, 0, len(byHour))
	for h := range byHour {
		hours = append(hours, h)
	}
	slices.Sort(hours)
	out := make([][]schemas.Message, len(hours))
	for i, h := range hours {
		out[i] = byHour[h]
	}
	return out
}

// walName is dt=YYYY-MM-DD/hr=HH/wal-<hour>[-<run>]-<hash>.jsonl.gz: the folders and <hour>
// are the publish-time hour, <hash> is ContentName of the file's bytes.
func walName(publish time.Time, run string, data []byte) string {
	h := publish.UTC().Truncate(time.Hour)
	name := walPrefix + h.Format(timeLayout)
	if run != "" {
		name += "-" + run
	}
	return h.Format("dt=2006-01-02") + "/" + h.Format("hr=15") + "/" + name + "-" + ContentName(data) + DefaultSuffix
}

// archiveRecord is one archive line of format 2: the message as received, with the source's
// marks, and the format version.
type archiveRecord struct {
	schemas.Message
	Format int `json:"format"`
}

func encodeWALFile(msgs []schemas.Message, level int) ([]byte, error) {
	if level == 0 {
		level = gzip.DefaultCompression
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, level)
	if err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	enc := json.NewEncoder(zw) // one line per message: Encode ends each with a newline
	enc.SetEscapeHTML(false)
	for _, m := range msgs {
		if err := enc.Encode(archiveRecord{Message: m, Format: ArchiveFormat}); err != nil {
			return nil, fmt.Errorf("archive: encoding message %s: %w", m.MessageID, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("archive: %w", err)
	}
	return buf.Bytes(), nil
}

// ArchiveRecord is one decoded archive line.
type ArchiveRecord struct {
	schemas.Message
	// Format is the line's format: 1 for lines without a "format" field (WriteArchive's), 2 for
	// the WAL's.
	Format int
}

// ReadArchiveRecords decodes one archive file of either format, with each line's format.
func ReadArchiveRecords(data []byte) ([]ArchiveRecord, error) {
	var out []ArchiveRecord
	err := ScanArchive(bytes.NewReader(data), func(r ArchiveRecord) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

var errUnknownFormat = errors.New("unknown archive format")
