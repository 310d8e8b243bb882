// Package terraform holds the deployment's Terraform. Providers cannot be downloaded here, so
// terraform validate and plan cannot run; these tests parse every .tf with hcl/v2 and check
// what the pipelines rely on: template parameters, tables, IAM, Pub/Sub, monitoring, fmt.
package terraform

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/tributary-dev/tributary/internal/options"
)

// block is one top-level block of a .tf file: resource, module, variable, locals, ...
type block struct {
	file   string
	kind   string   // "resource", "module", "variable", "locals", ...
	labels []string // resource: type and name; module and variable: name
	body   *hclsyntax.Body
}

func (b block) String() string {
	return b.file + ": " + b.kind + " " + strings.Join(b.labels, ".")
}

// parseDir parses every .tf file under dir (recursively) and returns its top-level blocks.
func parseDir(t *testing.T, dir string) []block {
	t.Helper()
	p := hclparse.NewParser()
	var out []block
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && path != dir {
			return filepath.SkipDir // .terraform holds downloaded modules and providers
		}
		if d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return nil
		}
		f, diags := p.ParseHCLFile(path)
		if diags.HasErrors() {
			t.Errorf("%s: %s", path, diags.Error())
			return nil
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			out = append(out, block{file: path, kind: b.Type, labels: b.Labels, body: b.Body})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no blocks under %s", dir)
	}
	return out
}

func find(blocks []block, kind string, labels ...string) []block {
	var out []block
	for _, b := range blocks {
		if b.kind == kind && len(b.labels) >= len(labels) && slices.Equal(b.labels[:len(labels)], labels) {
			out = append(out, b)
		}
	}
	return out
}

func one(t *testing.T, blocks []block, kind string, labels ...string) block {
	t.Helper()
	got := find(blocks, kind, labels...)
	if len(got) != 1 {
		t.Fatalf("want one %s %v, found %d", kind, labels, len(got))
	}
	return got[0]
}

// literals returns every string literal under node, template parts included.
func literals(node hclsyntax.Node) []string {
	var out []string
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		if l, ok := n.(*hclsyntax.LiteralValueExpr); ok && l.Val.Type() == cty.String && l.Val.IsKnown() && !l.Val.IsNull() {
			out = append(out, l.Val.AsString())
		}
		return nil
	})
	return out
}

// stringAttr is the value of a literal (or interpolation-free template) attribute, or "".
func stringAttr(b *hclsyntax.Body, name string) string {
	a, ok := b.Attributes[name]
	if !ok {
		return ""
	}
	v, diags := a.Expr.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		return ""
	}
	return v.AsString()
}

// traversal renders a reference such as var.x or local.y.z, or "" if expr is none.
func traversal(expr hclsyntax.Expression) string {
	s, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return ""
	}
	parts := []string{s.Traversal.RootName()}
	for _, step := range s.Traversal[1:] {
		if a, ok := step.(hcl.TraverseAttr); ok {
			parts = append(parts, a.Name)
		}
	}
	return strings.Join(parts, ".")
}

// objectKeys returns the keys (and value expressions) of a map built from object literals,
// merge() calls, for expressions over them and references to locals of the same blocks.
func objectKeys(t *testing.T, blocks []block, expr hclsyntax.Expression) map[string]hclsyntax.Expression {
	t.Helper()
	out := map[string]hclsyntax.Expression{}
	switch e := expr.(type) {
	case *hclsyntax.ObjectConsExpr:
		for _, item := range e.Items {
			k, diags := item.KeyExpr.Value(nil)
			if diags.HasErrors() || k.Type() != cty.String {
				t.Errorf("%s: a key that is not a literal", expr.Range())
				continue
			}
			out[k.AsString()] = item.ValueExpr
		}
	case *hclsyntax.FunctionCallExpr:
		if e.Name != "merge" {
			t.Errorf("%s: cannot read the keys of %s()", expr.Range(), e.Name)
		}
		for _, arg := range e.Args {
			for k, v := range objectKeys(t, blocks, arg) {
				out[k] = v
			}
		}
	case *hclsyntax.ForExpr:
		return objectKeys(t, blocks, e.CollExpr)
	case *hclsyntax.ScopeTraversalExpr:
		ref := traversal(e)
		if strings.HasPrefix(ref, "var.") {
			break // a caller's map (extra parameters): its keys are the caller's
		}
		name, ok := strings.CutPrefix(ref, "local.")
		if !ok {
			// A resource with for_each: a map of its instances by key.
			typ, rname, _ := strings.Cut(ref, ".")
			if r := find(blocks, "resource", typ, rname); len(r) == 1 && r[0].body.Attributes["for_each"] != nil {
				return objectKeys(t, blocks, r[0].body.Attributes["for_each"].Expr)
			}
			t.Errorf("%s: cannot read the keys of %s", expr.Range(), ref)
			break
		}
		found := false
		for _, b := range find(blocks, "locals") {
			if a, ok := b.body.Attributes[name]; ok {
				found = true
				for k, v := range objectKeys(t, blocks, a.Expr) {
					out[k] = v
				}
			}
		}
		if !found {
			t.Errorf("%s: no local %s", expr.Range(), name)
		}
	default:
		t.Errorf("%s: cannot read the keys of a %T", expr.Range(), expr)
	}
	return out
}

