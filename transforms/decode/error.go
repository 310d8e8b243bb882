package decode

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/tributary-dev/tributary/transforms/deadletter"
)

// Error is why Parse rejected a message. Reason is the dead-letter reason
// (deadletter.ReasonTooLarge, ReasonInvalidJSON or ReasonInvalidSchema), Field the payload field
// at fault ("" when the payload as a whole is) and Msg the details.
type Error struct {
	Reason string
	Field  string
	Msg    string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func syntaxError(offset int, format string, args ...any) *Error {
	return &Error{Reason: deadletter.ReasonInvalidJSON, Msg: fmt.Sprintf("invalid JSON at byte %d: ", offset) + fmt.Sprintf(format, args...)}
}

func schemaError(field, format string, args ...any) *Error {
	return &Error{Reason: deadletter.ReasonInvalidSchema, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// maxQuoted bounds how much of a payload value an error message repeats: dead letters already
// carry the whole payload.
const maxQuoted = 64

// quote returns v quoted for an error message, cut to maxQuoted bytes.
func quote(v string) string {
	if len(v) <= maxQuoted {
		return strconv.Quote(v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return strconv.Quote(v[:cut]) + "…"
}

// describe names the first byte of a value for "got …" messages.
func describe(c byte) string {
	switch c {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// describeByte names an unexpected byte in a syntax error.
func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
