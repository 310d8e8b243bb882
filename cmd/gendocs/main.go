// Command gendocs writes the files generated from the pipelines' options
// structs: the Flex Template metadata.json, the README parameter table and
// the Terraform variables. make generate runs it from the repository root;
// with -check it writes nothing and exits 1 when a file is stale.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/tributary-dev/tributary/pipelines/backfill"
	"github.com/tributary-dev/tributary/pipelines/streaming"
	"github.com/tributary-dev/tributary/transforms/bigquery"
)

// generators lists every pipeline with generated files.
var generators = []func(root string) (map[string][]byte, error){
	streaming.GeneratedFiles,
	backfill.GeneratedFiles,
	bigquery.GeneratedFiles,
}

func main() {
	root := flag.String("root", ".", "repository root")
	check := flag.Bool("check", false, "write nothing; exit 1 if a generated file is stale")
	flag.Parse()

	stale, err := run(*root, *check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(2)
	}
	if *check && stale > 0 {
		fmt.Fprintf(os.Stderr, "gendocs: %d generated file(s) stale; run make generate\n", stale)
		os.Exit(1)
	}
}

// run renders every generated file and writes those that changed (or, with
// check, only reports them). It returns how many were stale.
func run(root string, check bool) (int, error) {
	files := map[string][]byte{}
	for _, gen := range generators {
		out, err := gen(root)
		if err != nil {
			return 0, err
		}
		for p, b := range out {
			// The backfill's README is built on the streaming one's (options.Artefacts.ReadmeBase):
			// the later generator's README holds both tables.
			if _, dup := files[p]; dup && filepath.Base(p) != "README.md" {
				return 0, fmt.Errorf("%s is generated twice", p)
			}
			files[p] = b
		}
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	slices.Sort(paths)

	stale := 0
	for _, p := range paths {
		old, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		if err == nil && bytes.Equal(old, files[p]) {
			// Unchanged files keep their modification time.
			fmt.Printf("unchanged %s\n", p)
			continue
		}
		stale++
		if check {
			fmt.Printf("stale     %s\n", p)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return 0, err
		}
		if err := os.WriteFile(p, files[p], 0o644); err != nil {
			return 0, err
		}
		fmt.Printf("wrote     %s\n", p)
	}
	return stale, nil
}
