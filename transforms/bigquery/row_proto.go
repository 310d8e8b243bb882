package bigquery

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter/adapt"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/tributary-dev/tributary/schemas"
)

// CDC pseudo-columns (https://cloud.google.com/bigquery/docs/change-data-capture).
const (
	changeTypeColumn     = "_CHANGE_TYPE"
	changeSequenceColumn = "_CHANGE_SEQUENCE_NUMBER"
	// sequenceSource is the column whose value orders the changes of one key: a later pane of a
	// window has a higher pane_index, so BigQuery keeps it even if an earlier pane's append is
	// retried after it. A table without it has pane section 0.
	sequenceSource = "pane_index"
	// supersedesColumn lists the session_ids a merged user_sessions row replaces: each is
	// deleted.
	supersedesColumn = "supersedes"
	sessionIDColumn  = "session_id"
	// windowEndColumn decides a row's class of change (sequence.go).
	windowEndColumn = "window_end"
)

// rowCodec encodes a table's rows as the proto messages the Storage Write API takes. Rows come
// as their JSON encoding (the same JSON the local NDJSON sink writes), walked against the table
// schema from schemas/bigquery, so any row type whose JSON matches its table works.
type rowCodec struct {
	columns    []column
	descriptor *descriptorpb.DescriptorProto // normalized, for the writer schema
	changeType protoreflect.FieldDescriptor  // CDC only
	changeSeq  protoreflect.FieldDescriptor  // CDC only
	order      changeOrder
}

// column is one table column and its field in the message.
type column struct {
	name     string
	typ      string // canonical BigQuery type: STRING, INT64, NUMERIC, RECORD, …
	required bool
	repeated bool
	field    protoreflect.FieldDescriptor
	columns  []column // RECORD
}

// canonicalType maps the legacy and standard SQL spellings of a BigQuery type to one name.
func canonicalType(t string) (string, storagepb.TableFieldSchema_Type, error) {
	switch strings.ToUpper(t) {
	case "STRING":
		return "STRING", storagepb.TableFieldSchema_STRING, nil
	case "BYTES":
		return "BYTES", storagepb.TableFieldSchema_BYTES, nil
	case "INTEGER", "INT64":
		return "INT64", storagepb.TableFieldSchema_INT64, nil
	case "FLOAT", "FLOAT64":
		return "FLOAT64", storagepb.TableFieldSchema_DOUBLE, nil
	case "NUMERIC":
		return "NUMERIC", storagepb.TableFieldSchema_NUMERIC, nil
	case "BIGNUMERIC":
		return "BIGNUMERIC", storagepb.TableFieldSchema_BIGNUMERIC, nil
	case "BOOLEAN", "BOOL":
		return "BOOL", storagepb.TableFieldSchema_BOOL, nil
	case "TIMESTAMP":
		return "TIMESTAMP", storagepb.TableFieldSchema_TIMESTAMP, nil
	case "DATE":
		return "DATE", storagepb.TableFieldSchema_DATE, nil
	case "GEOGRAPHY":
		return "GEOGRAPHY", storagepb.TableFieldSchema_GEOGRAPHY, nil
	case "JSON":
		return "JSON", storagepb.TableFieldSchema_JSON, nil
	case "RECORD", "STRUCT":
		return "RECORD", storagepb.TableFieldSchema_STRUCT, nil
	}
	// TIME and DATETIME travel as packed civil-time integers; no table here uses them.
	return "", 0, fmt.Errorf("column type %s is not supported by the Storage Write sink", t)
}

func storageMode(m string) (storagepb.TableFieldSchema_Mode, error) {
	switch strings.ToUpper(m) {
	case "", "NULLABLE":
		return storagepb.TableFieldSchema_NULLABLE, nil
	case "REQUIRED":
		return storagepb.TableFieldSchema_REQUIRED, nil
	case "REPEATED":
		return storagepb.TableFieldSchema_REPEATED, nil
	}
	return 0, fmt.Errorf("unknown mode %q", m)
}

