package dedup

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/schemas/wire"
)

// entry is one remembered id and when it is forgotten (Unix milliseconds). The state is a bag
// of chunks, each the entries one batch added (encodeEntries): TestCoderGolden pins it, since
// an update in place reads the running job's state with the new code.
type entry struct {
	ID     string
	Expiry int64
}

func encodeEntries(es []entry) []byte {
	w := wire.Writer(nil).Uint(uint64(len(es)))
	for _, e := range es {
		w = w.Str(e.ID).Int(e.Expiry)
	}
	return w
}

func decodeEntries(b []byte) ([]entry, error) {
	r := wire.NewReader(b)
	es := make([]entry, r.Count(2))
	for i := range es {
		es[i] = entry{ID: r.Str(), Expiry: r.Int()}
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return es, nil
}

// stamped is an event with its element timestamp, which a GroupByKey does not keep (its
// output is stamped at the end of the window).
type stamped struct {
	TS    beam.EventTime
	Event schemas.Event
}

// encodeStamped is one batched value: the timestamp, then the event's coder bytes.
func encodeStamped(ts beam.EventTime, e schemas.Event) []byte {
	return wire.Writer(nil).Int(int64(ts)).Str(string(e.AppendBinary(nil)))
}

// joinBatch is one key's pane as the stateful step's one value: a count, then the values.
func joinBatch(values [][]byte) []byte {
	w := wire.Writer(nil).Uint(uint64(len(values)))
	for _, v := range values {
		w = append(w, v...)
	}
	return w
}

func decodeBatch(b []byte) ([]stamped, error) {
	r := wire.NewReader(b)
	evs := make([]stamped, r.Count(2))
	for i := range evs {
		evs[i].TS = mtime.Time(r.Int())
		if err := evs[i].Event.UnmarshalBinary(r.Take(r.Uint())); err != nil && r.Err() == nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
	}
	if err := r.Done(); err != nil {
		return nil, err
	}
	return evs, nil
}
