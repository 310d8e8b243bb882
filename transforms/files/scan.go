package files

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
)

// ScanArchive decodes an archive file of either format from r (gzipped JSON lines, as
// ReadArchiveRecords), calling fn with each record in order, so a reader holds one line at a
// time rather than the file. It stops at the first error, fn's or the file's; the records before
// it have been passed to fn. A file error names the line it is on.
func ScanArchive(r io.Reader, fn func(ArchiveRecord) error) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return fmt.Errorf("opening archive file: %w", err)
	}
	dec := json.NewDecoder(zr)
	for line := 1; dec.More(); line++ {
		var rec archiveRecord
		if err := dec.Decode(&rec); err != nil {
			return fmt.Errorf("decoding archive line %d: %w", line, err)
		}
		switch rec.Format {
		case 0:
			rec.Format = 1
		case 1, ArchiveFormat:
		default:
			return fmt.Errorf("archive line %d: %w %d", line, errUnknownFormat, rec.Format)
		}
		if err := fn(ArchiveRecord{Message: rec.Message, Format: rec.Format}); err != nil {
			return err
		}
	}
	// dec.More is false at the end of the input and also at a read error: a truncated or
	// corrupt gzip stream must not pass for a short file.
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return fmt.Errorf("reading archive file: %w", err)
	}
	return nil
}
