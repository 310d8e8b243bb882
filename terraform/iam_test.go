// Package terraform holds the deployment's Terraform; this test checks its IAM offline (no
// providers needed), as far as text can: grants are what `terraform plan` would show.
package terraform

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// block is one top-level resource of a .tf file.
type block struct {
	file, kind, name, body string
}

var resourceHead = regexp.MustCompile(`(?m)^resource "([a-z0-9_]+)" "([A-Za-z0-9_-]+)" \{`)

// resources returns every resource block under dir; a block ends at the first line that is a
// lone "}" (terraform fmt leaves top-level blocks so).
func resources(t *testing.T, dir string) []block {
	t.Helper()
	var out []block
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".tf") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		src := string(data)
		for _, m := range resourceHead.FindAllStringSubmatchIndex(src, -1) {
			rest := src[m[1]:]
			end := strings.Index(rest, "\n}\n")
			if end < 0 {
				end = len(rest)
			}
			out = append(out, block{file: path, kind: src[m[2]:m[3]], name: src[m[4]:m[5]], body: rest[:end]})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("no resources found")
	}
	return out
}

var roleLiteral = regexp.MustCompile(`"(roles/[A-Za-z0-9_.]+)"`)

// TestLeastPrivilege: only roles/dataflow.worker is granted project-wide, bigquery.jobUser
// nowhere, bucket-wide write only on the scratch bucket, and every object-create grant on
// another bucket is limited by a condition to the output prefixes.
func TestLeastPrivilege(t *testing.T) {
	for _, b := range resources(t, ".") {
		id := b.file + ": " + b.kind + "." + b.name
		roles := roleLiteral.FindAllStringSubmatch(b.body, -1)
		for _, r := range roles {
			if r[1] == "roles/bigquery.jobUser" {
				t.Errorf("%s grants roles/bigquery.jobUser, which the pipeline never needs", id)
			}
		}
		switch {
		case strings.HasPrefix(b.kind, "google_project_iam") || strings.HasPrefix(b.kind, "google_organization_iam") || strings.HasPrefix(b.kind, "google_folder_iam"):
			if len(roles) == 0 {
				t.Errorf("%s: no literal role to check", id)
			}
			for _, r := range roles {
				if r[1] != "roles/dataflow.worker" {
					t.Errorf("%s grants %s project-wide; only roles/dataflow.worker may be", id, r[1])
				}
			}
		case strings.HasPrefix(b.kind, "google_storage_bucket_iam"):
			for _, r := range roles {
				switch r[1] {
				case "roles/storage.objectViewer":
				case "roles/storage.objectAdmin", "roles/storage.admin":
					if !strings.Contains(b.body, "scratch") {
						t.Errorf("%s grants %s on a bucket other than scratch", id, r[1])
					}
				case "roles/storage.objectCreator", "roles/storage.objectUser":
					if !strings.Contains(b.body, "condition {") || !strings.Contains(b.body, "startsWith") {
						t.Errorf("%s grants %s without a condition on object-name prefixes", id, r[1])
					}
				default:
					t.Errorf("%s grants %s, which this test does not know", id, r[1])
				}
			}
		}
	}
}

// TestExampleWritesBigQuery: the example sends the tables to BigQuery, not to files on the
// workers or the lake.
func TestExampleWritesBigQuery(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("examples", "streaming", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^\s*output_dataset\s*=\s*"\$\{var\.project\}:\$\{module\.bigquery\.dataset_id\}"`),
		regexp.MustCompile(`(?m)^\s*create_tables\s*=\s*"true"`),
	} {
		if !want.Match(data) {
			t.Errorf("examples/streaming/main.tf does not set %s", want)
		}
	}
}
