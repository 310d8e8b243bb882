package schemas

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func init() {
	beam.RegisterCoder(reflect.TypeOf(UserSession{}), encodeUserSession, decodeUserSession)
}

// UserSession is one row of user_sessions: one version of one user's session, a run of events
// no two consecutive of which are a gap or more apart. The pane columns locate the version:
// the window is [session_start, last event + gap), pane_index counts the versions from 0,
// pane_timing is ON_TIME for the first version and LATE for those that late events caused, and
// is_final marks the last one. Keep the row with the highest pane_index per session_id, and
// delete the rows whose session_id a kept row lists in supersedes.
type UserSession struct {
	Pane
	UserID          string    `json:"user_id"`
	SessionID       string    `json:"session_id"`
	SessionStart    time.Time `json:"session_start"`
	SessionEnd      time.Time `json:"session_end"`
	DurationSeconds int64     `json:"duration_seconds"`
	Events          int64     `json:"events"`
	PageViews       int64     `json:"page_views"`
	Carts           int64     `json:"carts"`
	Purchases       int64     `json:"purchases"`
	RevenueUSD      Numeric   `json:"revenue_usd"`
	Converted       bool      `json:"converted"`
	FirstProduct    string    `json:"first_product,omitempty"`
	LastProduct     string    `json:"last_product,omitempty"`
	// Merged is set when a late event made this session absorb sessions, or move its start,
	// that earlier rows reported under other session_ids; Supersedes lists those ids.
	Merged     bool         `json:"merged"`
	Supersedes []SessionRef `json:"supersedes,omitempty"`
}

// SessionRef names a session row that a later row replaces.
type SessionRef struct {
	SessionID string `json:"session_id"`
}

func encodeUserSession(v UserSession) ([]byte, error) { return json.Marshal(v) }

func decodeUserSession(b []byte) (UserSession, error) {
	var v UserSession
	return v, json.Unmarshal(b, &v)
}
