package archive

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/pubsub"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	beam.RegisterType(reflect.TypeOf((*File)(nil)).Elem())
	register.DoFn3x1[context.Context, []byte, func(File), error](&listFn{})
	register.DoFn4x1[context.Context, File, func(beam.EventTime, schemas.Message), func(beam.EventTime, schemas.DeadLetter), error](&readFileFn{})
	register.Emitter1[File]()
	register.Emitter2[beam.EventTime, schemas.Message]()
	register.Emitter2[beam.EventTime, schemas.DeadLetter]()
}

// Metrics of the reader (under telemetry's namespace).
const (
	MetricPartitions       = "archive_read.partitions"       // partitions listed
	MetricFiles            = "archive_read.files"            // files read to the end
	MetricMessages         = "archive_read.messages"         // messages emitted
	MetricUnreadableFiles  = "archive_read.unreadable_files" // files that became dead letters
	MetricNoTimestamp      = "archive_read.no_timestamp"     // messages without the timestamp attribute
	MetricInvalidTimestamp = "archive_read.invalid_timestamp"
	MetricBehindWatermark  = "archive_read.behind_watermark" // paced: messages behind the reader's watermark
	MetricNoPublishTime    = "archive_read.no_publish_time"  // lines without a publish time: dead letters
)

// File is one archive file to read, with the partition it was listed in.
type File struct {
	Location  string
	Partition string
}

// fileReader reads archive files from a store and stamps their messages.
type fileReader struct {
	store                                    *files.Store
	files, messages, unreadable              telemetry.Counter
	noTimestamp, invalidTimestamp, partition telemetry.Counter
	noPublish                                telemetry.Counter
}

func openReader(ctx context.Context, directory string) (*fileReader, error) {
	st, err := files.OpenStore(ctx, files.ArchivePrefix(directory))
	if err != nil {
		return nil, fmt.Errorf("archive.Read: opening the archive: %w", err)
	}
	return &fileReader{store: st,
		files:            telemetry.NewCounter(MetricFiles),
		messages:         telemetry.NewCounter(MetricMessages),
		unreadable:       telemetry.NewCounter(MetricUnreadableFiles),
		noTimestamp:      telemetry.NewCounter(MetricNoTimestamp),
		invalidTimestamp: telemetry.NewCounter(MetricInvalidTimestamp),
		partition:        telemetry.NewCounter(MetricPartitions),
		noPublish:        telemetry.NewCounter(MetricNoPublishTime),
	}, nil
}

func (r *fileReader) close() error {
	if r == nil {
		return nil
	}
	return r.store.Close()
}

// list returns the files of partition p. A listing that fails is an error (the bundle is
// retried): skipping a partition would lose it silently.
func (r *fileReader) list(ctx context.Context, directory, p string) ([]File, error) {
	objs, err := r.store.List(ctx, archiveDir(directory, p))
	if err != nil {
		return nil, fmt.Errorf("archive.Read: %w", err)
	}
	r.partition.Inc(ctx, 1)
	out := make([]File, len(objs))
	for i, o := range objs {
		out[i] = File{Location: o.Location, Partition: p}
	}
	return out, nil
}

// read passes every message of f to emit, stamped by cfg's attribute rule, and a line without a
// publish time to dead (see noPublishTime). A file that cannot be opened or decoded is returned
// as a dead letter (the messages before the fault have been emitted); only a cancelled context
// is an error.
func (r *fileReader) read(ctx context.Context, cfg ReadConfig, f File, emit func(time.Time, schemas.Message), dead func(schemas.DeadLetter)) (*schemas.DeadLetter, error) {
	n, line := 0, 0
	err := r.scan(ctx, f.Location, func(rec files.ArchiveRecord) error {
		line++
		if rec.PublishTime.IsZero() {
			dead(r.noPublishTime(ctx, f, line, rec.Message))
			return nil
		}
		ts, m := r.stamp(ctx, cfg, rec.Message)
		emit(ts, m)
		n++
		return nil
	})
	r.messages.Inc(ctx, int64(n))
	if err == nil {
		r.files.Inc(ctx, 1)
		return nil, nil
	}
	if ctx.Err() != nil {
		return nil, err
	}
	r.unreadable.Inc(ctx, 1)
	start, _ := partitionStart(f.Partition)
	d := deadletter.FromMessage(ctx, Step, ReasonUnreadableFile, schemas.Message{
		Data:        []byte(f.Location),
		Attributes:  map[string]string{AttrFile: f.Location},
		PublishTime: start,
	}, fmt.Errorf("archive file %s (%d messages read before the fault): %w", f.Location, n, err))
	return &d, nil
}

