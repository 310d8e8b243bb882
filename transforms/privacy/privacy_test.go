package privacy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/testing/ptest"
	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/internal/beamtest"
	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/fraud"
	"github.com/tributary-dev/tributary/transforms/sessions"
)

func TestMain(m *testing.M) { ptest.Main(m) }

const testKey = "0123456789abcdef0123456789abcdef"

func TestToken(t *testing.T) {
	tok := mustTokenizer(t, testKey)
	// Independently: printf u-1 | openssl dgst -sha256 -hmac $KEY -binary | base64 (URL alphabet, no padding).
	if got, want := tok.Token("u-1"), "tok_hyjK1bZlfmZLtDEr_7bbi6tuVNlP3nxGTOIA6znbq78"; got != want {
		t.Errorf("Token(u-1) = %q, want %q", got, want)
	}
	if a, b := tok.Token("u-1"), mustTokenizer(t, testKey).Token("u-1"); a != b {
		t.Errorf("tokens of one id and key differ: %q, %q", a, b)
	}
	other := mustTokenizer(t, testKey+"!")
	seen := map[string]string{}
	for _, id := range []string{"u-1", "u-2", "", "U-1", "u-1 "} {
		tk := tok.Token(id)
		if prev, dup := seen[tk]; dup {
			t.Errorf("ids %q and %q share token %q", prev, id, tk)
		}
		seen[tk] = id
		if !strings.HasPrefix(tk, TokenPrefix) || len(tk) != len(TokenPrefix)+43 {
			t.Errorf("Token(%q) = %q, want tok_ and 43 base64url characters", id, tk)
		}
		if other.Token(id) == tk {
			t.Errorf("a different key gives the same token for %q", id)
		}
	}
	if _, err := NewTokenizer([]byte("short")); err == nil {
		t.Error("NewTokenizer accepted a 5-byte key")
	}
}

