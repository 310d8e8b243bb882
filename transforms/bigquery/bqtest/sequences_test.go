package bqtest

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRowsWithSequences: each row comes with the sequence of the change that holds it, the
// winning one whatever the arrival order.
func TestRowsWithSequences(t *testing.T) {
	s := &Server{tables: map[string]*table{}}
	s.CreateTable("p", "d", "t", WithPrimaryKey("k"))
	tb := s.tables[TableName("p", "d", "t")]
	for _, r := range []Row{
		{"k": "a", "v": int64(1), ChangeType: "UPSERT", ChangeSequenceNumber: "1/5/0"},
		{"k": "b", "v": int64(2), ChangeType: "UPSERT", ChangeSequenceNumber: "0/1/0"},
		{"k": "a", "v": int64(3), ChangeType: "UPSERT", ChangeSequenceNumber: "2/1/0"},
		{"k": "a", "v": int64(4), ChangeType: "UPSERT", ChangeSequenceNumber: "1/ffff/9"},
	} {
		tb.apply(r)
	}
	rows, seqs := s.RowsWithSequences("t")
	if diff := cmp.Diff([]Row{{"k": "a", "v": int64(3)}, {"k": "b", "v": int64(2)}}, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"2/1/0", "0/1/0"}, seqs); diff != "" {
		t.Errorf("sequences (-want +got):\n%s", diff)
	}
	if rows, seqs := s.RowsWithSequences("missing"); rows != nil || seqs != nil {
		t.Errorf("a missing table: %v, %v; want nothing", rows, seqs)
	}
}
