// Package templates holds the Flex Templates: one Dockerfile for every pipeline (build argument
// PIPELINE) and one folder per pipeline with its generated metadata.json. No container engine
// runs here, so this test runs the Dockerfile's exact go build for each pipeline and checks that
// every COPY source exists in the build context.
package templates

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction with its continuation lines joined.
type instruction struct {
	line int
	cmd  string // upper case: FROM, RUN, COPY, ENV, ...
	args string
}

// parseDockerfile reads path's instructions as built with --build-arg PIPELINE=pipeline.
func parseDockerfile(t *testing.T, path, pipeline string) []instruction {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []instruction
	var cur strings.Builder
	start, declared := 0, false
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(trimmed, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		cmd, args = strings.ToUpper(cmd), strings.TrimSpace(args)
		switch {
		case cmd == "FROM":
			declared = false // an ARG is in scope in the stage that declares it
		case cmd == "ARG" && strings.HasPrefix(args, "PIPELINE"):
			declared = true
		case strings.Contains(args, "${PIPELINE}") && !declared:
			t.Errorf("%s:%d: uses ${PIPELINE} in a stage without ARG PIPELINE: it would be empty", path, start)
		}
		out = append(out, instruction{line: start, cmd: cmd, args: strings.ReplaceAll(args, "${PIPELINE}", pipeline)})
		cur.Reset()
	}
	if cur.Len() != 0 {
		t.Fatalf("%s: ends in a continuation line", path)
	}
	return out
}

// dockerfile is the templates' Dockerfile; its build context is the repository root.
const dockerfile = "Dockerfile"

// pipelines are the pipelines with a command (pipelines/*/cmd), each a PIPELINE of the
// Dockerfile.
func pipelines(t *testing.T) []string {
	t.Helper()
	cmds, err := filepath.Glob(filepath.Join("..", "pipelines", "*", "cmd"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, cmd := range cmds {
		out = append(out, filepath.Base(filepath.Dir(cmd)))
	}
	if len(out) < 2 {
		t.Fatalf("found %d deployable pipelines (%v), want streaming and backfill", len(out), out)
	}
	return out
}

// TestDockerfileCopySources: every COPY from the build context names files that exist there.
func TestDockerfileCopySources(t *testing.T) {
	for _, file := range []string{dockerfile} {
		copies := 0
		for _, in := range parseDockerfile(t, file, "streaming") {
			if in.cmd != "COPY" && in.cmd != "ADD" {
				continue
			}
			fields := strings.Fields(in.args)
			if strings.HasPrefix(in.args, "--from=") {
				continue // from another stage, checked by TestDockerfileBuild
			}
			var srcs []string
			for _, f := range fields[:len(fields)-1] {
				if !strings.HasPrefix(f, "--") {
					srcs = append(srcs, f)
				}
			}
			if len(srcs) == 0 {
				t.Errorf("%s:%d: COPY without a source", file, in.line)
			}
			for _, src := range srcs {
				copies++
				matches, err := filepath.Glob(filepath.Join("..", src))
				if err != nil || len(matches) == 0 {
					t.Errorf("%s:%d: COPY source %s does not exist in the build context (the repository root)", file, in.line, src)
				}
			}
		}
		if copies == 0 {
			t.Errorf("%s copies nothing from the build context", file)
		}
	}
}

// TestDockerfileBuild runs each Dockerfile's go build command as written (its environment
// assignments, CGO_ENABLED=0 GOOS=linux GOARCH=amd64, and flags), from the repository root as
// the builder stage's WORKDIR holds it, with only the output redirected; checks that the binary
// is a static linux/amd64 ELF, that the final stage copies that output, and that
// FLEX_TEMPLATE_GO_BINARY names where it lands.
func TestDockerfileBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every template binary")
	}
	for _, pipeline := range pipelines(t) {
		t.Run(pipeline, func(t *testing.T) {
			file := dockerfile + " (PIPELINE=" + pipeline + ")"
			var builds int
			var output, copiedTo, binaryEnv string
			for _, in := range parseDockerfile(t, dockerfile, pipeline) {
				switch in.cmd {
				case "RUN":
					if !strings.Contains(in.args, "go build") {
						continue
					}
					builds++
					output = runBuild(t, file, in)
				case "COPY":
					if strings.HasPrefix(in.args, "--from=") && output != "" {
						f := strings.Fields(in.args)
						if len(f) == 3 && f[1] == output {
							copiedTo = f[2]
						}
					}
				case "ENV":
					if v, ok := strings.CutPrefix(in.args, "FLEX_TEMPLATE_GO_BINARY="); ok {
						binaryEnv = v
					}
				}
			}
			if builds != 1 {
				t.Fatalf("%s: want one RUN go build, found %d", file, builds)
			}
			if copiedTo == "" {
				t.Errorf("%s: no COPY --from=<builder> %s <dest> into the final stage", file, output)
			} else if binaryEnv != copiedTo {
				t.Errorf("%s: FLEX_TEMPLATE_GO_BINARY=%s, but the binary is copied to %s", file, binaryEnv, copiedTo)
			}
		})
	}
}

// runBuild runs the RUN instruction's go build and returns its -o path as written.
func runBuild(t *testing.T, file string, in instruction) string {
	t.Helper()
	words := strings.Fields(in.args)
	env := map[string]string{}
	for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
		k, v, _ := strings.Cut(words[0], "=")
		env[k] = v
		words = words[1:]
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("%s:%d: RUN %q is not [VAR=value ...] go build ...", file, in.line, in.args)
	}
	for k, want := range map[string]string{"CGO_ENABLED": "0", "GOOS": "linux", "GOARCH": "amd64"} {
		if env[k] != want {
			t.Errorf("%s:%d: go build runs with %s=%q, want %q", file, in.line, k, env[k], want)
		}
	}
	args := append([]string(nil), words[2:]...)
	out := ""
	bin := filepath.Join(t.TempDir(), "binary")
	for i := range args {
		if args[i] == "-o" && i+1 < len(args) {
			out, args[i+1] = args[i+1], bin
		}
	}
	if out == "" {
		t.Fatalf("%s:%d: go build without -o", file, in.line)
	}
	cmd := exec.Command("go", append([]string{"build"}, args...)...)
	cmd.Dir = ".."
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s:%d: go build %v: %v\n%s", file, in.line, args, err, b)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatalf("%s: the binary is not ELF: %v", file, err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("%s: binary for %v, want x86-64", file, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("%s: the binary is dynamically linked; the launcher image needs a static one", file)
		}
	}
	return out
}

// TestEveryPipelineHasATemplate: each pipeline with a command (pipelines/*/cmd) has
// templates/<pipeline>/ with its generated metadata.json, and the Dockerfile builds the
// command its PIPELINE names.
func TestEveryPipelineHasATemplate(t *testing.T) {
	for _, pipeline := range pipelines(t) {
		if _, err := os.Stat(filepath.Join(pipeline, "metadata.json")); err != nil {
			t.Errorf("templates/%s/metadata.json: %v (make generate)", pipeline, err)
		}
	}
	data, err := os.ReadFile(dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "./pipelines/${PIPELINE}/cmd") {
		t.Errorf("templates/Dockerfile does not build ./pipelines/${PIPELINE}/cmd")
	}
}
