package pubsub

import (
	"testing"

	"github.com/tributary-dev/tributary/internal/codertest"
)

// TestCoderGolden pins the bytes of the source's restriction and watermark-estimator state:
// both travel with every residual, so an update in place decodes them with the new coder.
func TestCoderGolden(t *testing.T) {
	codertest.Check(t, codertest.Case[Restriction]{
		Name:   "pubsub.Restriction",
		Value:  Restriction{PendingAcks: []string{"ack-1", "ack-2"}, Read: 1234, LastMessageMillis: 1_793_000_000_000, Stopping: true, ID: 0x0123456789abcdef, Reader: 2},
		Encode: encodeRestriction,
		Decode: decodeRestriction,
	})
	codertest.Check(t, codertest.Case[WatermarkState]{
		Name: "pubsub.WatermarkState",
		Value: WatermarkState{WatermarkMillis: 1_793_000_000_000, MaxSeenMillis: 1_793_000_060_000,
			Samples:             []Sample{{AtMillis: 1_793_000_001_000, MinMillis: 1_792_999_990_000}, {AtMillis: 1_793_000_002_000, MinMillis: 1_792_999_995_000}},
			LastAttributeMillis: 1_793_000_002_000},
		Encode: encodeWatermarkState,
		Decode: decodeWatermarkState,
	})
}