// address renders a resource address such as google_bigquery_table.this["events"], or "" if
// expr is no reference.
func address(expr hclsyntax.Expression) string {
	s, ok := expr.(*hclsyntax.ScopeTraversalExpr)
	if !ok {
		return ""
	}
	out := s.Traversal.RootName()
	for _, step := range s.Traversal[1:] {
		switch st := step.(type) {
		case hcl.TraverseAttr:
			out += "." + st.Name
		case hcl.TraverseIndex:
			if st.Key.Type() != cty.String {
				return ""
			}
			out += fmt.Sprintf("[%q]", st.Key.AsString())
		}
	}
	return out
}

// instances returns an evaluation context per instance of a resource, by instance key: the
// base context alone under "" for a resource without for_each, and with each.key and
// each.value (its for_each entry, evaluated in base) for each key of a for_each over a map.
func instances(t *testing.T, blocks []block, b block, base *hcl.EvalContext) map[string]*hcl.EvalContext {
	t.Helper()
	fe, ok := b.body.Attributes["for_each"]
	if !ok {
		return map[string]*hcl.EvalContext{"": base}
	}
	out := map[string]*hcl.EvalContext{}
	for key, expr := range objectKeys(t, blocks, fe.Expr) {
		v, diags := expr.Value(base)
		if diags.HasErrors() {
			v = cty.DynamicVal // functions, other resources: what depends on it reads as unknown
		}
		ctx := base.NewChild()
		ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(key), "value": v})}
		out[key] = ctx
	}
	if len(out) == 0 {
		t.Errorf("%s: for_each over no keys this test can read", b)
	}
	return out
}

// evalString is expr's value in ctx if it is a known string, or "".
func evalString(expr hclsyntax.Expression, ctx *hcl.EvalContext) string {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() || v.Type() != cty.String || !v.IsKnown() || v.IsNull() {
		return ""
	}
	return v.AsString()
}

// evalStrings is expr's value in ctx as a list of strings (nil for null); ok is false when it
// is no known list of strings.
func evalStrings(expr hclsyntax.Expression, ctx *hcl.EvalContext) (out []string, ok bool) {
	v, diags := expr.Value(ctx)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return nil, false
	}
	if v.IsNull() {
		return nil, true
	}
	if !v.Type().IsListType() && !v.Type().IsTupleType() {
		return nil, false
	}
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if e.Type() != cty.String || e.IsNull() {
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

type parameter struct {
	Name       string `json:"name"`
	IsOptional bool   `json:"isOptional"`
}

func templateParameters(t *testing.T, pipeline string) ([]parameter, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "templates", pipeline, "metadata.json"))
	if os.IsNotExist(err) {
		return nil, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Parameters []parameter }
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Parameters) == 0 {
		t.Fatalf("templates/%s/metadata.json lists no parameters", pipeline)
	}
	return m.Parameters, true
}

// TestStreamingTemplateParameters: every parameter of the streaming template has a variable in
// the dataflow_streaming module, is in the map passed to the job, and every argument the
// example passes to the module is one of its variables.
func TestStreamingTemplateParameters(t *testing.T) {
	params, ok := templateParameters(t, "streaming")
	if !ok {
		t.Fatal("templates/streaming/metadata.json is missing")
	}
	mod := parseDir(t, filepath.Join("modules", "dataflow_streaming"))
	job := one(t, mod, "resource", "google_dataflow_flex_template_job")
	passed := objectKeys(t, mod, job.body.Attributes["parameters"].Expr)
	for _, p := range params {
		v := options.SnakeCase(p.Name)
		if len(find(mod, "variable", v)) != 1 {
			t.Errorf("template parameter %s has no variable %q", p.Name, v)
		}
		expr, ok := passed[p.Name]
		if !ok {
			t.Errorf("template parameter %s is not passed to the job", p.Name)
			continue
		}
		if got := traversal(expr); got != "var."+v {
			t.Errorf("template parameter %s is passed %s, want var.%s", p.Name, got, v)
		}
	}
	for _, b := range []string{"enable_streaming_engine", "max_workers", "service_account_email"} {
		if got := traversal(job.body.Attributes[b].Expr); got != "var."+b {
			t.Errorf("the job's %s is %q, want var.%s", b, got, b)
		}
	}

	root := parseDir(t, filepath.Join("environments", "example"))
	call := one(t, root, "module", "dataflow_streaming")
	checkModuleCall(t, call, mod, "input_subscription", "output_dataset", "output_directory", "product_catalog", "currency_rates", "service_account_email")
}

