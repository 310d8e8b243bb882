// Package bigquery writes Tributary's tables: through the Storage Write API into a dataset
// (Write), or, without a dataset, as a folder of newline-delimited JSON files per table under a
// local directory or gs:// prefix (WriteFiles), files that `bq load
// --source_format=NEWLINE_DELIMITED_JSON` accepts with the table's schema from schemas/bigquery.
//
// # The NDJSON tables (the lake)
//
// Files sit in one folder per membership hour (bq/<table>/dt=YYYY-MM-DD/hr=HH/), so a backfill
// can replace a range: WriteFiles with FilesConfig.Replace writes a generation's files and,
// once all are written, one numbered manifest per hour of the range, which readers follow
// (lake.go has the layout and the reader rule; ReadFileRows and LiveFiles apply it).
//
// # The Storage Write sink
//
// Write appends rows with managedwriter on the default stream, encoded as protobuf from the
// table schemas embedded in schemas/ (row_proto encoding), in batches of at most 1000 rows or
// 4 MiB, at most 4 appends in flight. Transient errors are retried with backoff; rows BigQuery
// refuses, and an append too large for any request, become dead letters (never a poison pill).
// With CDC it upserts by the table's primary key, ordering changes by _CHANGE_SEQUENCE_NUMBER
// <class>/<run>/<pane> (see sequence.go), so a later pane replaces an earlier one and a relaunched
// job never replaces a complete window with a partial one. The bqtest package is an in-process
// storagepb.BigQueryWrite server that behaves as BigQuery does (limits, upserts).
package bigquery
