package bigquery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/tributary-dev/tributary/transforms/files"
)

// The NDJSON tables (the lake) are laid out by membership hour (Layout.Member: the time that
// says which range a row belongs to), the same way under a local directory and gs://:
//
//	<root>/bq/<table>/dt=YYYY-MM-DD/hr=HH/part-<hash>.json      rows of a plain (streaming) write
//	<root>/bq/<table>/dt=YYYY-MM-DD/hr=HH/backfill-<hash>.json  rows of a backfill generation
//	<root>/bq/<table>/dt=YYYY-MM-DD/hr=HH/_manifest-NNNNNNNN    written last by a backfill
//
// Reader rule, per hour folder: if it holds a _manifest-NNNNNNNN, its live rows are those of
// the files listed by the manifest with the highest number, and nothing else; otherwise they
// are those of its part-*.json files (backfill files without a manifest belong to a backfill
// that has not committed). Files directly under bq/<table>/ (the layout before hour folders,
// and tables without a membership column) are always live. ReadFileRows and LiveFiles
// implement the rule.
//
// A backfill of [from, to) writes its backfill-*.json files, then, once every file of the
// range is written, one manifest per hour of the range (an hour with no rows gets a manifest
// listing nothing), numbered one above the hour's latest, then deletes what its manifests
// supersede: the hour's unlisted data files and older manifests. Cloud Storage has no atomic
// replace of several objects, but an object appears atomically: a new manifest is the switch,
// per hour. It is created only if absent (as every file here), so the backfill needs no right
// to overwrite or delete (without one, superseded files stay, unread), and two backfills
// committing one hour at once cannot both win: the second fails. A crash before the manifest
// leaves the hour as it was; a crash after it leaves unreachable files the next backfill
// deletes.
const (
	// ManifestPrefix starts the name of an hour folder's manifests, _manifest-NNNNNNNN.
	ManifestPrefix = "_manifest-"
	// ManifestFormat is the format number in manifests this code writes and reads.
	ManifestFormat = 1

	partPrefix     = "part-"
	backfillPrefix = "backfill-"
	rowsSuffix     = ".json"
)

