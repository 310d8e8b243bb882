package bigquery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"cloud.google.com/go/bigquery/storage/managedwriter"
	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn4x1[context.Context, beam.EventTime, beam.X, func(beam.EventTime, schemas.DeadLetter), error](&writeFn{})
	register.Emitter2[beam.EventTime, schemas.DeadLetter]()
}

// Dead-letter reasons of the Storage Write sink (the suffix of deadletter.<reason>).
const (
	// ReasonRowError: BigQuery refused the row (a row error in the append response).
	ReasonRowError = "bigquery_row_error"
	// ReasonRejected: BigQuery refused a whole append with INVALID_ARGUMENT and no row errors;
	// every row of it is a dead letter.
	ReasonRejected = "bigquery_rejected"
	// ReasonEncode: the row does not fit the table schema and was never sent.
	ReasonEncode = "bigquery_encode_error"
	// ReasonTooLarge: the row alone is above the AppendRows request limit (10 MB), so no append
	// can carry it; it was never sent, or BigQuery refused it as too large.
	ReasonTooLarge = "bigquery_too_large"
)

// maxRowBytes is the largest serialized row the sink sends: the AppendRows limit less room for
// the rest of the request (stream name, writer schema).
const maxRowBytes = maxRequestBytes - 256<<10

// Write writes rows to a BigQuery table through the Storage Write API, on the table's default
// stream: appended (at-least-once; a retried bundle appends its rows again) or, with cfg.CDC,
// upserted by the table's primary key (a retried bundle or a later pane replaces the row).
// Rows are batched into appends of at most MaxBatchRows rows and MaxBatchBytes bytes, with at
// most MaxInFlight appends awaiting their result per worker; every append of a bundle is
// acknowledged by BigQuery before the bundle finishes. Transient errors are retried with
// backoff; rows BigQuery refuses become dead letters (step "bigquery.<schema>", payload the
// row's JSON), never silently lost, and an append refused as too large is split until its
// parts fit, so one oversized row is a dead letter, never a poison pill. The table must exist unless cfg.CreateTables is set.
//
// rows may be any type whose JSON encoding matches the table's schema in schemas/bigquery
// (schemas.Event, schemas.ProductMetric, schemas.DeadLetterRow, …). The dead letters are in the
// global window, stamped with their row's timestamp. An invalid cfg panics.
//
// Write: PCollection<row> -> PCollection<schemas.DeadLetter>
func Write(s beam.Scope, rows beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("bigquery.Write")
	cfg = cfg.WithDefaults()
	if cfg.RunStart.IsZero() {
		cfg.RunStart = time.Now()
	}
	if cfg.CDC && cfg.RunSequence == 0 {
		cfg.RunSequence = cfg.RunStart.UnixMicro()
	}
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	// Dead letters are emitted when their append's result arrives, possibly in FinishBundle,
	// where Beam Go puts outputs in the global window; rows are put there first so every output
	// is in the window its collection declares.
	global := beam.WindowInto(s, window.NewGlobalWindows(), rows)
	return beam.ParDo(s, &writeFn{Config: cfg}, global)
}

type writeFn struct {
	Config

	codec  *rowCodec             // the columns both the binary and the table know
	schema schemaState           // evolve.go
	client *managedwriter.Client // shared by the process's instances (acquireClient)
	stream *managedwriter.ManagedStream

	batch      []pendingRow
	batchBytes int
	inflight   []*appendCall
	dead       []deadRow

	rows, out, rowErrors, retries telemetry.Counter
	latency, lag                  telemetry.Distribution
}

// pendingRow is a row from the moment it is read until BigQuery acknowledges it, with what a
// dead letter for it needs.
type pendingRow struct {
	data        []byte // the serialized proto message
	json        []byte
	ts          beam.EventTime
	messageID   string
	publishTime time.Time
	attributes  map[string]string
}

// appendCall is one append request awaiting its result.
type appendCall struct {
	rows    []pendingRow
	result  *managedwriter.AppendResult
	sent    time.Time
	retries int
}

