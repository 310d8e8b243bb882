package bqtest

// RowsWithSequences returns a copy of the rows of a table, as Rows does, with the
// _CHANGE_SEQUENCE_NUMBER last applied to each (empty for an appended row or a change that had
// none), so a test can tell which run's change holds a key.
func (s *Server) RowsWithSequences(name string) ([]Row, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lookup(name)
	if t == nil {
		return nil, nil
	}
	rows := make([]Row, len(t.rows))
	for i, r := range t.rows {
		rows[i] = cloneRow(r)
	}
	return rows, append([]string(nil), t.seqs...)
}
