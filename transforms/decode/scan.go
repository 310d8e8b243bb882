package decode

import (
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth is encoding/json's nesting limit: json.Valid rejects anything deeper, and so do we,
// which also bounds the recursion of skip.
const maxDepth = 10000

// scanner is a strict JSON reader over one payload. Every method leaves i just past what it
// read and reports a syntax error (reason invalid_json) for anything RFC 8259 does not allow,
// plus invalid UTF-8 and unpaired surrogate escapes, which BigQuery could not store anyway.
type scanner struct {
	s string // the payload; strings without escapes are returned as substrings of it
	i int
}

// plain marks the string bytes that need no attention: printable ASCII except '"' and '\'.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// SWAR constants: a 1 and a high bit in each byte of a word.
const lsb, msb = 0x0101010101010101, 0x8080808080808080

func (p *scanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// unexpected is the syntax error for whatever is at i.
func (p *scanner) unexpected(context string) *Error {
	if p.i >= len(p.s) {
		return syntaxError(p.i, "unexpected end of input %s", context)
	}
	return syntaxError(p.i, "unexpected %s %s", describeByte(p.s[p.i]), context)
}

// open consumes the '{' at i and any whitespace, and reports whether the object is empty (its
// '}' consumed too).
func (p *scanner) open() (empty bool) {
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return true
	}
	return false
}

// key reads `"key" :` and the whitespace after it. It returns the decoded key and its raw,
// quoted text.
func (p *scanner) key() (key, raw string, err *Error) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", "", p.unexpected("where an object key was expected")
	}
	start := p.i
	if key, err = p.str(true); err != nil {
		return "", "", err
	}
	raw = p.s[start:p.i]
	p.ws()
	if p.i >= len(p.s) || p.s[p.i] != ':' {
		return "", "", p.unexpected("after an object key")
	}
	p.i++
	p.ws()
	return key, raw, nil
}

// next consumes the whitespace and ',' or '}' after a member and reports whether another
// member follows.
func (p *scanner) next() (more bool, err *Error) {
	p.ws()
	if p.i < len(p.s) {
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
			return true, nil
		case '}':
			p.i++
			return false, nil
		}
	}
	return false, p.unexpected("after an object member")
}

// str reads the string starting at i (a '"'). With decode it returns the value, a substring of
// the payload when there are no escapes; without, it only validates.
func (p *scanner) str(decode bool) (string, *Error) {
	s := p.s
	start := p.i + 1
	j := start
	for j < len(s) {
		// Eight bytes at a time while none is special: '"', '\\', below 0x20 or from 0x80.
		for j+8 <= len(s) {
			b := s[j : j+8]
			x := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
				uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56 // one load
			q, bs := x^(lsb*'"'), x^(lsb*'\\')
			// Borrows only run upwards, so the lowest flag marks the first special byte.
			if m := ((q-lsb)&^q | (bs-lsb)&^bs | (x - lsb*0x20) | x) & msb; m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				break
			}
			j += 8
		}
		for j < len(s) && plain[s[j]] {
			j++
		}
		if j >= len(s) {
			break
		}
		switch c := s[j]; {
		case c == '"':
			p.i = j + 1
			return s[start:j], nil
		case c == '\\':
			return p.escaped(start, j, decode)
		default:
			size, err := otherRune(s, j)
			if err != nil {
				return "", err
			}
			j += size
		}
	}
	return "", syntaxError(len(s), "unterminated string")
}

// escaped finishes str from the first backslash at j; s[start:j] has been checked already.
func (p *scanner) escaped(start, j int, decode bool) (string, *Error) {
	s := p.s
	var b strings.Builder
	if decode {
		b.Grow(j - start + 16)
		b.WriteString(s[start:j])
	}
	for j < len(s) {
		run := j
		for j < len(s) && plain[s[j]] {
			j++
		}
		if decode {
			b.WriteString(s[run:j])
		}
		if j >= len(s) {
			break
		}
		c := s[j]
		switch {
		case c == '"':
			p.i = j + 1
			return b.String(), nil
		case c == '\\':
			if j+1 >= len(s) {
				return "", syntaxError(len(s), "unterminated string")
			}
			var r rune
			switch e := s[j+1]; e {
			case '"', '\\', '/':
				r = rune(e)
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				var err *Error
				if r, j, err = unicodeEscape(s, j); err != nil {
					return "", err
				}
				if decode {
					b.WriteRune(r)
				}
				continue
			default:
				return "", syntaxError(j, "invalid escape %s", describeByte(e))
			}
			if decode {
				b.WriteByte(byte(r))
			}
			j += 2
		default:
			size, err := otherRune(s, j)
			if err != nil {
				return "", err
			}
			if decode {
				b.WriteString(s[j : j+size])
			}
			j += size
		}
	}
	return "", syntaxError(len(s), "unterminated string")
}