type deadRow struct {
	ts     beam.EventTime
	letter schemas.DeadLetter
}

func (fn *writeFn) Setup(ctx context.Context) error {
	fields, err := schemas.TableSchema(fn.Schema)
	if err != nil {
		return err
	}
	if fn.codec, err = newRowCodec(fn.Schema, fields, fn.CDC, changeOrder{run: fn.RunSequence, start: fn.RunStart, backfill: fn.Backfill}); err != nil {
		return err
	}
	if fn.client, err = acquireClient(fn.Config); err != nil {
		return err
	}
	if err = ensureTable(ctx, fn.client, fn.Config); err == nil {
		err = fn.adoptTableSchema(ctx)
	}
	if err != nil {
		releaseClient(fn.Config)
		fn.client = nil
		return err
	}
	// The stream keeps its context for its connection: not the Setup call's.
	fn.stream, err = fn.client.NewManagedStream(context.Background(),
		managedwriter.WithDestinationTable(fn.TableName()),
		managedwriter.WithType(managedwriter.DefaultStream),
		managedwriter.WithSchemaDescriptor(fn.codec.descriptor),
		// Retries are ours (bounded, with backoff that grows), not the client's fixed ones.
		managedwriter.EnableWriteRetries(false))
	if err != nil {
		releaseClient(fn.Config)
		fn.client = nil
		return fmt.Errorf("bigquery %s: opening the default stream: %w", fn.TableName(), err)
	}
	fn.rows = telemetry.NewCounter("bigquery." + fn.Schema + ".rows")
	fn.out = telemetry.NewCounter(fn.Schema + ".out")
	fn.rowErrors = telemetry.NewCounter("bigquery." + fn.Schema + ".row_errors")
	fn.retries = telemetry.NewCounter("bigquery." + fn.Schema + ".retries")
	fn.latency = telemetry.NewDistribution("bigquery.append_latency_ms")
	fn.lag = telemetry.NewDistribution("event_lag_ms")
	return nil
}

func (fn *writeFn) StartBundle(context.Context, func(beam.EventTime, schemas.DeadLetter)) {
	// A failed bundle may have left appends behind; the runner retries its rows.
	fn.batch, fn.batchBytes, fn.inflight, fn.dead = nil, 0, nil, nil
}

func (fn *writeFn) ProcessElement(ctx context.Context, ts beam.EventTime, row beam.X, _ func(beam.EventTime, schemas.DeadLetter)) error {
	row = withKey(row, fn.RunID)
	js, err := json.Marshal(row)
	if err != nil {
		return fmt.Errorf("bigquery %s: encoding %T as JSON: %w", fn.Table, row, err)
	}
	r := pendingRow{json: js, ts: ts}
	r.describe(row)
	if r.data, err = fn.codec.encode(js); err != nil {
		return fn.deadLetter(ctx, r, ReasonEncode, err)
	}
	if len(r.data) > maxRowBytes {
		return fn.deadLetter(ctx, r, ReasonTooLarge,
			fmt.Errorf("row is %d bytes, over the %d-byte limit of one append", len(r.data), maxRowBytes))
	}
	dels, err := fn.codec.deletes(js)
	if err != nil {
		return fn.deadLetter(ctx, r, ReasonEncode, err)
	}
	for _, d := range dels {
		del := r
		del.data = d
		if err := fn.add(ctx, del); err != nil {
			return err
		}
	}
	if err := fn.add(ctx, r); err != nil {
		return err
	}
	if fn.RecordLag {
		telemetry.LagMillis(ctx, fn.lag, ts.ToTime())
	}
	return nil
}

// add puts a row into the batch, sending the batch first when the row would overflow it.
func (fn *writeFn) add(ctx context.Context, r pendingRow) error {
	if len(fn.batch) > 0 && (len(fn.batch) >= fn.MaxBatchRows || fn.batchBytes+len(r.data) > fn.MaxBatchBytes) {
		if err := fn.flush(ctx); err != nil {
			return err
		}
	}
	fn.batch = append(fn.batch, r)
	fn.batchBytes += len(r.data)
	return nil
}

