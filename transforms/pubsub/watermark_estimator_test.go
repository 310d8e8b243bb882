package pubsub

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWatermarkStateCoderRoundTrip(t *testing.T) {
	s := WatermarkState{WatermarkMillis: unsetMillis, MaxSeenMillis: 5, Samples: []Sample{{1, 2}, {3, -4}}, LastAttributeMillis: 1700000000000}
	got, err := decodeWatermarkState(encodeWatermarkState(s))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(s, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestWatermarkStateDecodeRefusesMalformed(t *testing.T) {
	good := encodeWatermarkState(WatermarkState{Samples: []Sample{{1, 2}}})
	for name, b := range map[string][]byte{
		"empty":      nil,
		"truncated":  good[:len(good)-1],
		"trailing":   append(good, 0),
		"huge count": {0, 0, 0x7f},
	} {
		if _, err := decodeWatermarkState(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}
