package files

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrDifferentContent is returned (wrapped, with the location) when a write finds a file or
// object already at its final name with different bytes. A retry of the same pane writes the
// same bytes, so this means another job or an earlier build wrote under the same prefix.
var ErrDifferentContent = errors.New("a different file already exists under this name")

// Object describes the bytes of a file as written.
type Object struct {
	Location string // local path or gs://bucket/object
	Size     int64
	CRC32C   uint32 // Castagnoli, as Cloud Storage reports it
}

// store creates files that appear whole or not at all, each at most once.
type store interface {
	// create writes what write produces to location unless something is already there. An
	// existing file with the same bytes (a retried bundle) is reported with existing = true and
	// left alone; one with different bytes is an ErrDifferentContent error. If write fails,
	// nothing appears at location.
	create(ctx context.Context, location string, write func(io.Writer) error) (obj Object, existing bool, err error)
	close() error
}

// openStore returns the store for a prefix: Cloud Storage for gs://, the local filesystem
// otherwise.
func openStore(ctx context.Context, prefix string) (store, error) {
	if isGCS(prefix) {
		return newGCSStore(ctx)
	}
	return localStore{}, nil
}

// Store creates whole files under one prefix (a local directory or gs://bucket/path), each at
// most once, for sinks that name their own files; Write and WriteArchive use the same code.
// Open one per DoFn instance (in Setup) and close it in Teardown: on Cloud Storage it holds a
// client.
type Store struct {
	prefix string
	st     store
}

// OpenStore opens the store of prefix: Cloud Storage (default credentials, or the emulator
// named by STORAGE_EMULATOR_HOST) for gs://, the local filesystem otherwise.
func OpenStore(ctx context.Context, prefix string) (*Store, error) {
	st, err := openStore(ctx, prefix)
	if err != nil {
		return nil, err
	}
	return &Store{prefix: prefix, st: st}, nil
}

// Create writes data to location unless a file is already there. An identical file (a retried
// bundle) is left alone and reported with existing = true; a different one is an
// ErrDifferentContent error. location must be on the store's side (gs:// or local) of the
// prefix it was opened with; Join builds it.
func (s *Store) Create(ctx context.Context, location string, data []byte) (existing bool, err error) {
	if err := s.owns(location); err != nil {
		return false, err
	}
	_, existing, err = s.st.create(ctx, location, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
	return existing, err
}

// Close releases the store's client.
func (s *Store) Close() error { return s.st.close() }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// digest follows the bytes written to a file: size, CRC32C and MD5 (what Cloud Storage keeps
// per object), so an existing object can be compared without reading it.
type digest struct {
	size int64
	crc  uint32
	md5  hash.Hash
}

func newDigest() *digest { return &digest{md5: md5.New()} }

func (d *digest) Write(p []byte) (int, error) {
	d.size += int64(len(p))
	d.crc = crc32.Update(d.crc, castagnoli, p)
	d.md5.Write(p)
	return len(p), nil
}

func (d *digest) object(location string) Object {
	return Object{Location: location, Size: d.size, CRC32C: d.crc}
}

// sameObject compares what is at the final name with what this write produced.
func sameObject(want Object, wantMD5 []byte, size int64, crc uint32, md5sum []byte) error {
	if size == want.Size && crc == want.CRC32C && (len(md5sum) == 0 || bytes.Equal(md5sum, wantMD5)) {
		return nil
	}
	return fmt.Errorf("%s: %w (it has %d bytes, crc32c %08x; this write has %d bytes, crc32c %08x)",
		want.Location, ErrDifferentContent, size, crc, want.Size, want.CRC32C)
}

// localStore writes a temporary file next to the final one, syncs it and hard-links it to the
// final name: link(2) fails if the name exists, which gives the same create-if-absent guarantee
// as Cloud Storage's DoesNotExist precondition. Filesystems without hard links fall back to a
// rename after checking that the name is free.
type localStore struct{}

func (localStore) close() error { return nil }

func (localStore) create(_ context.Context, location string, write func(io.Writer) error) (Object, bool, error) {
	dir := filepath.Dir(location)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Object{}, false, fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-"+filepath.Base(location)+"-*")
	if err != nil {
		return Object{}, false, fmt.Errorf("creating temporary file for %s: %w", location, err)
	}
	defer os.Remove(tmp.Name()) // always: the final name is a second link, or a rename moved it
	d := newDigest()
	bw := bufio.NewWriterSize(io.MultiWriter(tmp, d), 256<<10)
	if err := write(bw); err != nil {
		tmp.Close()
		return Object{}, false, fmt.Errorf("writing %s: %w", location, err)
	}
	if err := bw.Flush(); err != nil {
		tmp.Close()
		return Object{}, false, fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return Object{}, false, fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return Object{}, false, fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	obj := d.object(location)
	wantMD5 := d.md5.Sum(nil)

	err = os.Link(tmp.Name(), location)
	if errors.Is(err, fs.ErrExist) {
		return obj, true, compareLocal(obj, wantMD5)
	}
	if err != nil {
		// No hard links here (some network and FUSE filesystems): check, then rename.
		if _, statErr := os.Lstat(location); statErr == nil {
			return obj, true, compareLocal(obj, wantMD5)
		}
		if err := os.Rename(tmp.Name(), location); err != nil {
			return Object{}, false, fmt.Errorf("renaming %s to %s: %w", tmp.Name(), location, err)
		}
	}
	syncDir(dir)
	return obj, false, nil
}

func compareLocal(want Object, wantMD5 []byte) error {
	f, err := os.Open(want.Location)
	if err != nil {
		return fmt.Errorf("reading existing %s: %w", want.Location, err)
	}
	defer f.Close()
	d := newDigest()
	if _, err := io.Copy(d, f); err != nil {
		return fmt.Errorf("reading existing %s: %w", want.Location, err)
	}
	return sameObject(want, wantMD5, d.size, d.crc, d.md5.Sum(nil))
}

// syncDir makes a new directory entry durable. Best effort: not every platform can sync a
// directory, and the file itself is already synced.
func syncDir(dir string) {
	if f, err := os.Open(dir); err == nil {
		f.Sync()
		f.Close()
	}
}