// FinishBundle sends the last batch and waits for every append of the bundle, so a bundle that
// commits has all its rows acknowledged by BigQuery (or dead-lettered).
func (fn *writeFn) FinishBundle(ctx context.Context, emit func(beam.EventTime, schemas.DeadLetter)) error {
	if err := fn.flush(ctx); err != nil {
		return err
	}
	for len(fn.inflight) > 0 {
		if err := fn.awaitOldest(ctx); err != nil {
			return err
		}
	}
	for _, d := range fn.dead {
		emit(d.ts, d.letter)
	}
	fn.dead = nil
	return nil
}

func (fn *writeFn) Teardown() error {
	var errs []error
	if fn.stream != nil {
		// Close reports io.EOF when the stream closes normally.
		if err := fn.stream.Close(); err != nil && !errors.Is(err, io.EOF) {
			errs = append(errs, err)
		}
		fn.stream = nil
	}
	if fn.client != nil {
		errs = append(errs, releaseClient(fn.Config))
		fn.client = nil
	}
	return errors.Join(errs...)
}

// describe keeps what a dead letter for the row should carry besides its JSON.
func (r *pendingRow) describe(row any) {
	switch v := row.(type) {
	case schemas.Event:
		r.messageID, r.publishTime = v.MessageID, v.PublishTime
	case schemas.DeadLetterRow:
		r.messageID, r.publishTime = v.MessageID, v.PublishTime
		if len(v.Attributes) > 0 {
			r.attributes = make(map[string]string, len(v.Attributes))
			for _, kv := range v.Attributes {
				r.attributes[kv.Key] = kv.Value
			}
		}
	}
}

// flush sends the current batch, then waits while too many appends are in flight.
func (fn *writeFn) flush(ctx context.Context) error {
	if len(fn.batch) > 0 {
		call := &appendCall{rows: fn.batch}
		fn.batch, fn.batchBytes = nil, 0
		if err := fn.send(ctx, call); err != nil {
			return err
		}
	}
	for len(fn.inflight) >= fn.MaxInFlight {
		if err := fn.awaitOldest(ctx); err != nil {
			return err
		}
	}
	return nil
}

// send enqueues an append, retrying a transient failure to enqueue it (e.g. reconnecting).
func (fn *writeFn) send(ctx context.Context, call *appendCall) error {
	data := make([][]byte, len(call.rows))
	for i, r := range call.rows {
		data[i] = r.data
	}
	for {
		call.sent = time.Now()
		res, err := fn.stream.AppendRows(ctx, data, fn.schema.appendOptions()...)
		if err == nil {
			fn.schema.pending = nil
			call.result = res
			fn.inflight = append(fn.inflight, call)
			return nil
		}
		if err := fn.retry(ctx, call, err); err != nil {
			return err
		}
	}
}

// retry waits before the next attempt of call, or returns the error to fail the bundle with
// when err is not transient or the retries are used up.
func (fn *writeFn) retry(ctx context.Context, call *appendCall, err error) error {
	if !transient(ctx, err) || call.retries >= fn.MaxRetries {
		return fmt.Errorf("bigquery %s: append of %d rows failed after %d retries: %w", fn.TableName(), len(call.rows), call.retries, err)
	}
	fn.retries.Inc(ctx, 1)
	wait := backoff(fn.InitialBackoff, fn.MaxBackoff, call.retries)
	call.retries++
	return sleep(ctx, wait)
}