// storageFields converts table fields to the Storage API's schema. Every field gets a Mode:
// adapt refuses a field without one ("invalid cardinality").
func storageFields(fields []schemas.TableField) ([]*storagepb.TableFieldSchema, error) {
	out := make([]*storagepb.TableFieldSchema, 0, len(fields))
	for _, f := range fields {
		_, typ, err := canonicalType(f.Type)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		mode, err := storageMode(f.Mode)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", f.Name, err)
		}
		sf := &storagepb.TableFieldSchema{Name: f.Name, Type: typ, Mode: mode, Description: f.Description}
		if typ == storagepb.TableFieldSchema_STRUCT {
			if sf.Fields, err = storageFields(f.Fields); err != nil {
				return nil, fmt.Errorf("column %s: %w", f.Name, err)
			}
		}
		out = append(out, sf)
	}
	return out, nil
}

// newRowCodec builds the codec of a table from its schema. With cdc, rows carry _CHANGE_TYPE
// (UPSERT, or DELETE for deletes) and _CHANGE_SEQUENCE_NUMBER <class>/<run>/<pane> in
// hexadecimal, pane the row's pane_index or 0 (sequence.go; BigQuery compares the sections in
// turn).
func newRowCodec(table string, fields []schemas.TableField, cdc bool, order changeOrder) (*rowCodec, error) {
	sfs, err := storageFields(fields)
	if err != nil {
		return nil, fmt.Errorf("bigquery %s: %w", table, err)
	}
	if cdc {
		sfs = append(sfs,
			&storagepb.TableFieldSchema{Name: changeTypeColumn, Type: storagepb.TableFieldSchema_STRING, Mode: storagepb.TableFieldSchema_NULLABLE},
			&storagepb.TableFieldSchema{Name: changeSequenceColumn, Type: storagepb.TableFieldSchema_STRING, Mode: storagepb.TableFieldSchema_NULLABLE})
	}
	d, err := adapt.StorageSchemaToProto2Descriptor(&storagepb.TableSchema{Fields: sfs}, "root")
	if err != nil {
		return nil, fmt.Errorf("bigquery %s: building proto descriptor: %w", table, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		return nil, fmt.Errorf("bigquery %s: adapt returned %T, not a message descriptor", table, d)
	}
	dp, err := adapt.NormalizeDescriptor(md)
	if err != nil {
		return nil, fmt.Errorf("bigquery %s: normalizing proto descriptor: %w", table, err)
	}
	c := &rowCodec{descriptor: dp, order: order}
	if c.columns, err = bindColumns(md, fields); err != nil {
		return nil, fmt.Errorf("bigquery %s: %w", table, err)
	}
	if cdc {
		c.changeType = md.Fields().ByNumber(protoreflect.FieldNumber(len(fields) + 1))
		c.changeSeq = md.Fields().ByNumber(protoreflect.FieldNumber(len(fields) + 2))
	}
	return c, nil
}

// bindColumns pairs each table field with its message field; adapt numbers fields from 1 in
// schema order.
func bindColumns(md protoreflect.MessageDescriptor, fields []schemas.TableField) ([]column, error) {
	cols := make([]column, len(fields))
	for i, f := range fields {
		fd := md.Fields().ByNumber(protoreflect.FieldNumber(i + 1))
		if fd == nil {
			return nil, fmt.Errorf("column %s has no proto field", f.Name)
		}
		typ, _, _ := canonicalType(f.Type)
		mode := strings.ToUpper(f.Mode)
		cols[i] = column{name: f.Name, typ: typ, required: mode == "REQUIRED", repeated: mode == "REPEATED", field: fd}
		if typ == "RECORD" {
			sub, err := bindColumns(fd.Message(), f.Fields)
			if err != nil {
				return nil, fmt.Errorf("column %s: %w", f.Name, err)
			}
			cols[i].columns = sub
		}
	}
	return cols, nil
}

// encode converts a row's JSON encoding to the serialized proto message. An error means the
// row does not fit the table (a wrong type, a missing required column, an unknown column).
// The proto2 wire format is written directly (field numbers from the descriptor): dynamicpb
// and its reflective Marshal cost more than everything else here.
func (c *rowCodec) encode(rowJSON []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(rowJSON))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("row is not a JSON object: %w", err)
	}
	return c.encodeChange(obj, "UPSERT", -1)
}

