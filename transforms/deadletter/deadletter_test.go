package deadletter

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas"
)

// TestDeadLetterFitsEverySink: the payload is stored once, cut to MaxPayload with its original
// size recorded, and text stays text.
func TestDeadLetterFitsEverySink(t *testing.T) {
	text := strings.Repeat("é", MaxPayload) // 2 bytes a character: a cut at MaxPayload+1 would split one
	type want struct {
		String    string
		Bytes     []byte
		Size      int64
		Truncated bool
	}
	tests := []struct {
		name    string
		payload []byte
		want    want
	}{
		{"small text is kept whole, once", []byte(`{"a":1}`), want{String: `{"a":1}`, Size: 7}},
		{"small binary is kept whole, once", []byte{0xff, 0x00}, want{Bytes: []byte{0xff, 0x00}, Size: 2}},
		{"exactly MaxPayload is whole", bytes.Repeat([]byte("a"), MaxPayload), want{String: strings.Repeat("a", MaxPayload), Size: MaxPayload}},
		{"9.9 MB of text is cut to MaxPayload", bytes.Repeat([]byte("a"), 9_900_000), want{String: strings.Repeat("a", MaxPayload), Size: 9_900_000, Truncated: true}},
		{"6 MB of binary is cut to MaxPayload", bytes.Repeat([]byte{0xff}, 6_000_000), want{Bytes: bytes.Repeat([]byte{0xff}, MaxPayload), Size: 6_000_000, Truncated: true}},
		{"text is cut at a character boundary", []byte("x" + text), want{String: ("x" + text)[:MaxPayload-1], Size: int64(1 + len(text)), Truncated: true}},
		{"empty", nil, want{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := FromMessage(context.Background(), "decode", ReasonTooLarge, schemas.Message{Data: tc.payload, MessageID: "m1"}, errors.New("too big"))
			r := d.Row()
			got := want{String: r.PayloadString, Bytes: r.PayloadBytes, Size: r.PayloadSize, Truncated: r.PayloadTruncated}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("row payload (-want +got):\n%s", diff)
			}
			if len(d.Payload) > MaxPayload || (utf8.Valid(tc.payload) && !utf8.Valid(d.Payload)) {
				t.Errorf("dead letter payload: %d bytes, valid UTF-8 %v", len(d.Payload), utf8.Valid(d.Payload))
			}
			if !bytes.Equal(r.Payload(), d.Payload) {
				t.Errorf("Row().Payload() differs from the dead letter's payload")
			}
		})
	}
}

func TestErrorIsCut(t *testing.T) {
	d := FromMessage(context.Background(), "s", "r", schemas.Message{}, errors.New(strings.Repeat("x", 3*MaxError)))
	if len(d.Error) != MaxError {
		t.Errorf("error of %d bytes, want %d", len(d.Error), MaxError)
	}
}