// awaitOldest waits for the oldest append in flight and handles its result: rows BigQuery
// refused become dead letters and the rest are appended again (BigQuery writes no row of a
// request with row errors); a transient error is retried.
func (fn *writeFn) awaitOldest(ctx context.Context) error {
	call := fn.inflight[0]
	fn.inflight = fn.inflight[1:]
	// GetResult returns nil for a response with row errors and no error status: read the
	// full response.
	resp, err := call.result.FullResponse(ctx)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("bigquery %s: waiting for an append: %w", fn.TableName(), ctxErr)
	}
	fn.latency.Update(ctx, time.Since(call.sent).Milliseconds())
	fn.schemaUpdated(ctx, resp.GetUpdatedSchema())

	if rowErrs := resp.GetRowErrors(); len(rowErrs) > 0 {
		refused := make(map[int64]string, len(rowErrs))
		for _, re := range rowErrs {
			refused[re.GetIndex()] = fmt.Sprintf("%s: %s", re.GetCode(), re.GetMessage())
		}
		var keep []pendingRow
		for i, r := range call.rows {
			if msg, ok := refused[int64(i)]; ok {
				if err := fn.deadLetter(ctx, r, ReasonRowError, errors.New(msg)); err != nil {
					return err
				}
			} else {
				keep = append(keep, r)
			}
		}
		if len(keep) == len(call.rows) { // row errors that name no row of ours
			return fmt.Errorf("bigquery %s: append failed with row errors for unknown rows: %v: %w", fn.TableName(), rowErrs, err)
		}
		if len(keep) == 0 {
			return nil
		}
		return fn.send(ctx, &appendCall{rows: keep, retries: call.retries})
	}
	switch {
	case err == nil:
		n := int64(len(call.rows))
		fn.rows.Inc(ctx, n)
		fn.out.Inc(ctx, n)
		return nil
	case tooLarge(err) && len(call.rows) > 1:
		// A permanent refusal of the request's size, not of its rows: send each half on its
		// own, down to single rows, so only a row that cannot fit any append is a dead letter.
		half := len(call.rows) / 2
		if err := fn.send(ctx, &appendCall{rows: call.rows[:half:half]}); err != nil {
			return err
		}
		return fn.send(ctx, &appendCall{rows: call.rows[half:]})
	case tooLarge(err):
		return fn.deadLetter(ctx, call.rows[0], ReasonTooLarge, err)
	case status.Code(err) == codes.InvalidArgument:
		for _, r := range call.rows {
			if err := fn.deadLetter(ctx, r, ReasonRejected, err); err != nil {
				return err
			}
		}
		return nil
	}
	if err := fn.retry(ctx, call, err); err != nil {
		return err
	}
	return fn.send(ctx, call)
}

// deadLetter records a refused row as a dead letter (deadletter.Route decides where it goes,
// and fails the bundle when nothing takes it).
func (fn *writeFn) deadLetter(ctx context.Context, r pendingRow, reason string, err error) error {
	fn.rowErrors.Inc(ctx, 1)
	msg := schemas.Message{Data: r.json, Attributes: r.attributes, MessageID: r.messageID, PublishTime: r.publishTime}
	fn.dead = append(fn.dead, deadRow{ts: r.ts, letter: deadletter.FromMessage(ctx, "bigquery."+fn.Schema, reason, msg, err)})
	return nil
}

// tooLarge reports whether BigQuery refused an append for its size ("AppendRows request too
// large: <n> limit 10485760 …", INVALID_ARGUMENT): permanent for that request, never retried.
func tooLarge(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.InvalidArgument && strings.Contains(st.Message(), "request too large")
}

// transient reports whether an append error may go away on retry.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	if errors.Is(err, io.EOF) { // the connection closed under the append
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.Internal, codes.DeadlineExceeded,
		codes.Canceled: // managedwriter reports a connection it replaced as Canceled
		return true
	}
	return false
}

// backoff is the wait before retry n (from 0): initial·2ⁿ capped at limit, with the upper half
// jittered so that workers that failed together do not retry together.
func backoff(initial, limit time.Duration, n int) time.Duration {
	d := limit
	if n < 30 && initial<<n < limit {
		d = initial << n
	}
	return d/2 + rand.N(d/2+1)
}