// checkModuleCall fails where the example's call of a module passes an argument the module does
// not declare as a variable (meta-arguments aside) or leaves out one of required.
func checkModuleCall(t *testing.T, call block, mod []block, required ...string) {
	t.Helper()
	for name := range call.body.Attributes {
		switch name {
		case "source", "depends_on", "providers", "count", "for_each":
			continue
		}
		if len(find(mod, "variable", name)) != 1 {
			t.Errorf("environments/example passes %s, which module %s does not declare", name, call.labels[0])
		}
	}
	for _, name := range required {
		if _, ok := call.body.Attributes[name]; !ok {
			t.Errorf("environments/example does not pass %s to module %s", name, call.labels[0])
		}
	}
}

// TestBackfillSchedule: the scheduler launches the backfill template with the relative range, on
// a UTC schedule, every other parameter from its generated variable, and the example passes only
// the module's variables.
func TestBackfillSchedule(t *testing.T) {
	mod := parseDir(t, filepath.Join("modules", "scheduler"))
	job := one(t, mod, "resource", "google_cloud_scheduler_job")
	if got := stringAttr(job.body, "time_zone"); got != "Etc/UTC" {
		t.Errorf("scheduler time_zone %q, want Etc/UTC (the range is a UTC day)", got)
	}
	var merged map[string]hclsyntax.Expression
	for _, loc := range find(mod, "locals") {
		if a, ok := loc.body.Attributes["parameters"]; ok {
			merged = objectKeys(t, mod, a.Expr)
		}
	}
	if v, diags := merged["range"].Value(nil); diags.HasErrors() || v.AsString() != "previous-day" {
		t.Errorf("the scheduler does not launch range=previous-day")
	}
	if !slices.Contains(literals(job.body), "https://www.googleapis.com/auth/cloud-platform") {
		t.Error("the scheduler does not call Dataflow with an OAuth token")
	}
	if !strings.Contains(strings.Join(literals(job.body), ""), "/flexTemplates:launch") {
		t.Error("the scheduler does not call flexTemplates:launch")
	}

	// Every backfill parameter but the range (the module's) has a generated variable passed as
	// itself; the example passes only the module's variables and every required parameter.
	params, ok := templateParameters(t, "backfill")
	if !ok {
		t.Fatal("templates/backfill/metadata.json is missing")
	}
	for _, p := range params {
		v := options.SnakeCase(p.Name)
		switch p.Name {
		case "from", "to", "range":
			if len(find(mod, "variable", v)) != 0 {
				t.Errorf("the scheduler declares a variable %q: the module sets the range itself", v)
			}
			continue
		}
		if len(find(mod, "variable", v)) != 1 {
			t.Errorf("backfill parameter %s has no variable %q", p.Name, v)
		}
		if got := traversal(merged[p.Name]); got != "var."+v {
			t.Errorf("backfill parameter %s is passed %q, want var.%s", p.Name, got, v)
		}
	}
	root := parseDir(t, filepath.Join("environments", "example"))
	call := one(t, root, "module", "backfill")
	if got := stringAttr(call.body, "source"); got != "../../modules/scheduler" {
		t.Fatalf("module backfill has source %q", got)
	}
	required := []string{"archive", "output_dataset", "product_catalog", "currency_rates"}
	for _, p := range params {
		if !p.IsOptional {
			required = append(required, options.SnakeCase(p.Name))
		}
	}
	checkModuleCall(t, call, mod, required...)
}

