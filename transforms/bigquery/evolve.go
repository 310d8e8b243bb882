package bigquery

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"cloud.google.com/go/bigquery/storage/managedwriter"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/log"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	"github.com/tributary-dev/tributary/transforms/telemetry"
)

// Schema evolution. The sink encodes rows from the table schema built into the binary
// (schemas/bigquery), but writes only the columns the table has too: its writer schema is
// the columns both know. A column the table has and the binary does not stays NULL in the
// sink's rows (never a failure); a row holding a value for a column the table lacks is a
// dead letter (bigquery_encode_error, naming the column), never lost. managedwriter keeps the
// writer schema it was opened with; when an append's response reports the table's updated
// schema (AppendResult.UpdatedSchema), the sink widens its writer schema and sends it with
// UpdateSchemaDescriptor, so columns added to a table while the job runs are written from then
// on. Field numbers are the binary's schema positions whatever the table has, so rows encoded
// before the update stay valid after it.

// schemaState is what the sink knows of the table's columns.
type schemaState struct {
	full    *rowCodec // every column the binary knows
	columns string    // the table's column names last adopted (columnKey)
	// pending is a wider writer schema the next append sends (managedwriter keeps it after).
	pending *descriptorpb.DescriptorProto
	updates telemetry.Counter
}

// appendOptions are the options of the next append: the pending writer schema, if any.
func (s *schemaState) appendOptions() []managedwriter.AppendOption {
	if s.pending == nil {
		return nil
	}
	return []managedwriter.AppendOption{managedwriter.UpdateSchemaDescriptor(s.pending)}
}

// adoptTableSchema reads the table's columns and sets fn.codec to the columns both the binary
// and the table know. Called in Setup, before the stream opens with fn.codec's descriptor.
func (fn *writeFn) adoptTableSchema(ctx context.Context) error {
	fn.schema.full = fn.codec
	fn.schema.updates = telemetry.NewCounter("bigquery." + fn.Schema + ".schema_updates")
	ws, err := fn.client.GetWriteStream(ctx, &storagepb.GetWriteStreamRequest{
		Name: fn.defaultStream(), View: storagepb.WriteStreamView_FULL})
	if err != nil {
		return fmt.Errorf("bigquery %s: reading the table schema: %w", fn.TableName(), err)
	}
	fn.useTableSchema(ws.GetTableSchema())
	return nil
}

// useTableSchema restricts the codec to table's columns (all the binary knows when table is
// nil) and reports whether that changed the columns written.
func (fn *writeFn) useTableSchema(table *storagepb.TableSchema) bool {
	key := columnKey(table.GetFields())
	if table == nil || key == fn.schema.columns {
		return false
	}
	fn.schema.columns = key
	fn.codec = fn.schema.full.restrict(table.GetFields())
	return true
}

// schemaUpdated handles an append response's updated table schema: a wider writer schema for
// the appends that follow. Rows already encoded stay valid (stable field numbers).
func (fn *writeFn) schemaUpdated(ctx context.Context, updated *storagepb.TableSchema) {
	if updated == nil || !fn.useTableSchema(updated) {
		return
	}
	fn.schema.pending = fn.codec.descriptor
	fn.schema.updates.Inc(ctx, 1)
	log.Infof(ctx, "bigquery %s: the table schema changed; writing %d of the %d columns this binary knows",
		fn.TableName(), len(fn.codec.columns), len(fn.schema.full.columns))
}

// columnKey names the columns of fields, nested ones included, case-insensitively (as
// BigQuery compares column names).
func columnKey(fields []*storagepb.TableFieldSchema) string {
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(strings.ToLower(f.GetName()))
		if len(f.GetFields()) > 0 {
			b.WriteString("(" + columnKey(f.GetFields()) + ")")
		}
		b.WriteByte(',')
	}
	return b.String()
}

// restrict returns a codec for the columns of c that table has too, with the same field
// numbers. The CDC pseudo-columns are kept.
func (c *rowCodec) restrict(table []*storagepb.TableFieldSchema) *rowCodec {
	r := *c
	r.columns = restrictColumns(c.columns, table)
	r.descriptor = proto.Clone(c.descriptor).(*descriptorpb.DescriptorProto)
	restrictDescriptor(r.descriptor, r.descriptor, table)
	return &r
}

func tableField(table []*storagepb.TableFieldSchema, name string) *storagepb.TableFieldSchema {
	for _, f := range table {
		if strings.EqualFold(f.GetName(), name) {
			return f
		}
	}
	return nil
}

func restrictColumns(cols []column, table []*storagepb.TableFieldSchema) []column {
	var out []column
	for _, col := range cols {
		tf := tableField(table, col.name)
		if tf == nil {
			continue
		}
		if col.typ == "RECORD" {
			col.columns = restrictColumns(col.columns, tf.GetFields())
		}
		out = append(out, col)
	}
	return out
}

// restrictDescriptor drops from msg the fields table lacks, recursing into the nested message
// types, which the normalized descriptor root holds.
func restrictDescriptor(root, msg *descriptorpb.DescriptorProto, table []*storagepb.TableFieldSchema) {
	var kept []*descriptorpb.FieldDescriptorProto
	for _, f := range msg.GetField() {
		if f.GetName() == changeTypeColumn || f.GetName() == changeSequenceColumn {
			kept = append(kept, f)
			continue
		}
		tf := tableField(table, f.GetName())
		if tf == nil {
			continue
		}
		if f.GetType() == descriptorpb.FieldDescriptorProto_TYPE_MESSAGE {
			if nested := nestedType(root, f.GetTypeName()); nested != nil {
				restrictDescriptor(root, nested, tf.GetFields())
			}
		}
		kept = append(kept, f)
	}
	msg.Field = kept
}

// nestedType finds the message type a field's type name refers to among root's nested types.
func nestedType(root *descriptorpb.DescriptorProto, typeName string) *descriptorpb.DescriptorProto {
	name := typeName[strings.LastIndexByte(typeName, '.')+1:]
	for _, n := range root.GetNestedType() {
		if n.GetName() == name {
			return n
		}
		if found := nestedType(n, typeName); found != nil {
			return found
		}
	}
	return nil
}
