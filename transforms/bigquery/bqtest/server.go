// Package bqtest is an in-process BigQuery for tests: a gRPC server implementing the Storage Write
// API (storagepb.BigQueryWrite: GetWriteStream and the AppendRows bidi stream on the default
// stream) and the two REST methods a sink needs to create tables (tables.get, tables.insert).
// Columns can be added mid-run (AddColumns); writers then get the updated schema in their
// append responses, as from BigQuery.
// No BigQuery emulator is reachable in CI, so the real managedwriter client talks to this over the
// real wire protocol. Appended rows are decoded with the writer's proto descriptor, checked
// against the table schema when it has one, and stored as maps; CDC upserts and deletes
// (_CHANGE_TYPE, _CHANGE_SEQUENCE_NUMBER) are applied by the table's primary key, the highest
// sequence number winning, compared section by section as hexadecimal numbers, a DELETE
// included (it leaves a tombstone, so an older UPSERT arriving later stays deleted). BigQuery's
// 10 MB AppendRows limit is enforced with BigQuery's own error (LimitRequestBytes lowers it).
// Transient errors and per-row errors can be injected.
package bqtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tributary-dev/tributary/schemas"
)

// Row is one stored row: column name to value. With a table schema, values are what a query
// would show: string (STRING, NUMERIC and BIGNUMERIC as decimal text, DATE as 2006-01-02, JSON
// as its text), int64, float64, bool, []byte, time.Time (TIMESTAMP, UTC), Row (RECORD) and []any
// (REPEATED). Without one, values are the raw proto values (TIMESTAMP as int64 microseconds,
// NUMERIC as its little-endian two's complement bytes). NULL columns are absent.
type Row = map[string]any

// Pseudo-columns of BigQuery change data capture.
const (
	ChangeType           = "_CHANGE_TYPE"
	ChangeSequenceNumber = "_CHANGE_SEQUENCE_NUMBER"
)

// Server is the in-process BigQuery. Its methods are safe for concurrent use.
type Server struct {
	storagepb.UnimplementedBigQueryWriteServer

	grpc *grpc.Server
	lis  net.Listener
	rest *httptest.Server

	mu       sync.Mutex
	tables   map[string]*table // by projects/<p>/datasets/<d>/tables/<t>
	failures []failure         // in-band append errors to return
	breaks   []failure         // append streams to end with an error
	maxBytes int               // the AppendRows request size limit
	stats    Stats
}

// Limits of BigQuery's Storage Write API (https://cloud.google.com/bigquery/quotas#write-api-limits).
const (
	// MaxRequestBytes is the largest AppendRows request BigQuery accepts; a larger one fails with
	// INVALID_ARGUMENT "AppendRows request too large".
	MaxRequestBytes = 10 << 20
	// maxReceiveBytes is the gRPC message size the server reads, above MaxRequestBytes so that
	// an oversized request gets BigQuery's own error rather than gRPC's RESOURCE_EXHAUSTED.
	maxReceiveBytes = 64 << 20
)

// Stats counts the requests the server has seen.
type Stats struct {
	GetWriteStream int // GetWriteStream calls
	Connections    int // AppendRows streams opened
	Open           int // AppendRows streams open now
	MaxOpen        int // the most AppendRows streams open at once
	Appends        int // AppendRows requests, including failed ones
	RowsAppended   int // rows applied to a table
}

type failure struct {
	code codes.Code
	n    int
}

type table struct {
	schema     []schemas.TableField // nil: accept any writer schema and store raw values
	primaryKey []string
	rows       []Row
	keys       []string          // primary key of each row, when the table has one
	seqs       []string          // last _CHANGE_SEQUENCE_NUMBER applied to each row
	tombstones map[string]string // sequence of the last DELETE applied, by key
	reject     func(Row) bool
	discard    bool
	added      []string // columns AddColumns added, lower-case (evolve.go)
}

// TableOption configures a table created with CreateTable.
type TableOption func(*table)

// WithSchema gives the table its columns: appended rows are checked against them (a row
// missing a REQUIRED column or a writer field the table lacks is an error, as in BigQuery) and
// stored as typed values.
func WithSchema(fields []schemas.TableField) TableOption {
	return func(t *table) { t.schema = fields }
}

// WithPrimaryKey declares the table's primary key, which CDC upserts and deletes need.
func WithPrimaryKey(columns ...string) TableOption {
	return func(t *table) { t.primaryKey = columns }
}

