package files

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// timeLayout is the compact ISO 8601 form of window bounds in file names (always UTC).
const timeLayout = "20060102T150405Z"

// FileName is the name of the file of one window, shard and pane, relative to the prefix:
// dt=YYYY-MM-DD/hr=HH/<windowStart>-<windowEnd>[-<run>]-SSSSS-of-NNNNN[-pane-P]<suffix>, like
// Beam's W-P-SSSSS-of-NNNNN shard template. The folders come from the window start. The first
// pane (index 0) has no pane part; every later pane gets its own name, so a late pane adds a
// file and never replaces one. run (Config.RunID) is left out when empty.
func FileName(start, end time.Time, run string, shard, numShards int, pane int64, suffix string) string {
	s, e := start.UTC(), end.UTC()
	name := s.Format(timeLayout) + "-" + e.Format(timeLayout)
	if run != "" {
		name += "-" + run
	}
	name += fmt.Sprintf("-%05d-of-%05d", shard, numShards)
	if pane > 0 {
		name += fmt.Sprintf("-pane-%d", pane)
	}
	return s.Format("dt=2006-01-02") + "/" + s.Format("hr=15") + "/" + name + suffix
}

// validRunID matches what Config.RunID may hold: it becomes part of file names.
var validRunID = regexp.MustCompile(`^[A-Za-z0-9._]+$`)

// isGCS reports whether location names a Cloud Storage object or prefix.
func isGCS(location string) bool { return strings.HasPrefix(location, "gs://") }

// Join appends a slash-separated relative name to a prefix, a local directory or gs://bucket/path.
func Join(prefix, name string) string {
	if isGCS(prefix) {
		return "gs://" + path.Join(strings.TrimPrefix(prefix, "gs://"), name)
	}
	return filepath.Join(prefix, filepath.FromSlash(name))
}

// splitGCS splits gs://bucket/object into its bucket and object name.
func splitGCS(location string) (bucket, object string, err error) {
	rest, ok := strings.CutPrefix(location, "gs://")
	if !ok {
		return "", "", fmt.Errorf("%q is not a gs:// location", location)
	}
	bucket, object, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("%q has no bucket", location)
	}
	return bucket, object, nil
}

// ContentName returns a file name derived from the content, so a retried bundle with the same
// bytes writes the same file instead of a duplicate.
func ContentName(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}
