package privacy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"io"
	"os"
	"regexp"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/gcs"   // gs:// key files
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/io/filesystem/local" // local key files
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/telemetry"
)

func init() {
	register.DoFn2x1[context.Context, schemas.Event, schemas.Event](&tokenizeFn{})
}

// TokenPrefix starts every token, so a token is never mistaken for a raw id.
const TokenPrefix = "tok_"

// MinKeyBytes is the shortest key accepted: HMAC-SHA256's output size.
const MinKeyBytes = 32

// Config configures Tokenize.
type Config struct {
	// Enabled turns tokenization on.
	Enabled bool
	// KeyFile is a local path or gs:// URI holding the key.
	KeyFile string
	// KeyEnv names an environment variable of the workers holding the key.
	KeyEnv string
}

// FieldError is an invalid Config field, named by its Go name (a pipeline maps it to its flag).
type FieldError struct {
	Field string // e.g. "KeyFile"
	Msg   string // phrased to follow the field, e.g. "is not set"
	Err   error  // the cause, if any (e.g. reading the key file)
}

func (e *FieldError) Error() string { return "invalid " + e.Field + ": " + e.Msg }

func (e *FieldError) Unwrap() error { return e.Err }

// Fields lists Config's fields in the order Validate checks them.
var Fields = []string{"Enabled", "KeyFile", "KeyEnv"}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Rules returns one check per field (see Fields), each returning what is wrong ("" when fine),
// for a pipeline's options validation.
func (c Config) Rules() map[string]func() string {
	return map[string]func() string{
		"Enabled": func() string {
			if c.Enabled && c.KeyFile == "" && c.KeyEnv == "" {
				return "needs a key: set KeyFile or KeyEnv"
			}
			return ""
		},
		"KeyFile": func() string {
			switch {
			case c.KeyFile != "" && c.KeyEnv != "":
				return "and KeyEnv are both set; set one"
			case c.KeyFile != "" && !c.Enabled:
				return "is set but Enabled is off: user ids would not be tokenized"
			}
			return ""
		},
		"KeyEnv": func() string {
			switch {
			case c.KeyEnv != "" && !envName.MatchString(c.KeyEnv):
				return fmt.Sprintf("%q is not an environment variable name (it names the variable holding the key, not the key)", c.KeyEnv)
			case c.KeyEnv != "" && !c.Enabled:
				return "is set but Enabled is off: user ids would not be tokenized"
			}
			return ""
		},
	}
}

// Validate returns a *FieldError naming the first invalid field. It does not read the key:
// the workers do (see CheckKey).
func (c Config) Validate() error {
	rules := c.Rules()
	for _, f := range Fields {
		if msg := rules[f](); msg != "" {
			return &FieldError{Field: f, Msg: msg}
		}
	}
	return nil
}

// LoadKey reads the key c names. Errors are *FieldError naming the field and the source, never
// the key.
func LoadKey(ctx context.Context, c Config) ([]byte, error) {
	var key []byte
	var field, source string
	switch {
	case c.KeyFile != "":
		field, source = "KeyFile", c.KeyFile
		b, err := readFile(ctx, c.KeyFile)
		if err != nil {
			return nil, &FieldError{Field: field, Msg: "reading the key: " + err.Error(), Err: err}
		}
		key = b
	case c.KeyEnv != "":
		field, source = "KeyEnv", "$"+c.KeyEnv
		v, ok := os.LookupEnv(c.KeyEnv)
		if !ok {
			return nil, &FieldError{Field: field, Msg: fmt.Sprintf("environment variable %s is not set", c.KeyEnv)}
		}
		key = []byte(v)
	default:
		return nil, &FieldError{Field: "Enabled", Msg: "needs a key: set KeyFile or KeyEnv"}
	}
	key = bytes.TrimSpace(key)
	if len(key) < MinKeyBytes {
		return nil, &FieldError{Field: field, Msg: fmt.Sprintf("the key in %s is %d bytes, need at least %d (for example: openssl rand -base64 48)",
			source, len(key), MinKeyBytes)}
	}
	return key, nil
}

// CheckKey loads the key as the workers will, so a launcher can fail before the job starts
// when the key is readable from where it runs (a local run; a gs:// file).
func CheckKey(ctx context.Context, c Config) error {
	if !c.Enabled {
		return nil
	}
	_, err := LoadKey(ctx, c)
	return err
}

func readFile(ctx context.Context, path string) ([]byte, error) {
	fs, err := filesystem.New(ctx, path)
	if err != nil {
		return nil, err
	}
	defer fs.Close()
	f, err := fs.OpenRead(ctx, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// Tokenizer computes tokens with one key. It is not safe for concurrent use.
type Tokenizer struct {
	mac hash.Hash
	sum []byte
	buf []byte
}

// NewTokenizer returns a Tokenizer for key, which must be at least MinKeyBytes long.
func NewTokenizer(key []byte) (*Tokenizer, error) {
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("privacy: key is %d bytes, need at least %d", len(key), MinKeyBytes)
	}
	return &Tokenizer{mac: hmac.New(sha256.New, key)}, nil
}

// Token returns the token of userID.
func (t *Tokenizer) Token(userID string) string {
	t.mac.Reset()
	io.WriteString(t.mac, userID)
	t.sum = t.mac.Sum(t.sum[:0])
	t.buf = append(t.buf[:0], TokenPrefix...)
	t.buf = base64.RawURLEncoding.AppendEncode(t.buf, t.sum)
	return string(t.buf)
}

// Tokenize replaces every event's user_id by its token when cfg.Enabled, and returns events
// unchanged otherwise. The workers load the key in Setup; a missing or short key fails the
// bundle with an error naming the field. It panics on an invalid cfg, as Beam's own transforms
// do at construction; call Validate first to report it.
//
// Tokenize: PCollection<schemas.Event> -> PCollection<schemas.Event>
func Tokenize(s beam.Scope, events beam.PCollection, cfg Config) beam.PCollection {
	s = s.Scope("privacy.Tokenize")
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("privacy.Tokenize: %v", err))
	}
	if !cfg.Enabled {
		return events
	}
	return beam.ParDo(s, &tokenizeFn{KeyFile: cfg.KeyFile, KeyEnv: cfg.KeyEnv}, events)
}

// tokenizeFn carries where the key is, never the key: a DoFn's fields are serialized into the
// job graph.
type tokenizeFn struct {
	KeyFile string
	KeyEnv  string

	tok     *Tokenizer
	in, out telemetry.Counter
}

func (fn *tokenizeFn) Setup(ctx context.Context) error {
	key, err := LoadKey(ctx, Config{Enabled: true, KeyFile: fn.KeyFile, KeyEnv: fn.KeyEnv})
	if err != nil {
		return fmt.Errorf("privacy: %w", err)
	}
	if fn.tok, err = NewTokenizer(key); err != nil {
		return err
	}
	fn.in = telemetry.NewCounter("privacy.in")
	fn.out = telemetry.NewCounter("privacy.out")
	return nil
}

func (fn *tokenizeFn) ProcessElement(ctx context.Context, e schemas.Event) schemas.Event {
	fn.in.Inc(ctx, 1)
	e.UserID = fn.tok.Token(e.UserID)
	fn.out.Inc(ctx, 1)
	return e
}