// otherRune checks the special byte at j of a string that is neither a quote nor a backslash:
// a control character is an error, anything else starts a rune, whose length it returns.
func otherRune(s string, j int) (int, *Error) {
	if c := s[j]; c < 0x20 {
		return 0, syntaxError(j, "control character %s in a string", describeByte(c))
	}
	r, size := utf8.DecodeRuneInString(s[j:])
	if r == utf8.RuneError && size == 1 {
		return 0, syntaxError(j, "invalid UTF-8 in a string")
	}
	return size, nil
}

// unicodeEscape reads the \uXXXX at j, and the low surrogate that must follow a high one. It
// returns the rune and the index after the escape(s).
func unicodeEscape(s string, j int) (rune, int, *Error) {
	r, ok := hex4(s, j+2)
	if !ok {
		return 0, 0, syntaxError(j, `invalid \u escape`)
	}
	if !utf16.IsSurrogate(r) {
		return r, j + 6, nil
	}
	if r < 0xdc00 { // high surrogate: a low one must follow
		if j+12 <= len(s) && s[j+6] == '\\' && s[j+7] == 'u' {
			if lo, ok := hex4(s, j+8); ok && lo >= 0xdc00 && lo <= 0xdfff {
				return utf16.DecodeRune(r, lo), j + 12, nil
			}
		}
	}
	return 0, 0, syntaxError(j, `unpaired surrogate \u%04x`, r)
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number reads a number per the JSON grammar, -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?, and returns
// its text.
func (p *scanner) number() (string, *Error) {
	s, start := p.s, p.i
	j := start
	if j < len(s) && s[j] == '-' {
		j++
	}
	switch {
	case j < len(s) && s[j] == '0':
		j++
	case j < len(s) && s[j] >= '1' && s[j] <= '9':
		j = digits(s, j)
	default:
		p.i = j
		return "", p.unexpected("in a number")
	}
	if j < len(s) && s[j] == '.' {
		f := j + 1
		if j = digits(s, f); j == f {
			p.i = j
			return "", p.unexpected("in a number: a digit must follow the decimal point")
		}
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		j++
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		e := j
		if j = digits(s, j); j == e {
			p.i = j
			return "", p.unexpected("in a number: the exponent has no digits")
		}
	}
	p.i = j
	return s[start:j], nil
}

func digits(s string, j int) int {
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return j
}

// literal reads true, false or null.
func (p *scanner) literal(lit string) *Error {
	if !strings.HasPrefix(p.s[p.i:], lit) {
		return p.unexpected("where a value was expected")
	}
	p.i += len(lit)
	return nil
}

// skip validates and steps over one value at i; depth is the nesting depth of its container.
func (p *scanner) skip(depth int) *Error {
	if p.i >= len(p.s) {
		return p.unexpected("where a value was expected")
	}
	switch c := p.s[p.i]; c {
	case '"':
		_, err := p.str(false)
		return err
	case '{':
		return p.skipObject(depth + 1)
	case '[':
		return p.skipArray(depth + 1)
	case 't':
		return p.literal("true")
	case 'f':
		return p.literal("false")
	case 'n':
		return p.literal("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		_, err := p.number()
		return err
	}
	return p.unexpected("where a value was expected")
}

func (p *scanner) skipObject(depth int) *Error {
	if depth > maxDepth {
		return syntaxError(p.i, "nested deeper than %d levels", maxDepth)
	}
	if p.open() {
		return nil
	}
	for more := true; more; {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return p.unexpected("where an object key was expected")
		}
		if _, err := p.str(false); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return p.unexpected("after an object key")
		}
		p.i++
		p.ws()
		if err := p.skip(depth); err != nil {
			return err
		}
		var err *Error
		if more, err = p.next(); err != nil {
			return err
		}
	}
	return nil
}

func (p *scanner) skipArray(depth int) *Error {
	if depth > maxDepth {
		return syntaxError(p.i, "nested deeper than %d levels", maxDepth)
	}
	p.i++
	p.ws()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		if err := p.skip(depth); err != nil {
			return err
		}
		p.ws()
		if p.i >= len(p.s) {
			return p.unexpected("in an array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
			p.ws()
		case ']':
			p.i++
			return nil
		default:
			return p.unexpected("after an array element")
		}
	}
}

// appendCompact appends the valid JSON value v without insignificant whitespace.
func appendCompact(dst []byte, v string) []byte {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case ' ', '\t', '\n', '\r':
		case '"':
			j := i + 1
			for ; v[j] != '"'; j++ {
				if v[j] == '\\' {
					j++ // the escaped byte cannot end the string
				}
			}
			dst = append(dst, v[i:j+1]...)
			i = j
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
