package bqtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCompareSequence(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"A", "9", 1},  // hexadecimal, not decimal or text
		{"10", "F", 1}, // numbers, not strings
		{"00FF", "fe", 1},
		{"ff", "FF", 0},
		{"0/ffffffffffffffff/ff", "1/0/0", -1}, // the first section decides
		{"1/5/2", "1/5/10", -1},
		{"1/2", "1/2/0", 0},
	}
	for _, tc := range tests {
		got := compareSequence(tc.a, tc.b)
		if sign(got) != tc.want {
			t.Errorf("compareSequence(%s, %s) = %d, want sign %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

func TestValidSequence(t *testing.T) {
	for s, want := range map[string]bool{
		"0": true, "1/7fffffffffffffff/ff": true, "a/b/c/d": true, "ffffffffffffffff": true,
		"": false, "a/b/c/d/e": false, "1ffffffffffffffff": false, "1//2": false, "12g": false, "-1": false,
	} {
		if got := validSequence(s); got != want {
			t.Errorf("validSequence(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestUpsertBySequence: BigQuery applies the change with the highest _CHANGE_SEQUENCE_NUMBER
// for a key, whatever order the changes arrive in.
func TestUpsertBySequence(t *testing.T) {
	up := func(key string, seq string, v int64) Row {
		return Row{"k": key, "v": v, ChangeType: "UPSERT", ChangeSequenceNumber: seq}
	}
	del := func(key string, seq string) Row {
		return Row{"k": key, ChangeType: "DELETE", ChangeSequenceNumber: seq}
	}
	tests := []struct {
		name    string
		changes []Row
		want    []Row
	}{
		{"higher replaces lower", []Row{up("a", "1/5/0", 1), up("a", "1/5/1", 2)}, []Row{{"k": "a", "v": int64(2)}}},
		{"lower arriving later is ignored", []Row{up("a", "1/5/1", 2), up("a", "1/5/0", 1)}, []Row{{"k": "a", "v": int64(2)}}},
		{"section-wise, as numbers", []Row{up("a", "1/9/0", 1), up("a", "1/10/0", 2), up("a", "0/ffff/ff", 3)}, []Row{{"k": "a", "v": int64(2)}}},
		{"a new key is inserted", []Row{up("a", "1/1/0", 1), up("b", "0/1/0", 2)}, []Row{{"k": "a", "v": int64(1)}, {"k": "b", "v": int64(2)}}},
		{"delete with a higher sequence", []Row{up("a", "1/1/0", 1), {"k": "a", ChangeType: "DELETE", ChangeSequenceNumber: "1/1/1"}}, []Row{}},
		{"delete with a lower sequence is ignored", []Row{up("a", "1/1/1", 1), {"k": "a", ChangeType: "DELETE", ChangeSequenceNumber: "1/1/0"}}, []Row{{"k": "a", "v": int64(1)}}},
		// Tombstones: a DELETE keeps its sequence, so the highest sequence per key wins even
		// when the DELETE arrives first.
		{"delete before the row it deletes", []Row{del("a", "1/1/ff"), up("a", "1/1/0", 1)}, []Row{}},
		{"an older upsert after a delete stays deleted", []Row{up("a", "1/1/0", 1), del("a", "1/1/2"), up("a", "1/1/1", 2)}, []Row{}},
		{"a newer upsert after a delete comes back", []Row{up("a", "1/1/0", 1), del("a", "1/1/1"), up("a", "2/1/0", 3)}, []Row{{"k": "a", "v": int64(3)}}},
		{"a tombstone is per key", []Row{del("a", "1/1/ff"), up("b", "1/1/0", 1)}, []Row{{"k": "b", "v": int64(1)}}},
		{"a backfill class replaces any streaming pane", []Row{up("a", "1/ffff/9", 1), up("a", "2/1/0", 2), up("a", "1/ffff/a", 3)}, []Row{{"k": "a", "v": int64(2)}}},
		{"the later of two deletes holds", []Row{del("a", "1/1/1"), del("a", "1/1/3"), up("a", "1/1/2", 1)}, []Row{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tb := &table{primaryKey: []string{"k"}}
			for _, r := range tc.changes {
				tb.apply(r)
			}
			if diff := cmp.Diff(tc.want, append([]Row{}, tb.rows...)); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
}
