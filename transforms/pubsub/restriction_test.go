package pubsub

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/sdf"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/schemas/wire"
)

func TestTrackerSplitCarriesClaimsAndCounters(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	earlier := Restriction{PendingAcks: []string{"old"}, Read: 10, LastMessageMillis: 1_700_000_000_000, ID: 7, Reader: 2}
	tests := []struct {
		name         string
		rest         Restriction
		claims       []string
		endStopping  bool // the reader ends the round asking for the final one before the split
		fraction     float64
		wantResidual *Restriction
	}{
		{"runner checkpoint mid-round", earlier, []string{"a", "b", "c"}, false, 0,
			&Restriction{PendingAcks: []string{"a", "b", "c"}, Read: 13, LastMessageMillis: now.UnixMilli(), Reader: 2}},
		{"runner checkpoint before any claim", earlier, nil, false, 0,
			&Restriction{Read: 10, LastMessageMillis: earlier.LastMessageMillis, Reader: 2}},
		{"reader's own checkpoint, stopping", earlier, []string{"a"}, true, 0,
			&Restriction{PendingAcks: []string{"a"}, Read: 11, LastMessageMillis: now.UnixMilli(), Stopping: true, Reader: 2}},
		{"fraction other than 0 refused", earlier, []string{"a"}, false, 0.5, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := newTracker(tc.rest)
			tr.now = func() time.Time { return now }
			rt := sdf.NewLockRTracker(tr)
			for _, id := range tc.claims {
				if !rt.TryClaim(id) {
					t.Fatalf("claim of %q refused", id)
				}
			}
			if tc.endStopping {
				if _, finished := endRound(rt, true, now); finished {
					t.Fatal("endRound finished a round with claims")
				}
			}
			primary, residual, err := rt.TrySplit(tc.fraction)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantResidual == nil {
				if residual != nil || rt.IsDone() {
					t.Fatalf("split at %v: residual %v, done %v; want refused", tc.fraction, residual, rt.IsDone())
				}
				return
			}
			if diff := cmp.Diff(*tc.wantResidual, residual, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Restriction{}, "ID")); diff != "" {
				t.Errorf("residual (-want +got):\n%s", diff)
			}
			if id := residual.(Restriction).ID; id == 0 || id == tc.rest.ID {
				t.Errorf("residual ID %d, want a fresh one (the split restriction's is %d)", id, tc.rest.ID)
			}
			wantPrimary := tc.rest
			wantPrimary.Stopping = true
			if diff := cmp.Diff(wantPrimary, primary); diff != "" {
				t.Errorf("primary (-want +got):\n%s", diff)
			}
			if !rt.IsDone() || rt.TryClaim("late") {
				t.Error("the primary still claims after the split")
			}
			if _, finished := endRound(rt, false, now); !finished {
				t.Error("endRound after a split wants a second residual")
			}
		})
	}
}

// playRounds plays the runner for a reader: it runs rounds from the initial restriction, taking
// each residual from the reader's own checkpoint (as the SDK does on ResumeProcessingIn) or from
// a split that splitAfter asks for after the n-th message emitted overall, and returns the
// payloads emitted and the residual each split produced.
func playRounds(t *testing.T, fn *readFn, splitAfter map[int]bool) (emitted []string, splits []Restriction) {
	t.Helper()
	ctx := context.Background()
	we := fn.CreateWatermarkEstimator(fn.InitialWatermarkEstimatorState(0, Restriction{}, nil))
	rest := fn.CreateInitialRestriction(nil)
	for range 100 {
		rt := fn.CreateTracker(rest)
		var residual any
		emit := func(_ beam.EventTime, m schemas.Message) {
			emitted = append(emitted, string(m.Data))
			if splitAfter[len(emitted)] && residual == nil {
				_, r, err := rt.TrySplit(0) // a runner's checkpoint from another goroutine would take the same lock
				if err != nil {
					t.Fatal(err)
				}
				residual = r
				splits = append(splits, r.(Restriction))
			}
		}
		pc, err := fn.ProcessElement(ctx, we, rt, nil, emit)
		if err != nil {
			t.Fatal(err)
		}
		if residual == nil && pc.ShouldResume() {
			_, r, err := rt.TrySplit(0)
			if err != nil {
				t.Fatal(err)
			}
			residual = r
		}
		if residual == nil {
			return emitted, splits
		}
		rest = residual.(Restriction)
	}
	t.Fatal("the reader did not stop after 100 rounds")
	return nil, nil
}