// deletes returns the CDC deletes a row implies, serialized: one per session_id it lists in
// supersedes (user_sessions), each the row itself with that session_id, so it satisfies the
// table's REQUIRED columns. A delete's sequence has the highest pane section of its run and
// class, so no upsert of the superseded session from the same run outranks it.
func (c *rowCodec) deletes(rowJSON []byte) ([][]byte, error) {
	if c.changeType == nil || !bytes.Contains(rowJSON, []byte(`"`+supersedesColumn+`"`)) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(rowJSON))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, fmt.Errorf("row is not a JSON object: %w", err)
	}
	refs, _ := obj[supersedesColumn].([]any)
	var out [][]byte
	for _, ref := range refs {
		id, _ := ref.(map[string]any)[sessionIDColumn].(string)
		if id == "" || id == obj[sessionIDColumn] {
			continue
		}
		del := maps.Clone(obj)
		del[sessionIDColumn] = id
		delete(del, supersedesColumn)
		b, err := c.encodeChange(del, "DELETE", math.MaxInt64)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// encodeChange encodes a decoded row; under CDC as a change of type change, whose sequence
// has pane section pane, or the row's pane_index (0 without one) when pane is negative.
func (c *rowCodec) encodeChange(obj map[string]any, change string, pane int64) ([]byte, error) {
	b, err := appendColumns(make([]byte, 0, 512), c.columns, obj)
	if err != nil {
		return nil, err
	}
	if c.changeType == nil {
		return b, nil
	}
	b = protowire.AppendTag(b, c.changeType.Number(), protowire.BytesType)
	b = protowire.AppendString(b, change)
	if pane < 0 {
		pane = 0
		if n, err := toInt64(obj[sequenceSource]); err == nil && n >= 0 {
			pane = n
		}
	}
	var end time.Time
	if s, ok := obj[windowEndColumn].(string); ok {
		end, _ = time.Parse(time.RFC3339Nano, s) // checked by appendColumns
	}
	b = protowire.AppendTag(b, c.changeSeq.Number(), protowire.BytesType)
	return protowire.AppendString(b, c.order.sequence(end, pane)), nil
}

func appendColumns(b []byte, cols []column, obj map[string]any) ([]byte, error) {
	for k := range obj {
		if !slices.ContainsFunc(cols, func(c column) bool { return c.name == k }) {
			return nil, fmt.Errorf("field %s is not a column of the table", k)
		}
	}
	var err error
	for _, col := range cols {
		v, ok := obj[col.name]
		if !ok || v == nil {
			if col.required {
				return nil, fmt.Errorf("column %s is REQUIRED but missing", col.name)
			}
			continue
		}
		if !col.repeated {
			if b, err = appendValue(b, col, v); err != nil {
				return nil, fmt.Errorf("column %s: %w", col.name, err)
			}
			continue
		}
		arr, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("column %s is REPEATED but got %T", col.name, v)
		}
		// Repeated scalars go unpacked, which proto parsers accept for packed fields too.
		for i, e := range arr {
			if b, err = appendValue(b, col, e); err != nil {
				return nil, fmt.Errorf("column %s[%d]: %w", col.name, i, err)
			}
		}
	}
	return b, nil
}

// appendValue appends one field: the tag and one JSON value of the column (one element when
// repeated) in the column's proto type, as adapt maps BigQuery types.
func appendValue(b []byte, col column, v any) ([]byte, error) {
	num := col.field.Number()
	switch col.typ {
	case "STRING", "GEOGRAPHY":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a string, got %T", v)
		}
		return protowire.AppendString(protowire.AppendTag(b, num, protowire.BytesType), s), nil
	case "JSON":
		j, err := json.Marshal(v) // objects come back with sorted keys; numbers as written
		if err != nil {
			return nil, err
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), j), nil
	case "BYTES":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want base64 bytes, got %T", v)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("bytes: %w", err)
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), raw), nil
	case "INT64":
		n, err := toInt64(v)
		if err != nil {
			return nil, err
		}
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(n)), nil
	case "FLOAT64":
		f, err := toFloat64(v)
		if err != nil {
			return nil, err
		}
		return protowire.AppendFixed64(protowire.AppendTag(b, num, protowire.Fixed64Type), math.Float64bits(f)), nil
	case "BOOL":
		x, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("want a bool, got %T", v)
		}
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), protowire.EncodeBool(x)), nil
	case "NUMERIC", "BIGNUMERIC":
		scale := 9
		if col.typ == "BIGNUMERIC" {
			scale = 38
		}
		n, err := encodeNumeric(v, scale)
		if err != nil {
			return nil, err
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), n), nil
	case "TIMESTAMP":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want an RFC 3339 time, got %T", v)
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil { // not time.Parse's error, which quotes the value
			return nil, errors.New("not an RFC 3339 time")
		}
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(t.UnixMicro())), nil
	case "DATE":
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("want a date, got %T", v)
		}
		t, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return nil, errors.New("not a date (YYYY-MM-DD)")
		}
		// int32 on the wire: a negative value is sign-extended to 64 bits.
		return protowire.AppendVarint(protowire.AppendTag(b, num, protowire.VarintType), uint64(int64(int32(t.Unix()/86400)))), nil
	case "RECORD":
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want an object, got %T", v)
		}
		sub, err := appendColumns(nil, col.columns, obj)
		if err != nil {
			return nil, err
		}
		return protowire.AppendBytes(protowire.AppendTag(b, num, protowire.BytesType), sub), nil
	}
	return nil, fmt.Errorf("unsupported type %s", col.typ)
}

