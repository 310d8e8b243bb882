package schemas

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"slices"
)

// BigQuery table names. The JSON schema of each lives in bigquery/<name>.json; Terraform reads the
// same files, so a name here is also a file name there.
const (
	TableEvents           = "events"
	TableProductMetrics   = "product_metrics"
	TableDeadLetters      = "dead_letters"
	TableTrendingProducts = "trending_products"
	TableUserSessions     = "user_sessions"
	TableFraudAlerts      = "fraud_alerts"
)

var (
	//go:embed event.v*.schema.json
	eventSchemas embed.FS

	//go:embed bigquery/*.json
	tableSchemas embed.FS
)

// EventJSONSchema returns the JSON Schema (draft 2020-12) of the latest event envelope. The
// result is a copy the caller may keep or change.
func EventJSONSchema() []byte { return must(EventJSONSchemaVersion(LatestVersion)) }

// EventJSONSchemaVersion returns the JSON Schema of envelope version v (1 to LatestVersion),
// event.v<v>.schema.json.
func EventJSONSchemaVersion(v int) ([]byte, error) {
	b, err := eventSchemas.ReadFile(fmt.Sprintf("event.v%d.schema.json", v))
	if err != nil {
		return nil, fmt.Errorf("schemas: no event schema version %d: %w", v, err)
	}
	return slices.Clone(b), nil
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err) // the embedded files are fixed at build time; a test covers every version
	}
	return b
}

// TableField is one column of a BigQuery table schema, in the JSON form `bq mk --schema` and
// Terraform's google_bigquery_table accept.
type TableField struct {
	Name        string       `json:"name"`
	Type        string       `json:"type"`
	Mode        string       `json:"mode"`
	Description string       `json:"description,omitempty"`
	Fields      []TableField `json:"fields,omitempty"`
}

// TableSchema returns the columns of the named table (one of the Table constants).
func TableSchema(table string) ([]TableField, error) {
	b, err := tableSchemas.ReadFile("bigquery/" + table + ".json")
	if err != nil {
		return nil, fmt.Errorf("schemas: no BigQuery schema for table %q: %w", table, err)
	}
	// Strict decoding: a misspelt key in a schema file would otherwise be ignored here but
	// rejected (or silently dropped) by bq and Terraform.
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var fields []TableField
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("schemas: parsing BigQuery schema of table %q: %w", table, err)
	}
	return fields, nil
}
