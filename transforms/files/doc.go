// Package files writes Tributary's file outputs to a local directory or Cloud Storage (gs://):
// windowed, sharded files of lines for any stream (Write), the raw archive that backfills replay
// (the WAL, which the Pub/Sub source writes before it acks, or WriteArchive, a windowed write for
// a source that acks by itself; ReadArchiveFile reads both), and whole files named by their
// callers, such as the tables' NDJSON files (Store, which also lists one folder and opens a
// file, for transforms/archive, the reader of the archive).
//
// Every file appears whole or not at all and is created only if its name is free: on Cloud
// Storage with a DoesNotExist precondition (an upload is atomic), locally with a synced
// temporary file hard-linked into place. Names are fixed by what a file holds (its window,
// shard and pane, or a hash of its bytes), so a retried bundle writes the same bytes to the
// same name, finds its file and checks it is identical; nothing is ever overwritten.
package files
