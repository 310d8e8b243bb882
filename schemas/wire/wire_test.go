package wire

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

type record struct {
	I     int64
	U     uint64
	F     uint64
	S     string
	B     bool
	Items []int64
}

func encode(x record) []byte {
	w := Writer(nil).Int(x.I).Uint(x.U).Fixed(x.F).Str(x.S).Bool(x.B).Uint(uint64(len(x.Items)))
	for _, v := range x.Items {
		w = w.Int(v)
	}
	return w
}

func decode(b []byte) (record, error) {
	r := NewReader(b)
	x := record{I: r.Int(), U: r.Uint(), F: r.Fixed(), S: r.Str(), B: r.Bool()}
	if n := r.Count(1); n > 0 {
		x.Items = make([]int64, n)
		for i := range x.Items {
			x.Items[i] = r.Int()
		}
	}
	return x, r.Done()
}

func TestRoundTrip(t *testing.T) {
	for _, x := range []record{
		{},
		{I: -1 << 62, U: 1<<64 - 1, F: 0xdeadbeefcafe, S: "héllo", B: true, Items: []int64{0, -5, 1 << 40}},
	} {
		got, err := decode(encode(x))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(x, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
}

func TestMalformed(t *testing.T) {
	full := encode(record{I: 300, U: 7, F: 9, S: "abc", B: true, Items: []int64{1, 2}})
	for n := range len(full) {
		if _, err := decode(full[:n]); !errors.Is(err, ErrTruncated) {
			t.Errorf("decoding %d of %d bytes: error %v, want ErrTruncated", n, len(full), err)
		}
	}
	if _, err := decode(append(full, 0)); !errors.Is(err, ErrTrailing) {
		t.Errorf("trailing byte: error %v, want ErrTrailing", err)
	}
	huge := Writer(nil).Int(0).Uint(0).Fixed(0).Str("").Bool(false).Uint(1 << 40)
	if _, err := decode(huge); !errors.Is(err, ErrTruncated) {
		t.Errorf("count beyond the input: error %v, want ErrTruncated", err)
	}
}