type column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// TestTables: every table in schemas/bigquery has a resource in the bigquery module that takes
// its schema from that file, is partitioned by one of its time columns and clusters only by its
// columns; the module's table_ids output names each.
func TestTables(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "schemas", "bigquery", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no schemas: %v", err)
	}
	mod := parseDir(t, filepath.Join("modules", "bigquery"))
	// Variables and locals other than the schema folder are unknown; each.* comes per instance.
	base := &hcl.EvalContext{Variables: map[string]cty.Value{
		"var":   cty.DynamicVal,
		"local": cty.ObjectVal(map[string]cty.Value{"schema_dir": cty.StringVal("<schema_dir>")}),
	}}
	type instance struct {
		name string
		body *hclsyntax.Body
		ctx  *hcl.EvalContext
	}
	byTable := map[string]instance{}
	for _, b := range find(mod, "resource", "google_bigquery_table") {
		for key, ctx := range instances(t, mod, b, base) {
			name := b.String()
			if key != "" {
				name += fmt.Sprintf("[%q]", key)
			}
			id := ""
			if a, ok := b.body.Attributes["table_id"]; ok {
				id = evalString(a.Expr, ctx)
			}
			if id == "" {
				t.Errorf("%s: table_id is no string this test can read", name)
			}
			byTable[id] = instance{name, b.body, ctx}
		}
	}
	// The layout comes from the generated local.tables (transforms/bigquery/layouts.go), not
	// from values written into the resource.
	for _, b := range find(mod, "resource", "google_bigquery_table") {
		fromLayout := map[string]hclsyntax.Expression{"for_each": nil, "description": nil, "max_staleness": nil, "clustering": nil}
		for name := range fromLayout {
			if a, ok := b.body.Attributes[name]; ok {
				fromLayout[name] = a.Expr
			}
		}
		for _, nb := range b.body.Blocks {
			switch nb.Type {
			case "time_partitioning":
				if a, ok := nb.Body.Attributes["field"]; ok {
					fromLayout["partition"] = a.Expr
				}
			case "table_constraints":
				for _, pk := range nb.Body.Blocks {
					if a, ok := pk.Body.Attributes["columns"]; ok && pk.Type == "primary_key" {
						fromLayout["primary_key"] = a.Expr
					}
				}
			}
		}
		for name, expr := range fromLayout {
			want := "each.value." + name
			if name == "for_each" {
				want = "local.tables"
			}
			if got := traversal(expr); got != want {
				t.Errorf("%s: %s is %q, want %s (generated into tables.tf from transforms/bigquery/layouts.go)", b, name, got, want)
			}
		}
	}
	var want []string
	for _, f := range files {
		table := strings.TrimSuffix(filepath.Base(f), ".json")
		want = append(want, table)
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cols []column
		if err := json.Unmarshal(data, &cols); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		types := map[string]string{}
		for _, c := range cols {
			types[c.Name] = c.Type
		}
		b, ok := byTable[table]
		if !ok {
			t.Errorf("schemas/bigquery/%s.json has no google_bigquery_table in modules/bigquery", table)
			continue
		}
		schema := ""
		if s, ok := b.body.Attributes["schema"]; ok {
			if call, ok := s.Expr.(*hclsyntax.FunctionCallExpr); ok && call.Name == "file" && len(call.Args) == 1 {
				schema = evalString(call.Args[0], b.ctx)
			}
		}
		if schema != "<schema_dir>/"+table+".json" {
			t.Errorf("%s: schema is file(%q), want file(\"${local.schema_dir}/%s.json\")", b.name, schema, table)
		}
		var parts []*hclsyntax.Block
		for _, nb := range b.body.Blocks {
			if nb.Type == "time_partitioning" {
				parts = append(parts, nb)
			}
		}
		if len(parts) != 1 {
			t.Errorf("%s: want one time_partitioning block, found %d", b.name, len(parts))
		} else if a, ok := parts[0].Body.Attributes["field"]; !ok {
			t.Errorf("%s: time_partitioning has no field", b.name)
		} else if field := evalString(a.Expr, b.ctx); types[field] != "TIMESTAMP" && types[field] != "DATE" {
			t.Errorf("%s: partitioned by %q, which is no TIMESTAMP or DATE column of %s.json", b.name, field, table)
		}
		if c, ok := b.body.Attributes["clustering"]; ok {
			cols, ok := evalStrings(c.Expr, b.ctx)
			if !ok {
				t.Errorf("%s: clustering is no list of strings this test can read", b.name)
			}
			for _, col := range cols {
				if _, ok := types[col]; !ok {
					t.Errorf("%s: clustered by %q, which is no column of %s.json", b.name, col, table)
				}
			}
		}
	}
	outs := one(t, mod, "output", "table_ids")
	got := objectKeys(t, mod, outs.body.Attributes["value"].Expr)
	var names []string
	for k := range got {
		names = append(names, k)
	}
	sort.Strings(names)
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("table_ids output (-schemas +output):\n%s", diff)
	}
}