func TestReaderSplitMidRoundLosesAndDuplicatesNothing(t *testing.T) {
	tests := []struct {
		name       string
		published  int
		splitAfter int // messages emitted when the runner splits
		wantRead   int64
	}{
		{"split inside the first batch", 35, 4, 4},
		{"split on the last message allowed", 35, 30, 30},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, topic, sub := newTestSubscription(t, 60)
			var want []string
			for i := range tc.published {
				srv.Publish(topic, fmt.Appendf(nil, "m%02d", i), nil)
				want = append(want, fmt.Sprintf("m%02d", i))
			}
			fn := &readFn{ReadConfig: ReadConfig{Subscription: sub, Endpoint: srv.Addr, MaxMessages: 30, PullBatch: 10, MaxRoundTime: time.Second}}
			fn.withDefaults()
			if err := fn.Setup(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer fn.Teardown()

			emitted, splits := playRounds(t, fn, map[int]bool{tc.splitAfter: true})

			if len(splits) != 1 {
				t.Fatalf("%d splits, want 1", len(splits))
			}
			if got := splits[0]; got.Read != tc.wantRead || int64(len(got.PendingAcks)) != tc.wantRead || got.LastMessageMillis == 0 {
				t.Errorf("split residual: Read %d, %d pending acks, LastMessageMillis %d; want %d, %d and the time of the last message",
					got.Read, len(got.PendingAcks), got.LastMessageMillis, tc.wantRead, tc.wantRead)
			}
			// Exactly --maxMessages distinct messages, each emitted once and acked once.
			sort.Strings(emitted)
			if diff := cmp.Diff(want[:0], dupes(emitted), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("emitted more than once: %v", diff)
			}
			if len(emitted) != 30 {
				t.Errorf("emitted %d messages, want 30 (--maxMessages)", len(emitted))
			}
			acked := map[string]int{}
			for _, m := range srv.Messages() {
				acked[string(m.Data)] = m.Acks
			}
			for _, e := range emitted {
				if acked[e] != 1 {
					t.Errorf("message %s emitted and acked %d times, want 1", e, acked[e])
				}
			}
			if fn.leases.held() != 0 {
				t.Errorf("%d leases still held after the reader stopped", fn.leases.held())
			}
		})
	}
}

func dupes(sorted []string) []string {
	var d []string
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			d = append(d, sorted[i])
		}
	}
	return d
}

func TestRestrictionCoderRoundTrip(t *testing.T) {
	for _, r := range []Restriction{
		{},
		{PendingAcks: []string{"a", "", "projects/x/ack-123"}, Read: 42, LastMessageMillis: 1700000000000, Stopping: true, ID: 1<<64 - 1},
		{ID: 5, Reader: MaxReaders - 1},
	} {
		got, err := decodeRestriction(encodeRestriction(r))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(r, got); diff != "" {
			t.Errorf("round trip (-want +got):\n%s", diff)
		}
	}
	if _, err := decodeRestriction([]byte{0x80}); err == nil {
		t.Error("truncated restriction decoded without error")
	}
	// Reader 0 encodes as a restriction did before readers existed, and those bytes decode as
	// reader 0; a reader field of 0 or beyond MaxReaders is malformed.
	old := Restriction{Read: 3, ID: 9}
	if got, err := decodeRestriction(encodeRestriction(old)); err != nil || got.Reader != 0 {
		t.Errorf("reader 0: %+v, %v", got, err)
	}
	for _, reader := range []uint64{0, MaxReaders} {
		b := wire.Writer(encodeRestriction(old)).Uint(reader)
		if _, err := decodeRestriction(b); err == nil {
			t.Errorf("reader field %d decoded without error", reader)
		}
	}
}

// The tracker's progress and the restriction's size: the previous round's count is the
// expectation for this one (a subscription reports no backlog to a puller).
func TestTrackerProgressAndRestrictionSize(t *testing.T) {
	prev := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		name                    string
		rest                    Restriction
		claims                  int
		split                   bool
		wantDone, wantRemaining float64
		wantSize                float64
	}{
		{"first round", Restriction{}, 0, false, 0, 1, 1},
		{"after a round of 5, none claimed", Restriction{PendingAcks: prev}, 0, false, 0, 5, 10},
		{"after a round of 5, 2 claimed", Restriction{PendingAcks: prev}, 2, false, 2, 3, 10},
		{"claimed more than the last round", Restriction{PendingAcks: prev}, 7, false, 7, 1, 10},
		{"split: nothing remains", Restriction{PendingAcks: prev}, 3, true, 3, 0, 10},
		{"final round only acks", Restriction{PendingAcks: prev, Stopping: true}, 0, false, 0, 1, 5},
	}
	fn := &readFn{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rt := sdf.NewLockRTracker(newTracker(tc.rest))
			for i := range tc.claims {
				rt.TryClaim(fmt.Sprint(i))
			}
			if tc.split {
				if _, _, err := rt.TrySplit(0); err != nil {
					t.Fatal(err)
				}
			}
			done, remaining := rt.GetProgress()
			if done != tc.wantDone || remaining != tc.wantRemaining {
				t.Errorf("progress = (%v, %v), want (%v, %v)", done, remaining, tc.wantDone, tc.wantRemaining)
			}
			if got := fn.RestrictionSize(nil, tc.rest); got != tc.wantSize {
				t.Errorf("size = %v, want %v", got, tc.wantSize)
			}
		})
	}
}

// A reader leaves its group only after its final round: not when a runner's split ends a round
// (the reader goes on in the residual).
func TestFinalRound(t *testing.T) {
	split := sdf.NewLockRTracker(newTracker(Restriction{Reader: 1}))
	split.TryClaim("a")
	if _, _, err := split.TrySplit(0); err != nil {
		t.Fatal(err)
	}
	stopped := sdf.NewLockRTracker(newTracker(Restriction{Reader: 1}))
	endRound(stopped, true, time.Now())
	acking := sdf.NewLockRTracker(newTracker(Restriction{Reader: 1, PendingAcks: []string{"a"}, Stopping: true}))
	for name, tc := range map[string]struct {
		rt   *sdf.LockRTracker
		want bool
	}{"split by the runner": {split, false}, "stopped with nothing read": {stopped, true}, "final acking round": {acking, true}} {
		if got := finalRound(tc.rt); got != tc.want {
			t.Errorf("%s: finalRound = %v, want %v", name, got, tc.want)
		}
	}
}