func mustTokenizer(t *testing.T, key string) *Tokenizer {
	t.Helper()
	tok, err := NewTokenizer([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg  Config
		flag string // "" when valid
	}{
		{Config{}, ""},
		{Config{Enabled: true, KeyFile: "gs://b/key"}, ""},
		{Config{Enabled: true, KeyEnv: "TRIBUTARY_TOKEN_KEY"}, ""},
		{Config{Enabled: true}, "Enabled"},
		{Config{Enabled: true, KeyFile: "k", KeyEnv: "K"}, "KeyFile"},
		{Config{KeyFile: "k"}, "KeyFile"},
		{Config{KeyEnv: "K"}, "KeyEnv"},
		{Config{Enabled: true, KeyEnv: testKey + "=="}, "KeyEnv"}, // a key where its name goes
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if (err == nil) != (tc.flag == "") || (err != nil && !strings.Contains(err.Error(), tc.flag+":")) {
			t.Errorf("%+v.Validate() = %v, want an error naming %q", tc.cfg, err, tc.flag)
		}
	}
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good, short := file("good", testKey+"\n"), file("short", "0123456789\n")
	t.Setenv("TOKEN_KEY_TEST", " "+testKey+" ")
	t.Setenv("TOKEN_KEY_SHORT", "0123456789")
	tests := []struct {
		name string
		cfg  Config
		err  string // a part of the error; "" for success
	}{
		{"file, newline trimmed", Config{Enabled: true, KeyFile: good}, ""},
		{"env, spaces trimmed", Config{Enabled: true, KeyEnv: "TOKEN_KEY_TEST"}, ""},
		{"short file", Config{Enabled: true, KeyFile: short}, "invalid KeyFile: the key in " + short + " is 10 bytes"},
		{"missing file", Config{Enabled: true, KeyFile: filepath.Join(dir, "nope")}, "invalid KeyFile: reading the key"},
		{"short env", Config{Enabled: true, KeyEnv: "TOKEN_KEY_SHORT"}, "invalid KeyEnv: the key in $TOKEN_KEY_SHORT is 10 bytes"},
		{"unset env", Config{Enabled: true, KeyEnv: "TOKEN_KEY_UNSET"}, "invalid KeyEnv: environment variable TOKEN_KEY_UNSET is not set"},
		{"no key", Config{Enabled: true}, "invalid Enabled"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := LoadKey(t.Context(), tc.cfg)
			if tc.err == "" {
				if err != nil || string(key) != testKey {
					t.Errorf("LoadKey = %q, %v; want the test key", key, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("LoadKey error = %v, want %q", err, tc.err)
			}
			if err != nil && strings.Contains(err.Error(), "0123456789") {
				t.Errorf("error reveals the key: %v", err)
			}
		})
	}
}

// TestTokenizeBeforeEveryOutput runs events through Tokenize and then the branches that keep
// per-user state, and checks that every output holds tokens, never the raw ids, and that
// sessions and fraud rules still group by user.
func TestTokenizeBeforeEveryOutput(t *testing.T) {
	raw := []string{"alice@example.com", "bob-0042"}
	var evs []schemas.Event
	for i := range 6 { // six quick purchases of alice: a velocity alert
		evs = append(evs, schemas.Event{EventID: fmt.Sprintf("a%d", i), EventType: schemas.Purchase, EventTime: beamtest.T0.Add(time.Duration(i) * time.Second),
			UserID: raw[0], ProductID: "p1", Amount: 10 * schemas.DecimalScale, AmountUSD: 10 * schemas.DecimalScale})
	}
	evs = append(evs, schemas.Event{EventID: "b1", EventType: schemas.PageView, EventTime: beamtest.T0, UserID: raw[1]})
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(testKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PRIVACY_TEST_KEY", testKey)
	tok := mustTokenizer(t, testKey)

	for _, cfg := range []Config{
		{Enabled: true, KeyFile: keyFile},
		{Enabled: true, KeyEnv: "PRIVACY_TEST_KEY"},
	} {
		t.Run(fmt.Sprintf("file=%t", cfg.KeyFile != ""), func(t *testing.T) {
			p, s := beam.NewPipelineWithRoot()
			events := Tokenize(s, beamtest.Events(s, evs), cfg)
			outputs := map[string]beam.PCollection{
				"events":   events,
				"sessions": sessions.UserSessions(s, events, sessions.Config{}),
				"alerts":   fraud.Detect(s, events, fraud.Config{}),
			}
			for name, col := range outputs {
				beamtest.Reset(t.Name() + "/" + name)
				beamtest.Collect(s, t.Name()+"/"+name, col)
			}
			if err := ptest.Run(p); err != nil {
				t.Fatal(err)
			}
			users := map[string][]string{}
			for name := range outputs {
				for _, out := range beamtest.Collected[any](t.Name() + "/" + name) {
					line, err := json.Marshal(out)
					if err != nil {
						t.Fatal(err)
					}
					for _, id := range raw {
						if strings.Contains(string(line), id) {
							t.Errorf("%s holds the raw user id %q: %s", name, id, line)
						}
					}
					var row struct {
						UserID string `json:"user_id"`
					}
					if err := json.Unmarshal(line, &row); err != nil {
						t.Fatal(err)
					}
					users[name] = append(users[name], row.UserID)
				}
				slices.Sort(users[name])
				users[name] = slices.Compact(users[name])
			}
			a, b := tok.Token(raw[0]), tok.Token(raw[1])
			want := map[string][]string{"events": sortedPair(a, b), "sessions": sortedPair(a, b), "alerts": {a}}
			if diff := cmp.Diff(want, users); diff != "" {
				t.Errorf("user ids per output (-want +got):\n%s", diff)
			}
			if n := len(beamtest.Collected[any](t.Name() + "/sessions")); n != 2 {
				t.Errorf("%d sessions, want one per user", n)
			}
		})
	}
}

func sortedPair(a, b string) []string {
	s := []string{a, b}
	slices.Sort(s)
	return s
}

func TestTokenizeFailsWithoutKey(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	events := beam.CreateList(s, []schemas.Event{{EventID: "e", UserID: "u"}})
	beamtest.Collect(s, t.Name(), Tokenize(s, events, Config{Enabled: true, KeyEnv: "PRIVACY_TEST_UNSET"}))
	err := ptest.Run(p)
	if err == nil || !strings.Contains(err.Error(), "invalid KeyEnv: environment variable PRIVACY_TEST_UNSET is not set") {
		t.Errorf("pipeline error = %v, want the missing key named", err)
	}
}

func TestTokenizeDisabledIsIdentity(t *testing.T) {
	p, s := beam.NewPipelineWithRoot()
	events := beam.CreateList(s, []schemas.Event{{EventID: "e", UserID: "u"}})
	if out := Tokenize(s, events, Config{}); out != events {
		t.Error("Tokenize with tokenization off added a step")
	}
	_ = p
}
