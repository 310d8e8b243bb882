package dedup

import (
	"testing"

	"github.com/tributary-dev/tributary/internal/codertest"
)

// TestCoderGolden pins the bytes of the Seen bag's chunks: an update in place reads the running
// job's state with the new code.
func TestCoderGolden(t *testing.T) {
	codertest.Check(t, codertest.Case[[]entry]{
		Name:   "dedup.seen",
		Value:  []entry{{ID: "e1", Expiry: 1_793_000_600_000}, {ID: "tok_9f86d081884c", Expiry: 1_793_000_601_000}},
		Encode: encodeEntries,
		Decode: decodeEntries,
	})
}