// Manifest is the content of an hour folder's manifest (one JSON object): the files of the
// folder whose rows are live, written by the backfill generation RunID of [From, To).
type Manifest struct {
	Format int       `json:"format"`
	Table  string    `json:"table"`
	Hour   time.Time `json:"hour"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	RunID  string    `json:"run_id,omitempty"`
	// Files are names in the hour folder, sorted; empty when the hour has no rows.
	Files []string `json:"files"`
}

// Range is a half-open range [From, To) of membership time in whole hours: the rows a backfill
// generation replaces.
type Range struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Validate checks that the range is non-empty and on whole hours.
func (r Range) Validate() error {
	switch {
	case r.From.IsZero() || r.To.IsZero():
		return errors.New("range: From and To must both be set")
	case !r.From.Equal(r.From.Truncate(time.Hour)) || !r.To.Equal(r.To.Truncate(time.Hour)):
		return fmt.Errorf("range [%s, %s): From and To must be whole hours", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	case !r.To.After(r.From):
		return fmt.Errorf("range [%s, %s): To must be after From", r.From.UTC().Format(time.RFC3339), r.To.UTC().Format(time.RFC3339))
	}
	return nil
}

// Hours returns the start of every hour in the range.
func (r Range) Hours() []time.Time {
	var out []time.Time
	for h := r.From.UTC(); h.Before(r.To); h = h.Add(time.Hour) {
		out = append(out, h)
	}
	return out
}

// Contains reports whether t falls in [From, To).
func (r Range) Contains(t time.Time) bool { return !t.Before(r.From) && t.Before(r.To) }

// TableDir is the folder of a table's files under root (a local directory or gs://bucket/path).
func TableDir(root, table string) string { return files.Join(root, "bq/"+table) }

// HourFolder is the name of the hour folder of membership time t, relative to the table's
// folder: dt=YYYY-MM-DD/hr=HH in UTC (Hive-style, so BigQuery external tables and other lake
// readers see dt and hr as partition columns).
func HourFolder(t time.Time) string { return t.UTC().Format("dt=2006-01-02/hr=15") }

// HourDir is the folder of a table's rows of membership hour t under root.
func HourDir(root, table string, t time.Time) string {
	return files.Join(TableDir(root, table), HourFolder(t))
}

// LiveFiles returns the locations of a table's live files under root (a local directory or
// gs://bucket/path), by the reader rule above, in a fixed order: what a `bq load` or a copy
// of the table should read. A table never written has none.
func LiveFiles(ctx context.Context, root, table string) ([]string, error) {
	st, err := files.OpenStore(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", table, err)
	}
	defer st.Close()
	var out []string
	err = eachLivePartition(ctx, st, root, table, func(dir string, names []string) error {
		for _, n := range names {
			out = append(out, files.Join(dir, n))
		}
		return nil
	})
	return out, err
}

// ReadFileRows returns the live rows of a table under root (a local directory or
// gs://bucket/path), one JSON object each, by the reader rule above: after a backfill of a
// range, the backfill's rows in the range and the earlier rows outside it. Rows come in a
// fixed order (hour folder, file name, line).
func ReadFileRows(ctx context.Context, root, table string) ([]json.RawMessage, error) {
	st, err := files.OpenStore(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", table, err)
	}
	defer st.Close()
	var rows []json.RawMessage
	err = eachLivePartition(ctx, st, root, table, func(dir string, names []string) error {
		var part []json.RawMessage
		for _, n := range names {
			data, err := st.Read(ctx, files.Join(dir, n))
			if err != nil {
				return err
			}
			lines, err := splitRows(data)
			if err != nil {
				return fmt.Errorf("%s: %w", files.Join(dir, n), err)
			}
			part = append(part, lines...)
		}
		rows = append(rows, part...)
		return nil
	})
	return rows, err
}

// splitRows splits NDJSON into its rows, each checked to be JSON.
func splitRows(data []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	for i, line := range bytes.Split(data, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if !json.Valid(line) {
			return nil, fmt.Errorf("line %d is not JSON", i+1)
		}
		out = append(out, json.RawMessage(slices.Clone(line)))
	}
	return out, nil
}

// readAttempts bounds how often a reader retries an hour folder whose listed file vanished:
// a backfill committing that hour meanwhile deleted it, and the new manifest names the rest.
const readAttempts = 4

// eachLivePartition lists a table once and calls fn with each folder's live file names (the
// table folder's own files first, then the hour folders in order). When fn fails because a
// file is gone, the hour folder is listed and read again.
func eachLivePartition(ctx context.Context, st *files.Store, root, table string, fn func(dir string, names []string) error) error {
	tableDir := TableDir(root, table)
	names, err := st.ListTree(ctx, tableDir)
	if err != nil {
		return fmt.Errorf("table %s: %w", table, err)
	}
	var flat []string
	var hours []string
	byHour := map[string][]string{}
	for _, n := range names {
		dir, base := path.Split(n)
		dir = strings.TrimSuffix(dir, "/")
		switch {
		case dir == "":
			if isRowsFile(base, partPrefix) {
				flat = append(flat, base)
			}
		case isHourFolder(dir):
			if _, ok := byHour[dir]; !ok {
				hours = append(hours, dir)
			}
			byHour[dir] = append(byHour[dir], base)
		}
	}
	if len(flat) > 0 {
		if err := fn(tableDir, flat); err != nil {
			return err
		}
	}
	for _, h := range hours {
		dir := files.Join(tableDir, h)
		listing := byHour[h]
		for attempt := 1; ; attempt++ {
			live, err := liveNames(ctx, st, dir, listing)
			if err == nil {
				err = fn(dir, live)
			}
			if err == nil {
				break
			}
			if !errors.Is(err, fs.ErrNotExist) || attempt == readAttempts {
				return fmt.Errorf("table %s: %w", table, err)
			}
			if listing, err = st.ListTree(ctx, dir); err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
		}
	}
	return nil
}

// ManifestName is the name of an hour folder's manifest number n (from 1).
func ManifestName(n int) string { return fmt.Sprintf("%s%08d", ManifestPrefix, n) }

// manifestNumber is the number of a manifest's name, ok false for any other name.
func manifestNumber(name string) (n int, ok bool) {
	digits, found := strings.CutPrefix(name, ManifestPrefix)
	if !found || len(digits) != 8 {
		return 0, false
	}
	if _, err := fmt.Sscanf(digits, "%08d", &n); err != nil || ManifestName(n) != name || n < 1 {
		return 0, false
	}
	return n, true
}

// latestManifest is the number of the latest manifest in an hour folder's listing, 0 if none.
func latestManifest(listing []string) int {
	latest := 0
	for _, name := range listing {
		if n, ok := manifestNumber(name); ok && n > latest {
			latest = n
		}
	}
	return latest
}

// liveNames applies the reader rule to one hour folder's listing.
func liveNames(ctx context.Context, st *files.Store, dir string, listing []string) ([]string, error) {
	n := latestManifest(listing)
	if n == 0 {
		var live []string
		for _, name := range listing {
			if isRowsFile(name, partPrefix) {
				live = append(live, name)
			}
		}
		return live, nil
	}
	m, err := readManifest(ctx, st, files.Join(dir, ManifestName(n)))
	if err != nil {
		return nil, err
	}
	return m.Files, nil
}

func readManifest(ctx context.Context, st *files.Store, location string) (Manifest, error) {
	data, err := st.Read(ctx, location)
	if err != nil {
		return Manifest{}, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return Manifest{}, fmt.Errorf("%s: %w", location, err)
	}
	if m.Format != ManifestFormat {
		return Manifest{}, fmt.Errorf("%s: manifest format %d, this reader knows %d", location, m.Format, ManifestFormat)
	}
	for _, f := range m.Files {
		if strings.ContainsAny(f, `/\`) || !isRowsFile(f, "") {
			return Manifest{}, fmt.Errorf("%s: bad file name %q", location, f)
		}
	}
	return m, nil
}

func isRowsFile(name, prefix string) bool {
	return strings.HasPrefix(name, prefix) && strings.HasSuffix(name, rowsSuffix)
}

// isHourFolder reports whether a relative folder is dt=YYYY-MM-DD/hr=HH.
func isHourFolder(dir string) bool {
	t, err := time.Parse("dt=2006-01-02/hr=15", dir)
	return err == nil && HourFolder(t) == dir
}