// DiscardRows makes the table check and count appended rows (Stats.RowsAppended) without
// keeping them, for benchmarks that write more rows than memory should hold.
func DiscardRows() TableOption {
	return func(t *table) { t.discard = true }
}

// Start starts a server on a free local port; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := NewServer()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a server on a free local port. Close stops it.
func NewServer() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("bqtest: listen: %w", err)
	}
	s := &Server{grpc: grpc.NewServer(grpc.MaxRecvMsgSize(maxReceiveBytes)), lis: lis, tables: map[string]*table{}, maxBytes: MaxRequestBytes}
	storagepb.RegisterBigQueryWriteServer(s.grpc, s)
	go s.grpc.Serve(lis) //nolint:errcheck // returns when Close stops the server
	s.rest = httptest.NewServer(s.restHandler())
	return s, nil
}

// Addr is the host:port of the Storage Write API (gRPC, plain text, no credentials).
func (s *Server) Addr() string { return s.lis.Addr().String() }

// RESTEndpoint is the base URL of the REST API (tables.get and tables.insert), as given to
// option.WithEndpoint.
func (s *Server) RESTEndpoint() string { return s.rest.URL + "/bigquery/v2/" }

// Close stops the server.
func (s *Server) Close() {
	s.rest.Close()
	s.grpc.Stop()
}

// TableName is the resource name of a table.
func TableName(project, dataset, table string) string {
	return fmt.Sprintf("projects/%s/datasets/%s/tables/%s", project, dataset, table)
}

// CreateTable creates an empty table, replacing any table of that name.
func (s *Server) CreateTable(project, dataset, name string, opts ...TableOption) {
	t := &table{}
	for _, o := range opts {
		o(t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tables[TableName(project, dataset, name)] = t
}

// Rows returns a copy of the rows of a table, in the order they were first written (an upsert
// keeps the position of the row it replaces). table is a resource name or, when only one
// dataset holds it, the bare table id. Unknown tables have no rows.
func (s *Server) Rows(name string) []Row {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lookup(name)
	if t == nil {
		return nil
	}
	out := make([]Row, len(t.rows))
	for i, r := range t.rows {
		out[i] = cloneRow(r)
	}
	return out
}

// Schema returns the columns of a table (nil if it has none or does not exist).
func (s *Server) Schema(name string) []schemas.TableField {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.lookup(name); t != nil {
		return slices.Clone(t.schema)
	}
	return nil
}

// PrimaryKey returns the primary key of a table.
func (s *Server) PrimaryKey(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.lookup(name); t != nil {
		return slices.Clone(t.primaryKey)
	}
	return nil
}

// FailNext makes the next n append requests, on any table, fail with code, returned in the
// response as BigQuery does for a request it could not process; the rows are not written.
// Calls queue up: FailNext(Unavailable, 2) then FailNext(Internal, 1) fails three requests.
func (s *Server) FailNext(code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{code, n})
}

// BreakNext makes the next n append requests end their AppendRows stream with code instead of
// being answered, as a front end does when a connection fails (typically Unavailable): the
// request and every request still pending on that connection get no response, and the client
// must reconnect.
func (s *Server) BreakNext(code codes.Code, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.breaks = append(s.breaks, failure{code, n})
}

// LimitRequestBytes lowers (or, with 0, restores) the AppendRows request size limit, so tests can
// reach it with small rows: a larger request fails as BigQuery fails one above 10 MB.
func (s *Server) LimitRequestBytes(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n <= 0 {
		n = MaxRequestBytes
	}
	s.maxBytes = n
}

// RejectRows makes every later append to table that holds a row matching match fail with a
// row error for each such row (INVALID_ARGUMENT with row_errors, as BigQuery does); no row of
// that request is written. match sees the row as it would be stored. A nil match clears it.
func (s *Server) RejectRows(name string, match func(Row) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.lookup(name); t != nil {
		t.reject = match
	}
}

// Stats returns the request counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// lookup finds a table by resource name or bare id. The caller holds s.mu.
func (s *Server) lookup(name string) *table {
	if t, ok := s.tables[name]; ok {
		return t
	}
	var found *table
	for full, t := range s.tables {
		if strings.HasSuffix(full, "/tables/"+name) {
			if found != nil {
				return nil // ambiguous
			}
			found = t
		}
	}
	return found
}

// GetWriteStream implements storagepb.BigQueryWriteServer for default streams.
func (s *Server) GetWriteStream(_ context.Context, req *storagepb.GetWriteStreamRequest) (*storagepb.WriteStream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.GetWriteStream++
	name, err := tableOfStream(req.GetName())
	if err != nil {
		return nil, err
	}
	t, ok := s.tables[name]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Requested entity was not found. Entity: %s", req.GetName())
	}
	ws := &storagepb.WriteStream{Name: req.GetName(), Type: storagepb.WriteStream_COMMITTED, Location: "US"}
	if req.GetView() == storagepb.WriteStreamView_FULL {
		ws.TableSchema = storageSchema(t.schema)
	}
	return ws, nil
}

