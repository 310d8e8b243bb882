// Package termlog is the terminal logging of local runs: Prism and the Beam SDK log through
// log/slog in this process, so one handler decides what reaches the terminal. Records below the
// level are dropped, a message repeated verbatim is printed once (Prism can warn thousands of
// times about one thing), and Notice lines (the pipeline's own start line) always show.
package termlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// ParseLevel reads debug, info, warn or error.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// Handler filters and deduplicates records before a text handler writes them.
type Handler struct {
	level slog.Level
	next  slog.Handler
	st    *state
}

type state struct {
	mu      sync.Mutex
	w       io.Writer
	repeats map[string]int // message -> times suppressed
	order   []string
}

// noticeKey marks a Notice record, which passes any level.
const noticeKey = "termlog.notice"

// New returns a handler writing records at level and above to w.
func New(w io.Writer, level slog.Level) *Handler {
	st := &state{w: w, repeats: map[string]int{}}
	return &Handler{level: level, st: st,
		next: slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropNotice})}
}

func dropNotice(_ []string, a slog.Attr) slog.Attr {
	if a.Key == noticeKey {
		return slog.Attr{}
	}
	return a
}

// Enabled reports whether a record of level may be written: Notice records are info records
// that pass any level, so info stays enabled.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= min(h.level, slog.LevelInfo)
}

// Handle writes r unless it is below the level or repeats an earlier message.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.level && !isNotice(r) {
		return nil
	}
	key := r.Level.String() + " " + r.Message
	h.st.mu.Lock()
	n, seen := h.st.repeats[key]
	if seen {
		h.st.repeats[key] = n + 1
		h.st.mu.Unlock()
		return nil
	}
	h.st.repeats[key] = 0
	h.st.order = append(h.st.order, key)
	h.st.mu.Unlock()
	return h.next.Handle(ctx, r)
}

func isNotice(r slog.Record) bool {
	notice := false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == noticeKey {
			notice = true
			return false
		}
		return true
	})
	return notice
}

// WithAttrs and WithGroup keep the filter around the text handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{level: h.level, st: h.st, next: h.next.WithAttrs(as)}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{level: h.level, st: h.st, next: h.next.WithGroup(name)}
}

// Flush writes one line per message that was suppressed as a repeat, with its count.
func (h *Handler) Flush() {
	h.st.mu.Lock()
	defer h.st.mu.Unlock()
	for _, key := range h.st.order {
		if n := h.st.repeats[key]; n > 0 {
			level, msg, _ := strings.Cut(key, " ")
			fmt.Fprintf(h.st.w, "(%s repeated %d more times: %q)\n", level, n, msg)
			h.st.repeats[key] = 0
		}
	}
}

// Notice logs an info line that shows at every level: the pipeline's own start line.
func Notice(msg string, args ...any) {
	slog.Info(msg, append(args, slog.Bool(noticeKey, true))...)
}
