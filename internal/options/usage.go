package options

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Groups returns the option groups of specs in the order their first option appears, each with
// its options in field order: the order of --help.
func Groups(specs []Spec) (names []string, byGroup map[string][]Spec) {
	byGroup = map[string][]Spec{}
	for _, s := range specs {
		g := s.Group
		if g == "" {
			g = "Other"
		}
		if _, ok := byGroup[g]; !ok {
			names = append(names, g)
		}
		byGroup[g] = append(byGroup[g], s)
	}
	return names, byGroup
}

// Usage writes the options of opts (a tagged struct or a pointer to one) for --help, from the
// same tags as the README table: by group, each flag with its type, default and help.
func Usage(w io.Writer, opts any) error {
	specs, err := Specs(opts)
	if err != nil {
		return err
	}
	names, byGroup := Groups(specs)
	for i, g := range names {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "%s:\n", g)
		for _, s := range byGroup[g] {
			line := fmt.Sprintf("  --%s %s", s.Name, s.Type)
			if s.Default != "" && s.Default != "0" && s.Default != "0s" && s.Default != "false" {
				line += fmt.Sprintf(" (default %s)", s.Default)
			}
			fmt.Fprintln(w, line)
			help := s.Help
			switch {
			case !s.Templated:
				help += " Local runs only."
			case s.Required == RequiredAlways:
				help = "Required. " + help
			case s.Required == RequiredInTemplate:
				help = "Required in the template. " + help
			}
			for _, l := range wrap(help, 92) {
				fmt.Fprintf(w, "      %s\n", l)
			}
		}
	}
	return nil
}

// RunnerUsage writes the flags of fs that are not options of opts (Beam's runner flags) in the
// flag package's format.
func RunnerUsage(w io.Writer, fs *flag.FlagSet, opts any, skip ...string) error {
	specs, err := Specs(opts)
	if err != nil {
		return err
	}
	ours := map[string]bool{}
	for _, s := range specs {
		ours[s.Name] = true
	}
	for _, s := range skip {
		ours[s] = true
	}
	rest := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	rest.SetOutput(w)
	fs.VisitAll(func(f *flag.Flag) {
		if !ours[f.Name] {
			rest.Var(f.Value, f.Name, f.Usage)
		}
	})
	rest.PrintDefaults()
	return nil
}

// CountRunnerFlags returns how many flags of fs RunnerUsage lists.
func CountRunnerFlags(fs *flag.FlagSet, opts any, skip ...string) (int, error) {
	var b strings.Builder
	if err := RunnerUsage(&b, fs, opts, skip...); err != nil {
		return 0, err
	}
	n := 0
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "  -") {
			n++
		}
	}
	return n, nil
}

// wrap breaks s into lines of at most width runes at spaces.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && len([]rune(cur.String()))+1+len([]rune(word)) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