// tableOfStream returns the table of a default stream name.
func tableOfStream(stream string) (string, error) {
	name, ok := strings.CutSuffix(stream, "/streams/_default")
	if !ok || !strings.HasPrefix(name, "projects/") {
		return "", status.Errorf(codes.InvalidArgument, "bqtest serves only default streams, not %q", stream)
	}
	return name, nil
}

// AppendRows implements storagepb.BigQueryWriteServer. Only the first request of a connection
// names the stream and carries the writer schema (a later one may replace the schema), so
// both are remembered per connection.
func (s *Server) AppendRows(conn storagepb.BigQueryWrite_AppendRowsServer) error {
	s.mu.Lock()
	s.stats.Connections++
	s.stats.Open++
	s.stats.MaxOpen = max(s.stats.MaxOpen, s.stats.Open)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.stats.Open--
		s.mu.Unlock()
	}()
	var stream string
	var desc protoreflect.MessageDescriptor
	for {
		req, err := conn.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if req.GetWriteStream() != "" {
			stream = req.GetWriteStream()
		}
		if ws := req.GetProtoRows().GetWriterSchema(); ws != nil {
			if desc, err = descriptorOf(ws.GetProtoDescriptor()); err != nil {
				return status.Errorf(codes.InvalidArgument, "bqtest: writer schema: %v", err)
			}
		}
		if err := s.takeBreak(); err != nil {
			return err
		}
		if err := conn.Send(s.append(stream, desc, req, proto.Size(req))); err != nil {
			return err
		}
	}
}

// takeBreak returns the error to end a stream with, if one is due.
func (s *Server) takeBreak() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.breaks) == 0 {
		return nil
	}
	s.stats.Appends++
	b := &s.breaks[0]
	code := b.code
	if b.n--; b.n <= 0 {
		s.breaks = s.breaks[1:]
	}
	return status.Error(code, "bqtest: injected stream failure")
}

// append handles one request and returns its response.
func (s *Server) append(stream string, desc protoreflect.MessageDescriptor, req *storagepb.AppendRowsRequest, size int) *storagepb.AppendRowsResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Appends++
	if size > s.maxBytes {
		// BigQuery's wording, e.g. "AppendRows request too large: 11854265 limit 10485760
		// Entity: projects/…/streams/…"; no row of the request is written.
		return errorResponse(status.Newf(codes.InvalidArgument, "AppendRows request too large: %d limit %d Entity: %s", size, s.maxBytes, stream))
	}
	if len(s.failures) > 0 {
		f := &s.failures[0]
		if f.n--; f.n <= 0 {
			s.failures = s.failures[1:]
		}
		return errorResponse(status.New(f.code, "bqtest: injected failure"))
	}
	name, err := tableOfStream(stream)
	if err != nil {
		return errorResponse(status.Convert(err))
	}
	t, ok := s.tables[name]
	if !ok {
		return errorResponse(status.Newf(codes.NotFound, "Table %s not found", name))
	}
	if desc == nil {
		return errorResponse(status.New(codes.InvalidArgument, "no writer schema on this connection"))
	}
	if err := t.checkWriter(desc); err != nil {
		return errorResponse(status.New(codes.InvalidArgument, err.Error()))
	}

	data := req.GetProtoRows().GetRows().GetSerializedRows()
	rows := make([]Row, len(data))
	var rowErrs []*storagepb.RowError
	for i, b := range data {
		r, err := t.decode(desc, b)
		switch {
		case err != nil:
			rowErrs = append(rowErrs, rowError(i, err.Error()))
		case t.reject != nil && t.reject(withoutPseudo(r)):
			rowErrs = append(rowErrs, rowError(i, "bqtest: row rejected"))
		}
		rows[i] = r
	}
	if len(rowErrs) > 0 {
		resp := errorResponse(status.Newf(codes.InvalidArgument, "Errors found while processing rows. %d row errors", len(rowErrs)))
		resp.RowErrors = rowErrs
		return resp
	}
	if !t.discard {
		for _, r := range rows {
			t.apply(r)
		}
	}
	s.stats.RowsAppended += len(rows)
	return &storagepb.AppendRowsResponse{
		Response:      &storagepb.AppendRowsResponse_AppendResult_{AppendResult: &storagepb.AppendRowsResponse_AppendResult{}},
		WriteStream:   stream,
		UpdatedSchema: t.updatedSchema(desc),
	}
}

