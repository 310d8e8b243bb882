package archive

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/tributary-dev/tributary/transforms/files"
	"github.com/tributary-dev/tributary/transforms/pubsub"
)

// Dead-letter step and reasons of a file that could not be read and of a line without a
// publish time, and the attribute naming the file.
const (
	Step                 = "archive"
	ReasonUnreadableFile = "unreadable_file"
	ReasonNoPublishTime  = "no_publish_time"
	AttrFile             = "archive_file"
)

// partitionLayout is a partition folder's name, as files.WAL and files.FileName write it.
const partitionLayout = "dt=2006-01-02/hr=15"

// ReadConfig configures Read.
type ReadConfig struct {
	// Directory is the output root the archive was written under; the archive is
	// files.ArchivePrefix(Directory), a local directory or gs://bucket/path/archive.
	Directory string
	// Partitions are the "dt=YYYY-MM-DD/hr=HH" folders to read (any order; duplicates are read
	// once). Only these folders are listed.
	Partitions []string
	// TimestampAttribute, MaxTimestampSkew and MaxTimestampAge are the streaming source's
	// (pubsub.ReadConfig): each message gets the timestamp that source would give it. Zero skew
	// and age take pubsub's defaults, as the source does.
	TimestampAttribute string
	MaxTimestampSkew   time.Duration
	MaxTimestampAge    time.Duration
	// Paced replays partition by partition with a watermark that advances (for Prism); false
	// reads the partitions as one bounded batch (for Dataflow). See the package doc.
	Paced bool
	// Lateness (paced) is how far behind the start of the next unread partition the watermark
	// is held: the archive's lateness, how long after its event time a message may still be
	// published and be read on time.
	Lateness time.Duration
	// PartitionDelay (paced) is how long the reader waits between two partitions, so that slower
	// stages after it can catch up (Prism has no back-pressure). 0: no wait.
	PartitionDelay time.Duration
}

func (c *ReadConfig) withDefaults() {
	if c.MaxTimestampSkew <= 0 {
		c.MaxTimestampSkew = pubsub.DefaultMaxTimestampSkew
	}
	if c.MaxTimestampAge <= 0 {
		c.MaxTimestampAge = pubsub.DefaultMaxTimestampAge
	}
}

// Validate reports the first invalid field.
func (c ReadConfig) Validate() error {
	if c.Directory == "" {
		return errors.New("archive.Read: Directory is empty")
	}
	if len(c.Partitions) == 0 {
		return errors.New("archive.Read: Partitions is empty")
	}
	for i, p := range c.Partitions {
		if _, err := partitionStart(p); err != nil {
			return fmt.Errorf("archive.Read: Partitions[%d] %q is not dt=YYYY-MM-DD/hr=HH", i, p)
		}
	}
	switch {
	case c.MaxTimestampSkew < 0:
		return errors.New("archive.Read: MaxTimestampSkew must be >= 0")
	case c.MaxTimestampAge < 0:
		return errors.New("archive.Read: MaxTimestampAge must be >= 0")
	case c.Lateness < 0:
		return errors.New("archive.Read: Lateness must be >= 0")
	case c.PartitionDelay < 0:
		return errors.New("archive.Read: PartitionDelay must be >= 0")
	case !c.Paced && (c.Lateness > 0 || c.PartitionDelay > 0):
		return errors.New("archive.Read: Lateness and PartitionDelay apply only when Paced is set")
	}
	return nil
}

// partitionStart parses a partition folder's name into its hour.
func partitionStart(p string) (time.Time, error) {
	t, err := time.Parse(partitionLayout, p)
	if err != nil || t.Format(partitionLayout) != p {
		return time.Time{}, fmt.Errorf("partition %q is not dt=YYYY-MM-DD/hr=HH", p)
	}
	return t, nil
}

// sortedPartitions returns ps sorted by hour without duplicates.
func sortedPartitions(ps []string) []string {
	out := slices.Clone(ps)
	slices.Sort(out) // the layout sorts as its hour does
	return slices.Compact(out)
}

// Result is what Read emits.
type Result struct {
	// Messages are the archived messages, each at the timestamp the streaming source would give
	// it, with TimestampError set as it would set it (PCollection<schemas.Message>).
	Messages beam.PCollection
	// DeadLetters are the files that could not be read, one each (PCollection<schemas.DeadLetter>).
	DeadLetters beam.PCollection
}

// Read reads the archive's selected partitions, paced or as a batch (see the package doc). It
// panics if cfg is invalid.
//
// Read: () -> PCollection<schemas.Message>, PCollection<schemas.DeadLetter>
func Read(s beam.Scope, cfg ReadConfig) Result {
	s = s.Scope("archive.Read")
	cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	cfg.Partitions = sortedPartitions(cfg.Partitions)
	if cfg.Paced {
		msgs, dead := beam.ParDo2(s, &pacedFn{ReadConfig: cfg}, beam.Impulse(s))
		return Result{Messages: msgs, DeadLetters: dead}
	}
	list := beam.ParDo(s, &listFn{Directory: cfg.Directory, Partitions: cfg.Partitions}, beam.Impulse(s))
	list = beam.Reshuffle(s, list)
	msgs, dead := beam.ParDo2(s, &readFileFn{ReadConfig: cfg}, list)
	return Result{Messages: msgs, DeadLetters: dead}
}

// archiveDir is the folder of partition p.
func archiveDir(directory, p string) string {
	return files.Join(files.ArchivePrefix(directory), p)
}