// grantRule is where a role may be granted.
type grantRule struct {
	resource  string // the IAM resource type
	role      string
	condition string // "" none needed, "prefix" an object-name prefix, "object" one object
}

// allowed lists every grant the deployment may make, per the deploy issue: the workers'
// dataflow.worker (the only project-wide role for them), subscriber and viewer on the
// subscription, publisher and viewer on topics, dataEditor on the dataset, object read and
// create on the lake under prefixes, objectAdmin on the scratch bucket, read of a template
// spec object; and the backfill launcher's role (see projectWideExceptions).
var allowed = []grantRule{
	{"google_project_iam_member", "roles/dataflow.worker", ""},
	{"google_pubsub_subscription_iam_member", "roles/pubsub.subscriber", ""},
	{"google_pubsub_subscription_iam_member", "roles/pubsub.viewer", ""},
	{"google_pubsub_topic_iam_member", "roles/pubsub.publisher", ""},
	{"google_pubsub_topic_iam_member", "roles/pubsub.viewer", ""},
	{"google_bigquery_dataset_iam_member", "roles/bigquery.dataEditor", ""},
	{"google_storage_bucket_iam_member", "roles/storage.objectViewer", "prefix"},
	{"google_storage_bucket_iam_member", "roles/storage.objectViewer", "object"},
	{"google_storage_bucket_iam_member", "roles/storage.objectCreator", "prefix"},
	{"google_storage_bucket_iam_member", "roles/storage.objectAdmin", ""}, // scratch only, below
	{"google_service_account_iam_member", "roles/iam.serviceAccountUser", ""},
}

// projectWideExceptions: launching a Flex Template needs dataflow.jobs.create, which Dataflow
// grants only on a project; the scheduler's own launcher account (not the workers') holds it.
var projectWideExceptions = map[string]string{
	"modules/scheduler/main.tf: resource google_project_iam_member.launcher": "roles/dataflow.developer",
}

// conditionTerms returns the || terms of a CEL condition written as a string or as
// join(" || ", lists...), each as its literal text (interpolations left out); a term it cannot
// read comes back as "?", which no rule accepts.
func conditionTerms(expr hclsyntax.Expression) []string {
	text := func(e hclsyntax.Expression) string { return strings.Join(literals(e), "") }
	call, ok := expr.(*hclsyntax.FunctionCallExpr)
	if !ok {
		return strings.Split(text(expr), " || ")
	}
	if call.Name != "join" || len(call.Args) < 2 || text(call.Args[0]) != " || " {
		return []string{"?"}
	}
	var out []string
	var list func(hclsyntax.Expression)
	list = func(arg hclsyntax.Expression) {
		switch l := arg.(type) {
		case *hclsyntax.TupleConsExpr:
			for _, e := range l.Exprs {
				out = append(out, text(e))
			}
		case *hclsyntax.ForExpr:
			out = append(out, text(l.ValExpr))
		case *hclsyntax.FunctionCallExpr:
			if l.Name != "concat" {
				out = append(out, "?")
			}
			for _, a := range l.Args {
				list(a)
			}
		default:
			out = append(out, "?")
		}
	}
	for _, arg := range call.Args[1:] {
		list(arg)
	}
	return out
}

const term = `resource\.name\.startsWith\("[^"]*"\)|resource\.type == "storage\.googleapis\.com/Bucket"`

var (
	// Only prefix terms joined by ||, and the bucket-level term listing needs; with the
	// interpolations (bucket and prefix) left out.
	prefixCondition = regexp.MustCompile(`^(?:` + term + `)(?: \|\| (?:` + term + `))*$`)
	objectCondition = regexp.MustCompile(`^resource\.name == "projects/_/buckets/[^"|&]*"$`)
)

