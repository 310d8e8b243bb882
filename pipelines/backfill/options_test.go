package backfill

import (
	"errors"
	"testing"
	"time"

	"github.com/tributary-dev/tributary/internal/options"
)

// TestOptionsValidate: each bad value is a flag error naming its flag (exit 2 in main).
func TestOptionsValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		set  func(*Options)
		flag string // "" = valid
	}{
		{"defaults with --range", func(o *Options) { o.Range = "previous-day" }, ""},
		{"from and to", func(o *Options) { o.From, o.To = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z" }, ""},
		{"relative from", func(o *Options) { o.From = "-24h" }, ""},
		{"no range at all", func(o *Options) {}, "from"},
		{"from not a whole hour", func(o *Options) { o.From = "2026-01-01T00:30:00Z" }, "from"},
		{"to before from", func(o *Options) { o.From, o.To = "2026-01-02T00:00:00Z", "2026-01-01T00:00:00Z" }, "to"},
		{"range with from", func(o *Options) { o.Range, o.From = "previous-day", "-24h" }, "range"},
		{"unknown range", func(o *Options) { o.Range = "last-week" }, "range"},
		{"archive not an archive folder", func(o *Options) { o.Range, o.Archive = "previous-day", "out" }, "archive"},
		{"archive lateness below what streaming takes late", func(o *Options) {
			o.Range, o.AllowedLateness, o.ArchiveLateness = "previous-day", time.Hour, time.Hour
		}, "archiveLateness"},
		{"bad replay", func(o *Options) { o.Range, o.Replay = "previous-day", "fast" }, "replay"},
		{"core rule", func(o *Options) { o.Range, o.DedupHorizon = "previous-day", 0 }, "dedupHorizon"},
		// A range is closed once --archiveLateness has passed after --to.
		{"open range by --from alone", func(o *Options) { o.From, o.AllowOpenRange = "-24h", false }, "to"},
		{"open range by --to", func(o *Options) {
			o.From, o.To, o.AllowOpenRange = "-3h", time.Now().Add(time.Hour).UTC().Truncate(time.Hour).Format(time.RFC3339), false
		}, "to"},
		{"previous-hour is open for an hour", func(o *Options) { o.Range, o.AllowOpenRange = "previous-hour", false }, "range"},
		{"closed range", func(o *Options) {
			o.From, o.To, o.AllowOpenRange = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", false
		}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := defaults[Options](t)
			// Ranges relative to now (previous-day, -24h) are open for an hour after midnight or
			// the hour: the cases below set AllowOpenRange back to false where they test that.
			o.AllowOpenRange = true
			tc.set(&o)
			err := o.Validate()
			var fe *options.FlagError
			switch {
			case tc.flag == "" && err != nil:
				t.Fatalf("Validate: %v", err)
			case tc.flag == "":
			case !errors.As(err, &fe):
				t.Fatalf("Validate = %v, want a flag error for --%s", err, tc.flag)
			case fe.Flag != tc.flag:
				t.Fatalf("Validate = %v, want --%s", err, tc.flag)
			}
		})
	}
}

// TestContext: the context is the longest of the state horizons, with the defaults the
// session's 24h cap plus its 30m gap.
func TestContext(t *testing.T) {
	o := defaults[Options](t)
	if got := o.Context(); got != 24*time.Hour+30*time.Minute {
		t.Errorf("default context %v, want 24h30m", got)
	}
	o.MaxSessionDuration, o.SessionGap, o.TrendingWindow = time.Hour, time.Minute, 3*time.Hour
	if got := o.Context(); got != 3*time.Hour {
		t.Errorf("context %v, want the 3h trending window", got)
	}
}
