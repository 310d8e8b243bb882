// Package archive reads the raw archive back (the backfill's source): the files under
// files.ArchivePrefix(Directory) in the dt=YYYY-MM-DD/hr=HH partitions it is given, and nothing
// else of the bucket or directory, as the messages the streaming source emitted.
//
// # What it reads
//
// Both forms the project writes, often side by side in one folder:
//
//   - the write-ahead log of the Pub/Sub source (files.WAL, "format":2 lines):
//     archive/dt=/hr=/wal-<hour>-<run>-<hash>.jsonl.gz, foldered by the **publish-time** hour;
//   - the windowed archive (files.WriteArchive, format 1, written downstream of Dataflow's
//     native source and by earlier versions): archive/dt=/hr=/<start>-<end>[-<run>]-SSSSS-of-NNNNN[-pane-P].jsonl.gz,
//     foldered by the start of the **event-time** window of the element timestamp the source
//     gave the message (its timestamp attribute, or its publish time).
//
// So the events of an event-time range [from, to) lie in the WAL partitions of publish hours
// from − (how early an event may be published, the band's MaxTimestampSkew) to to + the
// archive's lateness (how long after its event time a message may still be published), and in
// the windowed partitions of [from, to) exactly (plus, there, messages with an invalid
// attribute, foldered by their publish time). Selecting the partitions [from − context,
// to + lateness) therefore covers both forms; the extra windowed folders only add context.
// A file of any other name in a selected folder is read too (and becomes a dead letter if it is
// not an archive file); a local write's leftover temporary file (.tmp-…) is skipped.
//
// # Timestamps and marks
//
// Each message gets the element timestamp the streaming source would give it
// (pubsub.Timestamp: the same attribute rule and invalid_timestamp band, judged against the
// archived publish time), and TimestampError is recomputed the same way, so decode dead-letters
// exactly the messages the streaming job dead-lettered. The archived BehindWatermark mark is
// dropped: a replay corrects lateness rather than mimicking it. In paced mode the reader sets
// the mark itself, from its own watermark, on the messages that come behind it (a windowed
// step then counts them late instead of the runner dropping them silently).
//
// # Two read shapes
//
// Batch (Paced false, for Dataflow): Impulse → list the partitions → one element per file →
// Reshuffle → read. Bounded; the watermark stays at the start until everything is read, so the
// runner holds the range in memory, which a batch runner handles by spilling.
//
// Paced (Paced true, for Prism): a bounded read of a day on Prism holds the whole day in memory,
// since Prism keeps every element and all windowed state until the watermark moves. The paced
// reader is a splittable DoFn over the sorted partitions that reads one partition per
// ProcessElement call (its files one after another, inside the call), then moves its watermark
// to (start of the next unread partition − Lateness) and checkpoints, so windows of earlier
// hours close while later hours are still to be read; after the last partition it stops and
// the pipeline drains. A message of partition p whose timestamp is before start(p) − Lateness
// is behind that watermark (marked, see above): Lateness is the archive's lateness, at least
// what the streaming job accepts late. The files of one partition are read by one call, not
// spread over workers: on Prism all workers share one process, so a reshuffle would only add a
// stage. Prism has no back-pressure: if the stages after the reader are slower than it, the
// partitions read ahead wait in Prism's queues; PartitionDelay slows the reader down.
//
// # Bad files
//
// A file that cannot be opened or decoded does not fail the job: the messages decoded before
// the fault are emitted, the file is counted in archive_read.unreadable_files and becomes one
// dead letter (step "archive", reason "unreadable_file") whose payload and archive_file
// attribute name the file and whose error says what is wrong and on which line, with the
// partition's start hour as its publish time and element timestamp. The file itself stays where
// it is, for a re-run after it is repaired (dedup absorbs what the first run already emitted).
// A line without a publish time (neither writer makes one; a hand-made or damaged line can) is
// not replayed: it becomes a dead letter (reason "no_publish_time", its payload and attributes
// kept, archive_file naming the file), with the partition's start hour as publish time, so it
// lies in that hour of the lake, never at dt=0001-01-01, and is counted in
// archive_read.no_publish_time.
package archive