// TestLeastPrivilege: every IAM grant in terraform/ is one of allowed, additive (no _binding or
// _policy), on its one resource; storage grants other than scratch carry a prefix or object
// condition; bigquery.jobUser appears nowhere.
func TestLeastPrivilege(t *testing.T) {
	grants := 0
	for _, b := range find(parseDir(t, "."), "resource") {
		typ := b.labels[0]
		if !strings.Contains(typ, "_iam_") {
			continue
		}
		if strings.HasSuffix(typ, "_iam_binding") || strings.HasSuffix(typ, "_iam_policy") || strings.HasSuffix(typ, "_iam_audit_config") {
			t.Errorf("%s is authoritative: use _iam_member, which leaves others' grants alone", b)
			continue
		}
		var roles []string
		for _, l := range literals(b.body) {
			if strings.HasPrefix(l, "roles/") {
				roles = append(roles, l)
			}
		}
		if len(roles) == 0 {
			t.Errorf("%s: no literal role to check", b)
		}
		var cond string
		for _, nb := range b.body.Blocks {
			if a, ok := nb.Body.Attributes["expression"]; ok && nb.Type == "condition" {
				cond = strings.Join(conditionTerms(a.Expr), " || ")
			}
		}
		id := filepath.ToSlash(b.String())
		for _, role := range roles {
			grants++
			if role == "roles/bigquery.jobUser" {
				t.Errorf("%s grants roles/bigquery.jobUser, which the pipelines never need", id)
			}
			if exc, ok := projectWideExceptions[id]; ok && exc == role && typ == "google_project_iam_member" {
				continue
			}
			ok := false
			for _, r := range allowed {
				if r.resource != typ || r.role != role {
					continue
				}
				switch r.condition {
				case "prefix":
					ok = ok || (prefixCondition.MatchString(cond) && strings.Contains(cond, "startsWith"))
				case "object":
					ok = ok || objectCondition.MatchString(cond)
				default:
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s grants %s on a %s (condition %q), which the deployment may not", id, role, typ, cond)
			}
			if role == "roles/storage.objectAdmin" && !strings.Contains(traversal(b.body.Attributes["bucket"].Expr), "scratch") {
				t.Errorf("%s grants objectAdmin on a bucket other than scratch", id)
			}
		}
	}
	if grants == 0 {
		t.Fatal("no grants found")
	}
}

// TestWorkerGrants: the iam module grants the workers exactly the list.
func TestWorkerGrants(t *testing.T) {
	var got []string
	for _, b := range find(parseDir(t, filepath.Join("modules", "iam")), "resource") {
		if !strings.Contains(b.labels[0], "_iam_") {
			continue
		}
		for _, l := range literals(b.body) {
			if strings.HasPrefix(l, "roles/") {
				got = append(got, b.labels[0]+" "+l)
			}
		}
	}
	sort.Strings(got)
	want := []string{
		"google_bigquery_dataset_iam_member roles/bigquery.dataEditor",
		"google_project_iam_member roles/dataflow.worker",
		"google_pubsub_subscription_iam_member roles/pubsub.subscriber",
		"google_pubsub_subscription_iam_member roles/pubsub.viewer",
		"google_pubsub_topic_iam_member roles/pubsub.publisher",
		"google_pubsub_topic_iam_member roles/pubsub.viewer",
		"google_storage_bucket_iam_member roles/storage.objectAdmin",
		"google_storage_bucket_iam_member roles/storage.objectCreator",
		"google_storage_bucket_iam_member roles/storage.objectViewer",
		"google_storage_bucket_iam_member roles/storage.objectViewer",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("worker grants (-want +got):\n%s", diff)
	}
}

// TestNoPubSubDeadLettering: no subscription has a dead-letter policy; the pipeline owns dead
// letters (archived, and in the dead_letters table).
func TestNoPubSubDeadLettering(t *testing.T) {
	subs := find(parseDir(t, "."), "resource", "google_pubsub_subscription")
	if len(subs) == 0 {
		t.Fatal("no subscriptions")
	}
	for _, b := range subs {
		for _, nb := range b.body.Blocks {
			if nb.Type == "dead_letter_policy" || (nb.Type == "dynamic" && len(nb.Labels) == 1 && nb.Labels[0] == "dead_letter_policy") {
				t.Errorf("%s has a dead_letter_policy", b)
			}
		}
		if _, ok := b.body.Attributes["dead_letter_policy"]; ok {
			t.Errorf("%s has a dead_letter_policy", b)
		}
	}
}

// metricTypes are the only metrics the alert policies and the dashboard may watch: the
// subscription's backlog age, the job's data freshness, and Dataflow's export of the pipeline's
// Beam counters (filtered to the dead-letter counters tributary/deadletter.<reason>).
var metricTypes = []string{
	"dataflow.googleapis.com/job/data_watermark_age",
	"dataflow.googleapis.com/job/user_counter",
	"pubsub.googleapis.com/subscription/oldest_unacked_message_age",
}

var metricType = regexp.MustCompile(`metric\.type="([^"]+)"`)

// TestMonitoring: every metric type in monitoring is from metricTypes, each is alerted on, and
// the user-counter filter selects the dead-letter counters.
func TestMonitoring(t *testing.T) {
	mod := parseDir(t, filepath.Join("modules", "monitoring"))
	seen := map[string]bool{}
	for _, b := range mod {
		text := strings.Join(literals(b.body), "")
		for _, m := range metricType.FindAllStringSubmatch(text, -1) {
			if !slices.Contains(metricTypes, m[1]) {
				t.Errorf("%s watches %s, which is not in the test's list", b, m[1])
			}
			seen[m[1]] = true
		}
		if strings.Contains(text, "job/user_counter") && !strings.Contains(text, `metric.label.metric_name=starts_with("deadletter.")`) {
			t.Errorf("%s: user_counter filter does not select the deadletter.* counters", b)
		}
	}
	for _, m := range metricTypes {
		if !seen[m] {
			t.Errorf("no filter on %s", m)
		}
	}
	policies := find(mod, "resource", "google_monitoring_alert_policy")
	n := 0
	for _, p := range policies {
		n += len(instances(t, mod, p, &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.DynamicVal}}))
	}
	if n != 3 {
		t.Errorf("want 3 alert policies (dead letters, backlog age, freshness), found %d", n)
	}
	for _, p := range policies {
		conds := 0
		for _, nb := range p.body.Blocks {
			if nb.Type == "conditions" {
				conds++
			}
		}
		if conds == 0 {
			t.Errorf("%s has no condition", p)
		}
	}
	root := parseDir(t, filepath.Join("environments", "example"))
	call := one(t, root, "module", "monitoring")
	if got := traversal(call.body.Attributes["job_name"].Expr); got != "module.dataflow_streaming.job_name" {
		t.Errorf("monitoring watches job %q, want the streaming job's name", got)
	}
}

