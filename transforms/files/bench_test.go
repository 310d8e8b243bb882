package files

import (
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
)

// benchLines returns about size bytes of archive-like JSON lines (~400 bytes each).
func benchLines(size int) ([][]byte, int64) {
	r := rand.New(rand.NewPCG(7, 7))
	types := []string{"page_view", "add_to_cart", "purchase", "refund"}
	var out [][]byte
	var total int64
	for i := 0; total < int64(size); i++ {
		payload := fmt.Sprintf(`{"event_id":"evt-%09d","event_type":%q,"event_time":"2026-11-01T12:%02d:%02d.%03dZ","user_id":"u%06d","product_id":"p-%04d","quantity":%d,"amount":%d.%02d,"currency":"USD","device":{"os":"android","country":"DE"}}`,
			i, types[r.IntN(4)], r.IntN(60), r.IntN(60), r.IntN(1000), r.IntN(100000), r.IntN(5000), 1+r.IntN(4), r.IntN(500), r.IntN(100))
		l, err := archiveLine(messageOf(i, payload))
		if err != nil {
			panic(err)
		}
		out = append(out, l)
		total += int64(len(l)) + 1
	}
	return out, total
}

// BenchmarkWrite measures the file sink: sorting a pane's lines, gzip and the atomic create,
// on the local filesystem and on fake-gcs-server (in-process, over HTTP), with the pane sorted
// in memory or spilled to the temp directory in runs. SetBytes counts uncompressed line bytes.
// "pipeline" runs files.Write on Prism end to end for scale.
func BenchmarkWrite(b *testing.B) {
	const pane = 32 << 20
	lines, size := benchLines(pane)
	for _, tg := range targets {
		for _, sc := range []struct {
			name     string
			maxBytes int64
			level    int
		}{
			{"memory", DefaultMaxBufferBytes, gzip.DefaultCompression},
			{"memory_bestspeed", DefaultMaxBufferBytes, gzip.BestSpeed},
			{"spill", 4 << 20, gzip.DefaultCompression},
		} {
			b.Run(tg.name+"/"+sc.name, func(b *testing.B) {
				prefix, _, st := tg.open(b)
				ctx := context.Background()
				tmp := b.TempDir()
				var compressed int64
				b.SetBytes(size)
				i := 0
				for b.Loop() {
					s := newLineSorter(tmp, sc.maxBytes)
					for _, l := range lines {
						if err := s.add(l); err != nil {
							b.Fatal(err)
						}
					}
					res, err := writeLines(ctx, st.st, Join(prefix, fmt.Sprintf("f%d.jsonl.gz", i)), sc.level, s.each)
					s.close()
					if err != nil {
						b.Fatal(err)
					}
					compressed, i = res.Size, i+1
				}
				b.ReportMetric(float64(size)/float64(compressed), "gzip_ratio")
			})
		}
	}
	b.Run("pipeline/local", func(b *testing.B) {
		in := make([]stamped, 0, 20000)
		var total int64
		small, _ := benchLines(8 << 20)
		for i, l := range small {
			in = append(in, stamped{At: time.Duration(i) * time.Second / 10, Line: string(l)})
			total += int64(len(l)) + 1
		}
		b.SetBytes(total)
		for b.Loop() {
			p, s := beam.NewPipelineWithRoot()
			Write(s, beam.ParDo(s, stamp, beam.CreateList(s, in)), Config{Prefix: b.TempDir()})
			if err := ptest.Run(p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func messageOf(i int, payload string) schemas.Message {
	at := beamtest.T0.Add(time.Duration(i) * time.Millisecond)
	return schemas.Message{Data: []byte(payload), Attributes: map[string]string{"event_time": at.Format(time.RFC3339Nano)},
		PublishTime: at, MessageID: fmt.Sprintf("%016d", 9000000000000000+i)}
}
