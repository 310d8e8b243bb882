package bqtest

import (
	"slices"
	"strings"

	"cloud.google.com/go/bigquery/storage/apiv1/storagepb"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tributary-dev/tributary/schemas"
)

// AddColumns adds columns at the end of a table's schema while writers may be connected, as
// ALTER TABLE ADD COLUMN does (BigQuery adds only NULLABLE or REPEATED columns to a table with
// rows). A writer whose schema lacks an added column gets the table's new schema in each
// successful append's response (AppendRowsResponse.updated_schema) until it sends a writer
// schema that has it. Rows already stored stay as they are (NULL in the new columns).
func (s *Server) AddColumns(name string, fields ...schemas.TableField) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.lookup(name)
	if t == nil {
		return
	}
	t.schema = append(slices.Clone(t.schema), fields...)
	for _, f := range fields {
		t.added = append(t.added, strings.ToLower(f.Name))
	}
}

// updatedSchema is the table's schema when the writer's (desc) lacks a column added after the
// table was created, as BigQuery reports a schema change to writers; nil otherwise.
func (t *table) updatedSchema(desc protoreflect.MessageDescriptor) *storagepb.TableSchema {
	for _, name := range t.added {
		if !slices.ContainsFunc(fieldNames(desc), func(n string) bool { return strings.EqualFold(n, name) }) {
			return storageSchema(t.schema)
		}
	}
	return nil
}

func fieldNames(desc protoreflect.MessageDescriptor) []string {
	fields := desc.Fields()
	names := make([]string, fields.Len())
	for i := range names {
		names[i] = columnName(fields.Get(i))
	}
	return names
}

// storageSchema is fields in the Storage Write API's form, as GetWriteStream's FULL view and
// updated_schema carry it (nil for a table without a schema).
func storageSchema(fields []schemas.TableField) *storagepb.TableSchema {
	if fields == nil {
		return nil
	}
	return &storagepb.TableSchema{Fields: storageFields(fields)}
}

func storageFields(fields []schemas.TableField) []*storagepb.TableFieldSchema {
	out := make([]*storagepb.TableFieldSchema, 0, len(fields))
	for _, f := range fields {
		sf := &storagepb.TableFieldSchema{Name: f.Name, Description: f.Description,
			Type: storageTypes[strings.ToUpper(f.Type)], Mode: storageModes[strings.ToUpper(f.Mode)]}
		if len(f.Fields) > 0 {
			sf.Fields = storageFields(f.Fields)
		}
		out = append(out, sf)
	}
	return out
}

var storageTypes = map[string]storagepb.TableFieldSchema_Type{
	"STRING": storagepb.TableFieldSchema_STRING, "BYTES": storagepb.TableFieldSchema_BYTES,
	"INTEGER": storagepb.TableFieldSchema_INT64, "INT64": storagepb.TableFieldSchema_INT64,
	"FLOAT": storagepb.TableFieldSchema_DOUBLE, "FLOAT64": storagepb.TableFieldSchema_DOUBLE,
	"NUMERIC": storagepb.TableFieldSchema_NUMERIC, "BIGNUMERIC": storagepb.TableFieldSchema_BIGNUMERIC,
	"BOOLEAN": storagepb.TableFieldSchema_BOOL, "BOOL": storagepb.TableFieldSchema_BOOL,
	"TIMESTAMP": storagepb.TableFieldSchema_TIMESTAMP, "DATE": storagepb.TableFieldSchema_DATE,
	"GEOGRAPHY": storagepb.TableFieldSchema_GEOGRAPHY, "JSON": storagepb.TableFieldSchema_JSON,
	"RECORD": storagepb.TableFieldSchema_STRUCT, "STRUCT": storagepb.TableFieldSchema_STRUCT,
}

var storageModes = map[string]storagepb.TableFieldSchema_Mode{
	"": storagepb.TableFieldSchema_NULLABLE, "NULLABLE": storagepb.TableFieldSchema_NULLABLE,
	"REQUIRED": storagepb.TableFieldSchema_REQUIRED, "REPEATED": storagepb.TableFieldSchema_REPEATED,
}
