package files

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// gcsStore writes objects with a DoesNotExist precondition. A Cloud Storage upload is atomic
// (the object exists only once the upload completes), so the final name is written directly;
// a second writer of the same name gets 412 and compares the existing object's size and
// checksums with its own. Copy and delete are never used: their preconditions are not what
// correctness should rest on (fake-gcs-server, for one, ignores them).
type gcsStore struct {
	client    *storage.Client
	chunkSize int // upload chunk size; 0 keeps the client's default (16 MiB)
}

// newGCSStore connects with the default credentials, or to the emulator named by
// STORAGE_EMULATOR_HOST (the client reads it itself). JSON reads keep every call on the JSON
// API, which emulators serve at the same host.
func newGCSStore(ctx context.Context) (*gcsStore, error) {
	c, err := storage.NewClient(ctx, storage.WithJSONReads())
	if err != nil {
		return nil, fmt.Errorf("creating Cloud Storage client: %w", err)
	}
	return &gcsStore{client: c}, nil
}

func (s *gcsStore) close() error { return s.client.Close() }

func (s *gcsStore) create(ctx context.Context, location string, write func(io.Writer) error) (Object, bool, error) {
	bucket, name, err := splitGCS(location)
	if err != nil {
		return Object{}, false, err
	}
	h := s.client.Bucket(bucket).Object(name)
	// Cancelling the writer's context is the only way to abandon an upload without creating
	// the object, so every failure before Close cancels it.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := h.If(storage.Conditions{DoesNotExist: true}).NewWriter(wctx)
	w.ContentType = contentType(name)
	if s.chunkSize > 0 {
		w.ChunkSize = s.chunkSize
	}

	// Upload errors (a 412 can come back before the last byte) must not stop the digest: the
	// comparison with an existing object needs the digest of everything this write would hold.
	up := &stickyWriter{w: w}
	d := newDigest()
	bw := bufio.NewWriterSize(io.MultiWriter(up, d), 256<<10)
	if err := write(bw); err != nil {
		cancel()
		w.Close()
		return Object{}, false, fmt.Errorf("writing %s: %w", location, err)
	}
	if err := bw.Flush(); err != nil {
		cancel()
		w.Close()
		return Object{}, false, fmt.Errorf("writing %s: %w", location, err)
	}
	err = errors.Join(up.err, w.Close())
	obj := d.object(location)
	if err == nil {
		// The client sends the CRC32C with the upload and the service rejects a mismatch; this
		// only guards against a service that does not check.
		if a := w.Attrs(); a != nil && (a.Size != obj.Size || a.CRC32C != obj.CRC32C) {
			return obj, false, fmt.Errorf("%s: stored object has %d bytes, crc32c %08x; wrote %d bytes, crc32c %08x",
				location, a.Size, a.CRC32C, obj.Size, obj.CRC32C)
		}
		return obj, false, nil
	}
	if !preconditionFailed(err) {
		return Object{}, false, fmt.Errorf("uploading %s: %w", location, err)
	}
	a, aerr := h.Attrs(ctx)
	if aerr != nil {
		return Object{}, false, fmt.Errorf("%s exists (precondition failed) but reading its attributes failed: %w", location, aerr)
	}
	return obj, true, sameObject(obj, d.md5.Sum(nil), a.Size, a.CRC32C, a.MD5)
}

// preconditionFailed reports a failed DoesNotExist precondition, over JSON (412) or gRPC.
func preconditionFailed(err error) bool {
	var gerr *googleapi.Error
	if errors.As(err, &gerr) {
		return gerr.Code == http.StatusPreconditionFailed
	}
	return status.Code(err) == codes.FailedPrecondition
}

// stickyWriter keeps the first error of w and swallows later writes, so the caller can finish
// producing (and digesting) its bytes.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err == nil {
		_, s.err = s.w.Write(p)
	}
	return len(p), nil
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".gz"):
		return "application/gzip"
	case strings.HasSuffix(name, ".jsonl"), strings.HasSuffix(name, ".ndjson"):
		return "application/x-ndjson"
	default:
		return "application/octet-stream"
	}
}
