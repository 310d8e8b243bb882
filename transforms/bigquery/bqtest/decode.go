package bqtest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/tributary-dev/tributary/schemas"
)

// descriptorOf builds the message descriptor of a writer schema: a self-contained
// DescriptorProto, nested types inlined, as managedwriter/adapt.NormalizeDescriptor makes it.
func descriptorOf(dp *descriptorpb.DescriptorProto) (protoreflect.MessageDescriptor, error) {
	if dp == nil {
		return nil, fmt.Errorf("empty proto descriptor")
	}
	fdp := &descriptorpb.FileDescriptorProto{
		Name:        proto.String("bqtest_writer.proto"),
		Syntax:      proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{dp},
	}
	fd, err := protodesc.NewFile(fdp, nil)
	if err != nil {
		return nil, err
	}
	return fd.Messages().Get(0), nil
}

// columnName is a field's column: its name, or the column_name annotation adapt sets on names
// that are not valid proto identifiers.
func columnName(fd protoreflect.FieldDescriptor) string {
	if opts, ok := fd.Options().(*descriptorpb.FieldOptions); ok && opts != nil && proto.HasExtension(opts, storagepb.E_ColumnName) {
		if n, ok := proto.GetExtension(opts, storagepb.E_ColumnName).(string); ok && n != "" {
			return n
		}
	}
	return string(fd.Name())
}

func fieldByName(fields []schemas.TableField, name string) *schemas.TableField {
	for i := range fields {
		if strings.EqualFold(fields[i].Name, name) {
			return &fields[i]
		}
	}
	return nil
}

// checkWriter refuses a writer schema BigQuery would refuse: a field the table does not have,
// or CDC pseudo-columns on a table without a primary key.
func (t *table) checkWriter(desc protoreflect.MessageDescriptor) error {
	fields := desc.Fields()
	for i := range fields.Len() {
		name := columnName(fields.Get(i))
		if name == ChangeType || name == ChangeSequenceNumber {
			if len(t.primaryKey) == 0 {
				return fmt.Errorf("%s is only allowed on a table with a primary key", name)
			}
			continue
		}
		if t.schema != nil && fieldByName(t.schema, name) == nil {
			return fmt.Errorf("Input schema has more fields than BigQuery schema, extra fields: '%s'", name)
		}
	}
	return nil
}

// decode unmarshals one serialized row with the writer's descriptor and converts it to a Row.
func (t *table) decode(desc protoreflect.MessageDescriptor, b []byte) (Row, error) {
	m := dynamicpb.NewMessage(desc)
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decoding row: %w", err)
	}
	r, err := toRow(m, t.schema)
	if err != nil {
		return nil, err
	}
	if c, ok := r[ChangeType]; ok {
		if s, _ := c.(string); !strings.EqualFold(s, "UPSERT") && !strings.EqualFold(s, "DELETE") {
			return nil, fmt.Errorf("%s %q is not UPSERT or DELETE", ChangeType, c)
		}
	}
	if v, ok := r[ChangeSequenceNumber]; ok {
		if s, _ := v.(string); !validSequence(s) {
			return nil, fmt.Errorf("%s %q is not up to four sections of up to 16 hexadecimal digits separated by '/'", ChangeSequenceNumber, v)
		}
	}
	return r, nil
}

// toRow converts a message to a Row, typed by fields when they are known.
func toRow(m protoreflect.Message, fields []schemas.TableField) (Row, error) {
	r := Row{}
	fds := m.Descriptor().Fields()
	for i := range fds.Len() {
		fd := fds.Get(i)
		name := columnName(fd)
		var col *schemas.TableField
		if fields != nil && name != ChangeType && name != ChangeSequenceNumber {
			col = fieldByName(fields, name)
		}
		if !m.Has(fd) {
			continue
		}
		v, err := toValue(fd, m.Get(fd), col)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", name, err)
		}
		r[name] = v
	}
	for _, f := range fields {
		if _, ok := r[f.Name]; ok {
			continue
		}
		switch strings.ToUpper(f.Mode) {
		case "REQUIRED":
			return nil, fmt.Errorf("missing required field %s", f.Name)
		case "REPEATED": // BigQuery has no NULL arrays: an absent one is empty
			r[f.Name] = []any{}
		}
	}
	return r, nil
}

func toValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, col *schemas.TableField) (any, error) {
	if fd.IsList() {
		l := v.List()
		out := make([]any, l.Len())
		for i := range l.Len() {
			e, err := scalar(fd, l.Get(i), col)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	}
	return scalar(fd, v, col)
}

func scalar(fd protoreflect.FieldDescriptor, v protoreflect.Value, col *schemas.TableField) (any, error) {
	if fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind {
		var sub []schemas.TableField
		if col != nil {
			sub = col.Fields
		}
		return toRow(v.Message(), sub)
	}
	raw := v.Interface()
	if col == nil {
		if b, ok := raw.([]byte); ok {
			return slices.Clone(b), nil
		}
		return raw, nil
	}
	switch strings.ToUpper(col.Type) {
	case "TIMESTAMP":
		us, ok := raw.(int64)
		if !ok {
			return nil, fmt.Errorf("TIMESTAMP sent as %T, want int64 microseconds", raw)
		}
		return time.UnixMicro(us).UTC(), nil
	case "NUMERIC", "BIGNUMERIC":
		b, ok := raw.([]byte)
		if !ok {
			return fmt.Sprint(raw), nil // ints, floats and strings are accepted as they are
		}
		scale := 9
		if strings.EqualFold(col.Type, "BIGNUMERIC") {
			scale = 38
		}
		return DecodeNumeric(b, scale), nil
	case "DATE":
		switch d := raw.(type) {
		case int32:
			return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly), nil
		case int64:
			return time.Unix(d*86400, 0).UTC().Format(time.DateOnly), nil
		}
		return fmt.Sprint(raw), nil
	case "JSON":
		s, ok := raw.(string)
		if !ok || !json.Valid([]byte(s)) {
			return nil, fmt.Errorf("invalid JSON value %q", raw)
		}
		return s, nil
	case "BYTES":
		if b, ok := raw.([]byte); ok {
			return slices.Clone(b), nil
		}
	case "INT64", "INTEGER":
		if i, ok := raw.(int32); ok {
			return int64(i), nil
		}
	}
	return raw, nil
}

// DecodeNumeric reads a NUMERIC (scale 9) or BIGNUMERIC (scale 38) sent as bytes: the scaled
// integer in little-endian two's complement, as the Storage Write API documents it. The result
// is plain decimal text without trailing zeros ("19.99", "3", "-0.5").
func DecodeNumeric(b []byte, scale int) string {
	be := slices.Clone(b)
	slices.Reverse(be)
	n := new(big.Int).SetBytes(be)
	if len(be) > 0 && be[0]&0x80 != 0 { // negative: subtract 2^(8·len)
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(be))))
	}
	r := new(big.Rat).SetFrac(n, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	s := r.FloatString(scale)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}

// validSequence reports whether s is a _CHANGE_SEQUENCE_NUMBER BigQuery accepts: one to four
// sections of one to 16 hexadecimal digits, separated by '/'.
func validSequence(s string) bool {
	sections := strings.Split(s, "/")
	if len(sections) > 4 {
		return false
	}
	for _, sec := range sections {
		if len(sec) == 0 || len(sec) > 16 {
			return false
		}
		for _, c := range sec {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}
