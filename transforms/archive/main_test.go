package archive

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/gcstest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/files"
)

func TestMain(m *testing.M) { ptest.Main(m) }

func init() {
	beam.RegisterType(reflect.TypeOf((*stamped)(nil)).Elem())
	register.Function2x1[beam.EventTime, schemas.Message, stamped](stampOf)
}

// t0 is the first hour of the test archives.
var t0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

const attr = "event_time"

// stamped is a message with the element timestamp Read gave it.
type stamped struct {
	Millis int64
	Msg    schemas.Message
}

func stampOf(ts beam.EventTime, m schemas.Message) stamped { return stamped{int64(ts), m} }

func byMessageID(a, b stamped) int { return strings.Compare(a.Msg.MessageID, b.Msg.MessageID) }

// partition is the folder of hour h after t0.
func partition(h int) string { return t0.Add(time.Duration(h) * time.Hour).Format(partitionLayout) }

// target is where a test archive lives: a local directory or a bucket of fake-gcs-server.
type target struct {
	name string
	dir  func(t testing.TB) string
}

var targets = []target{
	{"local", func(t testing.TB) string { return t.TempDir() }},
	{"gcs", func(t testing.TB) string { gcstest.Start(t, "lake"); return "gs://lake/out" }},
}

// writeWAL archives msgs as the streaming source does (one file per publish hour).
func writeWAL(t testing.TB, dir string, msgs ...schemas.Message) {
	t.Helper()
	ctx := context.Background()
	w, err := files.OpenWAL(ctx, files.WALConfig{Directory: dir, RunID: "run1"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Write(ctx, msgs); err != nil {
		t.Fatal(err)
	}
}

// writeWindowed writes msgs as one format-1 file of files.WriteArchive (json.Marshal lines,
// gzipped) for the one-hour window starting at start: its folder is the window's start.
func writeWindowed(t testing.TB, dir string, start time.Time, msgs ...schemas.Message) {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	for _, m := range msgs {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		zw.Write(append(b, '\n'))
	}
	zw.Close()
	name := files.FileName(start, start.Add(time.Hour), "run0", 0, 4, 1, files.DefaultSuffix)
	writeRaw(t, dir, name, buf.Bytes())
}

// writeRaw puts data at name (relative to the archive) through the files store.
func writeRaw(t testing.TB, dir, name string, data []byte) {
	t.Helper()
	ctx := context.Background()
	st, err := files.OpenStore(ctx, files.ArchivePrefix(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Create(ctx, files.Join(files.ArchivePrefix(dir), name), data); err != nil {
		t.Fatal(err)
	}
}

func gz(s string) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(s))
	zw.Close()
	return buf.Bytes()
}

// msg is a message published at pub, with the attribute when ev is not empty.
func msg(id string, pub time.Time, ev string) schemas.Message {
	m := schemas.Message{Data: []byte(`{"event_id":"` + id + `"}`), PublishTime: pub, MessageID: id}
	if ev != "" {
		m.Attributes = map[string]string{attr: ev}
	}
	return m
}