func toInt64(v any) (int64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Int64()
	case string: // BigQuery's JSON accepts quoted integers
		return strconv.ParseInt(n, 10, 64)
	}
	return 0, fmt.Errorf("want an integer, got %T", v)
}

func toFloat64(v any) (float64, error) {
	switch n := v.(type) {
	case json.Number:
		return n.Float64()
	case string:
		return strconv.ParseFloat(n, 64)
	}
	return 0, fmt.Errorf("want a number, got %T", v)
}

var errNumericRange = errors.New("out of NUMERIC range")

// encodeNumeric encodes a decimal (JSON string or number) as the Storage Write API documents
// NUMERIC and BIGNUMERIC in bytes (Java's BigDecimalByteStringEncoder): the value scaled by
// 10^scale, as a minimal two's complement integer in little-endian byte order.
func encodeNumeric(v any, scale int) ([]byte, error) {
	var s string
	switch n := v.(type) {
	case string:
		s = n
	case json.Number:
		s = n.String()
	default:
		return nil, fmt.Errorf("want a decimal, got %T", v)
	}
	if n, ok := scaledInt64(s, scale); ok {
		return int64LE(n), nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, errors.New("not a decimal number")
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil)))
	if !r.IsInt() {
		return nil, fmt.Errorf("more than %d fractional digits", scale)
	}
	n := r.Num()
	// NUMERIC holds 38 digits; BIGNUMERIC 76.something: bound both by their byte width.
	if scale == 9 && n.CmpAbs(maxNumeric) > 0 || n.BitLen() > 255 {
		return nil, errNumericRange
	}
	return twosComplementLE(n), nil
}

// scaledInt64 is the fast path of encodeNumeric: a plain decimal ("-12.5") whose value times
// 10^scale fits an int64, as every amount here does.
func scaledInt64(s string, scale int) (int64, bool) {
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > scale || len(whole)+scale > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(whole)+scale; i++ {
		var c byte = '0'
		switch {
		case i < len(whole):
			c = whole[i]
		case i-len(whole) < len(frac):
			c = frac[i-len(whole)]
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// int64LE is twosComplementLE for an int64.
func int64LE(n int64) []byte {
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 8), uint64(n))
	for len(b) > 1 {
		last, prev := b[len(b)-1], b[len(b)-2]
		if last == 0x00 && prev&0x80 == 0 || last == 0xff && prev&0x80 != 0 {
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

var maxNumeric, _ = new(big.Int).SetString("99999999999999999999999999999999999999", 10)

// twosComplementLE is Java's BigInteger.toByteArray (minimal big-endian two's complement)
// reversed.
func twosComplementLE(n *big.Int) []byte {
	var be []byte
	if n.Sign() >= 0 {
		be = n.Bytes()
		if len(be) == 0 || be[0]&0x80 != 0 {
			be = append([]byte{0}, be...)
		}
	} else {
		k := new(big.Int).Not(n).BitLen()/8 + 1 // bytes for the magnitude plus a sign bit
		m := new(big.Int).Lsh(big.NewInt(1), uint(8*k))
		be = m.Add(m, n).FillBytes(make([]byte, k))
	}
	slices.Reverse(be)
	return be
}