// noPublishTime is the dead letter of an archived message without a publish time, which only a
// hand-made or damaged line can be (both writers record the time Pub/Sub gives every message).
// Replaying it would judge its timestamp attribute against a made-up time and put it in the lake
// at dt=0001-01-01, outside every range; so it becomes a dead letter (reason no_publish_time,
// its payload and attributes kept, archive_file naming the file) with its partition's start hour
// as publish time, counted in archive_read.no_publish_time.
func (r *fileReader) noPublishTime(ctx context.Context, f File, line int, m schemas.Message) schemas.DeadLetter {
	r.noPublish.Inc(ctx, 1)
	attrs := make(map[string]string, len(m.Attributes)+1)
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	attrs[AttrFile] = f.Location
	m.Attributes = attrs
	m.PublishTime, _ = partitionStart(f.Partition)
	return deadletter.FromMessage(ctx, Step, ReasonNoPublishTime, m,
		fmt.Errorf("archive file %s line %d: the message has no publish_time", f.Location, line))
}

func (r *fileReader) scan(ctx context.Context, loc string, fn func(files.ArchiveRecord) error) error {
	rc, err := r.store.Open(ctx, loc)
	if err != nil {
		return err
	}
	defer rc.Close()
	return files.ScanArchive(rc, fn)
}

// stamp gives m the timestamp and TimestampError the streaming source gives it, and drops the
// archived BehindWatermark mark (the replay judges lateness by its own watermark).
func (r *fileReader) stamp(ctx context.Context, cfg ReadConfig, m schemas.Message) (time.Time, schemas.Message) {
	ts, why := pubsub.Timestamp(m, cfg.TimestampAttribute, cfg.MaxTimestampSkew, cfg.MaxTimestampAge)
	m.TimestampError = why
	m.BehindWatermark = time.Time{}
	switch _, ok := m.Attributes[cfg.TimestampAttribute]; {
	case why != "":
		r.invalidTimestamp.Inc(ctx, 1)
	case cfg.TimestampAttribute != "" && !ok:
		r.noTimestamp.Inc(ctx, 1)
	}
	return ts, m
}

// listFn (batch) lists the partitions and emits one element per file.
type listFn struct {
	Directory  string
	Partitions []string

	reader *fileReader
}

func (fn *listFn) Setup(ctx context.Context) (err error) {
	fn.reader, err = openReader(ctx, fn.Directory)
	return err
}

func (fn *listFn) Teardown() error { return fn.reader.close() }

func (fn *listFn) ProcessElement(ctx context.Context, _ []byte, emit func(File)) error {
	for _, p := range fn.Partitions {
		fs, err := fn.reader.list(ctx, fn.Directory, p)
		if err != nil {
			return err
		}
		for _, f := range fs {
			emit(f)
		}
	}
	return nil
}

// readFileFn (batch) reads one file per element.
type readFileFn struct {
	ReadConfig

	reader *fileReader
}

func (fn *readFileFn) Setup(ctx context.Context) (err error) {
	fn.reader, err = openReader(ctx, fn.Directory)
	return err
}

func (fn *readFileFn) Teardown() error { return fn.reader.close() }

func (fn *readFileFn) ProcessElement(ctx context.Context, f File,
	emit func(beam.EventTime, schemas.Message), emitDead func(beam.EventTime, schemas.DeadLetter)) error {
	d, err := fn.reader.read(ctx, fn.ReadConfig, f, func(ts time.Time, m schemas.Message) {
		emit(beam.EventTime(ts.UnixMilli()), m)
	}, func(d schemas.DeadLetter) { emitDead(beam.EventTime(d.PublishTime.UnixMilli()), d) })
	if err != nil {
		return err
	}
	if d != nil {
		emitDead(beam.EventTime(d.PublishTime.UnixMilli()), *d)
	}
	return nil
}