// TestStorageLifecycle: the archive moves to Nearline, then Coldline, and may be deleted, each
// after a configurable age, and only under archive/.
func TestStorageLifecycle(t *testing.T) {
	mod := parseDir(t, filepath.Join("modules", "storage"))
	lake := one(t, mod, "resource", "google_storage_bucket", "this")
	classes := map[string]string{}
	var rules []*hclsyntax.Block
	for _, nb := range lake.body.Blocks {
		switch {
		case nb.Type == "lifecycle_rule":
			rules = append(rules, nb)
		case nb.Type == "dynamic" && nb.Labels[0] == "lifecycle_rule":
			for _, c := range nb.Body.Blocks {
				if c.Type == "content" {
					rules = append(rules, c)
				}
			}
		}
	}
	for _, r := range rules {
		var action, age, prefix string
		for _, nb := range r.Body.Blocks {
			switch nb.Type {
			case "action":
				action = stringAttr(nb.Body, "type") + " " + stringAttr(nb.Body, "storage_class")
			case "condition":
				age = traversal(nb.Body.Attributes["age"].Expr)
				if p, ok := nb.Body.Attributes["matches_prefix"]; ok {
					prefix = strings.Join(literals(p.Expr), ",")
				}
			}
		}
		if prefix == "archive/" {
			classes[strings.TrimSpace(action)] = age
		}
	}
	want := map[string]string{
		"SetStorageClass NEARLINE": "var.archive_nearline_after_days",
		"SetStorageClass COLDLINE": "var.archive_coldline_after_days",
		"Delete":                   "lifecycle_rule.value",
	}
	if diff := cmp.Diff(want, classes); diff != "" {
		t.Errorf("archive lifecycle (-want +got):\n%s", diff)
	}
}

// wantMoved are the addresses resources had before they became instances of one resource
// with for_each, by module folder: an applied state at the old address must move, not be
// destroyed and recreated (tables holding data, alert policies with their incidents,
// subscriptions with the messages they keep).
var wantMoved = map[string]map[string]string{
	"modules/bigquery": {
		"google_bigquery_table.events":            `google_bigquery_table.this["events"]`,
		"google_bigquery_table.product_metrics":   `google_bigquery_table.this["product_metrics"]`,
		"google_bigquery_table.trending_products": `google_bigquery_table.this["trending_products"]`,
		"google_bigquery_table.user_sessions":     `google_bigquery_table.this["user_sessions"]`,
		"google_bigquery_table.fraud_alerts":      `google_bigquery_table.this["fraud_alerts"]`,
		"google_bigquery_table.dead_letters":      `google_bigquery_table.this["dead_letters"]`,
	},
	"modules/pubsub": {
		"google_pubsub_topic.alerts":              `google_pubsub_topic.published["alerts"]`,
		"google_pubsub_subscription.alerts":       `google_pubsub_subscription.published["alerts"]`,
		"google_pubsub_topic.dead_letters":        `google_pubsub_topic.published["dead_letters"]`,
		"google_pubsub_subscription.dead_letters": `google_pubsub_subscription.published["dead_letters"]`,
	},
	"modules/monitoring": {
		"google_monitoring_alert_policy.dead_letters":   `google_monitoring_alert_policy.this["dead_letters"]`,
		"google_monitoring_alert_policy.oldest_unacked": `google_monitoring_alert_policy.this["oldest_unacked"]`,
		"google_monitoring_alert_policy.data_freshness": `google_monitoring_alert_policy.this["data_freshness"]`,
	},
}

