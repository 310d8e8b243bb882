// Package wire is the compact binary form behind Tributary's Beam coders and keyed state:
// varints, length-prefixed strings, fixed 64-bit words and one-byte booleans. A Reader records
// the first error and returns zero values after it, so decoders read straight through and check
// once; truncated or hostile input never panics.
package wire

import (
	"encoding/binary"
	"errors"
)

var (
	// ErrTruncated reports input that ends before the value being read.
	ErrTruncated = errors.New("wire: truncated encoding")
	// ErrTrailing reports bytes left over after a complete value.
	ErrTrailing = errors.New("wire: trailing bytes after the encoding")
)

// Writer appends values to a byte slice.
type Writer []byte

// Int appends a signed varint.
func (w Writer) Int(v int64) Writer { return binary.AppendVarint(w, v) }

// Uint appends an unsigned varint.
func (w Writer) Uint(v uint64) Writer { return binary.AppendUvarint(w, v) }

// Fixed appends a little-endian 64-bit word (for hashes, where a varint would not be shorter).
func (w Writer) Fixed(v uint64) Writer { return binary.LittleEndian.AppendUint64(w, v) }

// Str appends a length-prefixed string.
func (w Writer) Str(s string) Writer { return append(w.Uint(uint64(len(s))), s...) }

// Bool appends one byte, 1 or 0.
func (w Writer) Bool(b bool) Writer {
	if b {
		return append(w, 1)
	}
	return append(w, 0)
}

// Reader reads what a Writer wrote.
type Reader struct {
	b   []byte
	err error
}

// NewReader reads b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err is the first error met, if any.
func (r *Reader) Err() error { return r.err }

// Done is Err, or ErrTrailing if bytes are left over.
func (r *Reader) Done() error {
	if r.err == nil && len(r.b) != 0 {
		return ErrTrailing
	}
	return r.err
}

func (r *Reader) fail() {
	if r.err == nil {
		r.err = ErrTruncated
	}
	r.b = nil
}

// Int reads a signed varint.
func (r *Reader) Int() int64 { return varint(r, binary.Varint) }

// Uint reads an unsigned varint.
func (r *Reader) Uint() uint64 { return varint(r, binary.Uvarint) }

// varint reads one varint with decode (binary.Varint or binary.Uvarint).
func varint[T int64 | uint64](r *Reader, decode func([]byte) (T, int)) T {
	v, n := decode(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Fixed reads a little-endian 64-bit word.
func (r *Reader) Fixed() uint64 {
	b := r.Take(8)
	if len(b) < 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(b)
}

// Str reads a length-prefixed string.
func (r *Reader) Str() string { return string(r.Take(r.Uint())) }

// Bool reads one byte; true if it is 1.
func (r *Reader) Bool() bool {
	b := r.Take(1)
	return len(b) == 1 && b[0] == 1
}

// Take returns the next n bytes (aliasing the input), or nil after an error.
func (r *Reader) Take(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Count reads an item count and checks it against the bytes left, each item taking at least
// minSize bytes, so a corrupt count cannot make a decoder allocate without bound.
func (r *Reader) Count(minSize int) int {
	n := r.Uint()
	if n > uint64(len(r.b)/minSize) {
		r.fail()
		return 0
	}
	return int(n)
}
