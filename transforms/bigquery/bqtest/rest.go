package bqtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tributary-dev/tributary/schemas"
)

// tableResource is the part of the REST API's Table resource the server keeps.
type tableResource struct {
	TableReference struct {
		ProjectID string `json:"projectId"`
		DatasetID string `json:"datasetId"`
		TableID   string `json:"tableId"`
	} `json:"tableReference"`
	Schema           *restSchema      `json:"schema,omitempty"`
	TableConstraints *restConstraints `json:"tableConstraints,omitempty"`
}

type restSchema struct {
	Fields []schemas.TableField `json:"fields"`
}

type restConstraints struct {
	PrimaryKey *restPrimaryKey `json:"primaryKey,omitempty"`
}

type restPrimaryKey struct {
	Columns []string `json:"columns"`
}

// restHandler serves tables.get and tables.insert under /bigquery/v2/ (or at the root, as
// emulators do).
func (s *Server) restHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/bigquery/v2"), "/")
		parts := strings.Split(strings.TrimSuffix(path, "/"), "/")
		// projects/<p>/datasets/<d>/tables[/<t>]
		if len(parts) < 5 || parts[0] != "projects" || parts[2] != "datasets" || parts[4] != "tables" {
			restError(w, http.StatusNotFound, "notFound", "bqtest: no such method "+r.URL.Path)
			return
		}
		project, dataset := parts[1], parts[3]
		switch {
		case len(parts) == 6 && r.Method == http.MethodGet:
			s.getTable(w, project, dataset, parts[5])
		case len(parts) == 5 && r.Method == http.MethodPost:
			s.insertTable(w, r, project, dataset)
		default:
			restError(w, http.StatusNotFound, "notFound", "bqtest: no such method "+r.Method+" "+r.URL.Path)
		}
	})
}

func (s *Server) getTable(w http.ResponseWriter, project, dataset, id string) {
	s.mu.Lock()
	t, ok := s.tables[TableName(project, dataset, id)]
	var res tableResource
	if ok {
		res = t.resource(project, dataset, id)
	}
	s.mu.Unlock()
	if !ok {
		restError(w, http.StatusNotFound, "notFound", fmt.Sprintf("Not found: Table %s:%s.%s", project, dataset, id))
		return
	}
	writeJSON(w, res)
}

func (s *Server) insertTable(w http.ResponseWriter, r *http.Request, project, dataset string) {
	var res tableResource
	if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
		restError(w, http.StatusBadRequest, "invalid", "bqtest: decoding table: "+err.Error())
		return
	}
	id := res.TableReference.TableID
	if id == "" {
		restError(w, http.StatusBadRequest, "invalid", "bqtest: tableReference.tableId is required")
		return
	}
	t := &table{}
	if res.Schema != nil {
		t.schema = res.Schema.Fields
	}
	if res.TableConstraints != nil && res.TableConstraints.PrimaryKey != nil {
		t.primaryKey = res.TableConstraints.PrimaryKey.Columns
	}
	name := TableName(project, dataset, id)
	s.mu.Lock()
	_, exists := s.tables[name]
	if !exists {
		s.tables[name] = t
	}
	s.mu.Unlock()
	if exists {
		restError(w, http.StatusConflict, "duplicate", "Already Exists: Table "+project+":"+dataset+"."+id)
		return
	}
	writeJSON(w, t.resource(project, dataset, id))
}

func (t *table) resource(project, dataset, id string) tableResource {
	var res tableResource
	res.TableReference.ProjectID, res.TableReference.DatasetID, res.TableReference.TableID = project, dataset, id
	if t.schema != nil {
		res.Schema = &restSchema{Fields: t.schema}
	}
	if len(t.primaryKey) > 0 {
		res.TableConstraints = &restConstraints{PrimaryKey: &restPrimaryKey{Columns: t.primaryKey}}
	}
	return res
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client sees a truncated body
}

// restError writes an error in the REST API's format, which googleapi.CheckResponse parses.
func restError(w http.ResponseWriter, code int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{ //nolint:errcheck // as above
		"error": map[string]any{
			"code":    code,
			"message": msg,
			"errors":  []map[string]string{{"reason": reason, "message": msg}},
		},
	})
}