func errorResponse(st *status.Status) *storagepb.AppendRowsResponse {
	return &storagepb.AppendRowsResponse{Response: &storagepb.AppendRowsResponse_Error{Error: st.Proto()}}
}

func rowError(i int, msg string) *storagepb.RowError {
	return &storagepb.RowError{Index: int64(i), Code: storagepb.RowError_FIELDS_ERROR, Message: msg}
}

// apply writes one decoded row: an append, or a CDC upsert or delete by primary key. decode
// has checked the change type, and checkWriter that a CDC table has a key. Per key the change
// with the highest sequence number wins whatever order the changes arrive in, a DELETE too:
// a DELETE leaves a tombstone with its sequence, so an older UPSERT arriving after it (or a
// DELETE arriving before the row it deletes) does not bring the row back. A change without a
// sequence number counts as the newest.
func (t *table) apply(r Row) {
	change, _ := r[ChangeType].(string)
	seq, _ := r[ChangeSequenceNumber].(string)
	r = withoutPseudo(r)
	if change == "" {
		t.rows = append(t.rows, r)
		t.keys = append(t.keys, "")
		t.seqs = append(t.seqs, "")
		return
	}
	key := t.key(r)
	i := slices.Index(t.keys, key)
	if i >= 0 && seq != "" && compareSequence(seq, t.seqs[i]) < 0 {
		return // an older change than the one applied: BigQuery keeps the newer
	}
	if dead, ok := t.tombstones[key]; i < 0 && ok && seq != "" && compareSequence(seq, dead) < 0 {
		return // older than the DELETE applied to the key
	}
	switch {
	case strings.EqualFold(change, "UPSERT") && i >= 0:
		t.rows[i], t.seqs[i] = r, seq
	case strings.EqualFold(change, "UPSERT"):
		delete(t.tombstones, key)
		t.rows = append(t.rows, r)
		t.keys = append(t.keys, key)
		t.seqs = append(t.seqs, seq)
	default: // DELETE, of a present row or not
		if t.tombstones == nil {
			t.tombstones = map[string]string{}
		}
		t.tombstones[key] = seq
		if i >= 0 {
			t.rows = slices.Delete(t.rows, i, i+1)
			t.keys = slices.Delete(t.keys, i, i+1)
			t.seqs = slices.Delete(t.seqs, i, i+1)
		}
	}
}

func (t *table) key(r Row) string {
	var b strings.Builder
	for _, c := range t.primaryKey {
		fmt.Fprintf(&b, "%v\x00", r[c])
	}
	return b.String()
}

// compareSequence orders _CHANGE_SEQUENCE_NUMBER values: up to four hexadecimal sections
// separated by '/', compared section by section as numbers.
func compareSequence(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	for i := range max(len(as), len(bs)) {
		var x, y string
		if i < len(as) {
			x = strings.TrimLeft(strings.ToUpper(as[i]), "0")
		}
		if i < len(bs) {
			y = strings.TrimLeft(strings.ToUpper(bs[i]), "0")
		}
		if len(x) != len(y) {
			return len(x) - len(y)
		}
		if c := strings.Compare(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func withoutPseudo(r Row) Row {
	if _, ok := r[ChangeType]; !ok {
		if _, ok := r[ChangeSequenceNumber]; !ok {
			return r
		}
	}
	out := make(Row, len(r))
	for k, v := range r {
		if k != ChangeType && k != ChangeSequenceNumber {
			out[k] = v
		}
	}
	return out
}

func cloneRow(r Row) Row {
	out := make(Row, len(r))
	for k, v := range r {
		out[k] = cloneValue(v)
	}
	return out
}

func cloneValue(v any) any {
	switch v := v.(type) {
	case Row:
		return cloneRow(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	case []byte:
		return slices.Clone(v)
	}
	return v
}