// TestMoved: every moved block of a module moves from an address the module no longer declares
// to an instance it declares (a resource's for_each key), and every move of wantMoved is there.
func TestMoved(t *testing.T) {
	byDir := map[string][]block{}
	for _, b := range parseDir(t, ".") {
		dir := filepath.ToSlash(filepath.Dir(b.file))
		byDir[dir] = append(byDir[dir], b)
	}
	for dir, blocks := range byDir {
		got := map[string]string{}
		for _, m := range find(blocks, "moved") {
			var from, to string
			if a, ok := m.body.Attributes["from"]; ok {
				from = address(a.Expr)
			}
			if a, ok := m.body.Attributes["to"]; ok {
				to = address(a.Expr)
			}
			got[from] = to
			if typ, name, _ := strings.Cut(from, "."); len(find(blocks, "resource", typ, name)) != 0 {
				t.Errorf("%s: moved from %s, which the module still declares", m.file, from)
			}
			res, key, _ := strings.Cut(strings.TrimSuffix(to, `"]`), `["`)
			typ, name, _ := strings.Cut(res, ".")
			r := find(blocks, "resource", typ, name)
			if len(r) != 1 {
				t.Errorf("%s: moved to %s, which the module does not declare", m.file, to)
				continue
			}
			if _, ok := instances(t, blocks, r[0], &hcl.EvalContext{})[key]; !ok {
				t.Errorf("%s: moved to %s, which is no instance of %s", m.file, to, res)
			}
		}
		if diff := cmp.Diff(wantMoved[dir], got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: moved blocks (-want +got):\n%s", dir, diff)
		}
	}
}

// TestInstanceReferences: every reference to one instance of a resource by a literal key, such
// as google_pubsub_topic.published["alerts"] in an output, names a key of that resource's
// for_each in the same module; a key that is no instance would fail only at plan time.
func TestInstanceReferences(t *testing.T) {
	byDir := map[string][]block{}
	for _, b := range parseDir(t, ".") {
		dir := filepath.ToSlash(filepath.Dir(b.file))
		byDir[dir] = append(byDir[dir], b)
	}
	refs := 0
	for dir, blocks := range byDir {
		for _, b := range blocks {
			hclsyntax.VisitAll(b.body, func(n hclsyntax.Node) hcl.Diagnostics {
				s, ok := n.(*hclsyntax.ScopeTraversalExpr)
				if !ok || len(s.Traversal) < 3 {
					return nil
				}
				name, ok := s.Traversal[1].(hcl.TraverseAttr)
				if !ok {
					return nil
				}
				idx, ok := s.Traversal[2].(hcl.TraverseIndex)
				if !ok || idx.Key.Type() != cty.String {
					return nil
				}
				r := find(blocks, "resource", s.Traversal.RootName(), name.Name)
				if len(r) != 1 {
					return nil // a module's output or a local, not a resource
				}
				refs++
				key := idx.Key.AsString()
				if _, ok := instances(t, blocks, r[0], &hcl.EvalContext{})[key]; !ok {
					t.Errorf("%s: %s refers to %s.%s[%q], which is no instance of it", dir, b, s.Traversal.RootName(), name.Name, key)
				}
				return nil
			})
		}
	}
	if refs == 0 {
		t.Fatal("no reference to a resource instance by key found")
	}
}

// TestFmt: terraform fmt leaves every file as it is (terraform needs no providers for fmt).
func TestFmt(t *testing.T) {
	path, err := exec.LookPath("terraform")
	if err != nil {
		t.Skip("terraform not on PATH")
	}
	cmd := exec.Command(path, "fmt", "-check", "-recursive", "-diff", ".")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("terraform fmt -check: %v\n%s", err, out.String())
	}
}
