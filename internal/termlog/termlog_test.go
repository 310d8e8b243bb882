package termlog

import (
	"bytes"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		level string
		want  []string // messages written, in order, then the repeat lines
	}{
		{"warn", []string{"level=INFO msg=start", "level=WARN msg=split", "level=ERROR msg=bad",
			`(WARN repeated 2 more times: "split")`}},
		{"info", []string{"level=INFO msg=start", "level=INFO msg=\"Job state: RUNNING\"", "level=WARN msg=split",
			"level=ERROR msg=bad", `(WARN repeated 2 more times: "split")`}},
		{"error", []string{"level=INFO msg=start", "level=ERROR msg=bad"}},
		{"debug", []string{"level=INFO msg=start", "level=DEBUG msg=detail", "level=INFO msg=\"Job state: RUNNING\"",
			"level=WARN msg=split", "level=ERROR msg=bad", `(WARN repeated 2 more times: "split")`}},
	} {
		t.Run(tc.level, func(t *testing.T) {
			level, err := ParseLevel(tc.level)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			h := New(&buf, level)
			old := slog.Default()
			slog.SetDefault(slog.New(h))
			defer slog.SetDefault(old)
			Notice("start", "events", 5)
			slog.Debug("detail")
			slog.Info("Job state: RUNNING")
			for range 3 {
				slog.Warn("split")
			}
			slog.Error("bad")
			h.Flush()
			var got []string
			strip := regexp.MustCompile(`^time=\S+ `)
			for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
				line = strip.ReplaceAllString(line, "")
				line, _, _ = strings.Cut(line, " events=")
				got = append(got, line)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("lines (-want +got):\n%s\n%s", diff, buf.String())
			}
			if strings.Contains(buf.String(), "termlog.notice") {
				t.Errorf("notice marker leaked:\n%s", buf.String())
			}
		})
	}
	if _, err := ParseLevel("loud"); err == nil {
		t.Error("ParseLevel(loud): no error")
	}
}
