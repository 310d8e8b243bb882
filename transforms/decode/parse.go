package decode

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/tributary-dev/tributary/schemas"
	"github.com/tributary-dev/tributary/transforms/deadletter"
)

// MaxPayload is the largest payload Parse reads (1 MiB); larger ones are dead letters with reason
// too_large.
const MaxPayload = 1 << 20

const maxEventIDLen = 128 // characters (code points), as JSON Schema's maxLength counts

// Bits of the known top-level fields, to find duplicates and missing required fields.
const (
	fEventID uint16 = 1 << iota
	fEventType
	fEventTime
	fUserID
	fSessionHint
	fProductID
	fQuantity
	fAmount
	fCurrency
	fDevice
	fAttributes
	fSchemaVersion
)

// inlineMembers is how many unknown fields, and attributes, Parse tracks without allocating;
// past that it indexes their keys in a map so that duplicate detection stays linear on hostile
// payloads.
const inlineMembers = 8

// member is an unknown top-level field (kept for Event.Extra) or an attribute.
type member struct {
	key   string // decoded
	raw   string // unknown fields: the key as written, quotes included
	value string // unknown fields: the value as written; attributes: the decoded value
}

// addMember appends m to list and reports whether its key was already there. index holds every
// key once list outgrows inlineMembers. (Functions on slices, not methods on a pointer, keep the
// inline arrays on the stack.)
func addMember(list []member, m member, index *map[string]struct{}) ([]member, bool) {
	if *index == nil && len(list) >= inlineMembers {
		*index = make(map[string]struct{}, 2*len(list))
		for _, e := range list {
			(*index)[e.key] = struct{}{}
		}
	}
	if *index != nil {
		if _, dup := (*index)[m.key]; dup {
			return list, true
		}
		(*index)[m.key] = struct{}{}
		return append(list, m), false
	}
	for _, e := range list {
		if e.key == m.key {
			return list, true
		}
	}
	return append(list, m), false
}

// parser reads one payload. The first schema violation is kept in schemaErr while reading goes
// on, because a syntax error anywhere must win: invalid_json means "not JSON" for the whole
// payload.
type parser struct {
	scanner
	data      []byte // the payload as bytes, for schemas.ParseDecimalBytes
	have      uint16 // the known fields read with a valid, non-null value
	schemaErr *Error
}

func (p *parser) fail(e *Error) {
	if p.schemaErr == nil {
		p.schemaErr = e
	}
}

// Parse decodes and validates one message against the envelope of its schema_version, v1 (the
// default) or v2. On failure the error is an
// *Error whose Reason is the dead-letter reason. msg.Data must not change during the call;
// neither result shares memory with it.
func Parse(msg schemas.Message) (schemas.Event, error) {
	if len(msg.Data) > MaxPayload {
		return schemas.Event{}, &Error{Reason: deadletter.ReasonTooLarge,
			Msg: fmt.Sprintf("payload is %d bytes, over the %d-byte limit", len(msg.Data), MaxPayload)}
	}
	// The scanner reads a string view of the payload without copying it, so values without
	// escapes are substrings of msg.Data until detach copies them, all into one allocation.
	// Copying the whole payload instead would allocate and collect about twice the bytes.
	p := parser{scanner: scanner{s: unsafe.String(unsafe.SliceData(msg.Data), len(msg.Data))}, data: msg.Data}
	ev, err := p.event()
	if err != nil {
		return schemas.Event{}, err
	}
	ev.MessageID, ev.PublishTime = msg.MessageID, msg.PublishTime
	return ev, nil
}

// event reads the top-level object. It returns error, not *Error, so that a nil result is a nil
// interface.
func (p *parser) event() (schemas.Event, error) {
	var ev schemas.Event
	p.ws()
	if p.i >= len(p.s) {
		return ev, syntaxError(p.i, "empty payload")
	}
	if p.s[p.i] != '{' {
		return ev, syntaxError(p.i, "the payload is not a JSON object (it starts with %s)", describeByte(p.s[p.i]))
	}
	var (
		seen                      uint16
		inlineExtras, inlineAttrs [inlineMembers]member
		extras                    = inlineExtras[:0]
		attrs                     = inlineAttrs[:0]
		extraKeys, attrKeys       map[string]struct{}
	)
	for more := !p.open(); more; {
		key, rawKey, err := p.key()
		if err != nil {
			return ev, err
		}
		bit, name := knownField(key)
		switch {
		case bit == 0:
			start := p.i
			if err := p.skip(1); err != nil {
				return ev, err
			}
			var dup bool
			if extras, dup = addMember(extras, member{key: key, raw: rawKey, value: p.s[start:p.i]}, &extraKeys); dup {
				p.fail(schemaError(fieldName(key), "duplicate key"))
			}
		case seen&bit != 0:
			p.fail(schemaError(name, "duplicate key"))
			if err := p.skip(1); err != nil {
				return ev, err
			}
		case bit == fAttributes:
			seen |= bit
			if p.objectOrNull(name) {
				attrs, err = p.attributes(attrs, &attrKeys)
			} else {
				err = p.skipped()
			}
			if err != nil {
				return ev, err
			}
		default:
			seen |= bit
			if err := p.field(bit, name, &ev); err != nil {
				return ev, err
			}
		}
		if more, err = p.next(); err != nil {
			return ev, err
		}
	}
	p.ws()
	if p.i < len(p.s) {
		return ev, p.unexpected("after the top-level object")
	}
	if ev.SchemaVersion == schemas.SchemaV2 && len(extras) > 0 {
		extras = p.v2Fields(&ev, extras)
	}
	if p.schemaErr != nil {
		return ev, p.schemaErr
	}
	if err := checkRequired(p.have, ev.EventType); err != nil {
		return ev, err
	}
	if ev.Currency == "" {
		ev.Currency = "USD"
	}
	if ev.SchemaVersion == 0 {
		ev.SchemaVersion = 1
	}
	if len(extras) > 0 {
		ev.Extra = compactObject(extras)
	}
	p.detach(&ev, attrs)
	return ev, nil
}

// knownField returns the bit and the name of a top-level field of the envelope, or 0.
func knownField(key string) (uint16, string) {
	switch key {
	case "event_id":
		return fEventID, "event_id"
	case "event_type":
		return fEventType, "event_type"
	case "event_time":
		return fEventTime, "event_time"
	case "user_id":
		return fUserID, "user_id"
	case "session_hint":
		return fSessionHint, "session_hint"
	case "product_id":
		return fProductID, "product_id"
	case "quantity":
		return fQuantity, "quantity"
	case "amount":
		return fAmount, "amount"
	case "currency":
		return fCurrency, "currency"
	case "device":
		return fDevice, "device"
	case "attributes":
		return fAttributes, "attributes"
	case "schema_version":
		return fSchemaVersion, "schema_version"
	}
	return 0, ""
}

// detach gives the event its own copy of the strings that are still views of the payload, in
// one allocation, and builds the attributes map from attrs.
func (p *parser) detach(ev *schemas.Event, attrs []member) {
	fields := [...]*string{&ev.EventID, &ev.UserID, &ev.SessionHint, &ev.ProductID, &ev.Currency, &ev.Device.OS, &ev.Device.Country}
	n := 0
	for _, f := range fields {
		n += p.viewLen(*f)
	}
	for _, a := range attrs {
		n += p.viewLen(a.key) + p.viewLen(a.value)
	}
	var buf []byte
	if n > 0 {
		buf = make([]byte, n)
	}
	off := 0
	for _, f := range fields {
		*f = p.own(*f, buf, &off)
	}
	if len(attrs) > 0 {
		m := make(map[string]string, len(attrs))
		for _, a := range attrs {
			m[p.own(a.key, buf, &off)] = p.own(a.value, buf, &off)
		}
		ev.Attributes = m
	}
}

// own returns v's copy in buf at *off if v is a view of the payload, else v. Each part of buf
// is written once, before the string over it is made, so the strings never change.
func (p *parser) own(v string, buf []byte, off *int) string {
	n := p.viewLen(v)
	if n == 0 {
		if v == "" {
			return "" // not a zero-length view, which would keep the payload alive
		}
		return v
	}
	c := buf[*off : *off+n]
	copy(c, v)
	*off += n
	return unsafe.String(&c[0], n)
}

// viewLen is the length of v if it is a view of the payload, else 0.
func (p *parser) viewLen(v string) int {
	if len(v) == 0 || len(p.s) == 0 {
		return 0
	}
	base := uintptr(unsafe.Pointer(unsafe.StringData(p.s)))
	ptr := uintptr(unsafe.Pointer(unsafe.StringData(v)))
	if ptr < base || ptr >= base+uintptr(len(p.s)) {
		return 0
	}
	return len(v)
}

// checkRequired reports the first missing required field, once all are read. A field that was
// null is absent, so it is reported as missing here.
func checkRequired(have uint16, eventType string) *Error {
	switch {
	case have&fEventID == 0:
		return schemaError("event_id", "required")
	case have&fEventType == 0:
		return schemaError("event_type", "required")
	case have&fEventTime == 0:
		return schemaError("event_time", "required")
	case have&fUserID == 0:
		return schemaError("user_id", "required")
	case have&fProductID == 0 && eventType != schemas.PageView:
		return schemaError("product_id", "required for %s events", eventType)
	case have&fAmount == 0 && (eventType == schemas.Purchase || eventType == schemas.Refund):
		return schemaError("amount", "required for %s events", eventType)
	}
	return nil
}

// field reads the value of a known field into ev.
func (p *parser) field(bit uint16, name string, ev *schemas.Event) *Error {
	switch bit {
	case fEventID:
		v, ok, err := p.stringValue(name, true)
		switch {
		case err != nil || !ok:
			return err
		case v == "":
			p.fail(schemaError(name, "must not be empty"))
		case len(v) > maxEventIDLen && utf8.RuneCountInString(v) > maxEventIDLen:
			p.fail(schemaError(name, "is %d characters long, over the limit of %d", utf8.RuneCountInString(v), maxEventIDLen))
		default:
			ev.EventID = v
			p.have |= bit
		}
	case fEventType:
		v, ok, err := p.stringValue(name, true)
		if err != nil || !ok {
			return err
		}
		// The constants, not v, which may be a view of the payload: they need no copy.
		switch v {
		case schemas.PageView:
			ev.EventType = schemas.PageView
		case schemas.AddToCart:
			ev.EventType = schemas.AddToCart
		case schemas.Purchase:
			ev.EventType = schemas.Purchase
		case schemas.Refund:
			ev.EventType = schemas.Refund
		default:
			p.fail(schemaError(name, "%s is not one of page_view, add_to_cart, purchase, refund", quote(v)))
			return nil
		}
		p.have |= bit
	case fEventTime:
		v, ok, err := p.stringValue(name, true)
		if err != nil || !ok {
			return err
		}
		t, valid := parseEventTime(v)
		if !valid {
			p.fail(schemaError(name, "%s is not an RFC 3339 time with a zone offset in years 0001-9999 (like 2024-05-01T12:00:00Z)", quote(v)))
			return nil
		}
		if !inEventTimeRange(t) {
			p.fail(eventTimeRangeError(name, v))
			return nil
		}
		ev.EventTime = t
		p.have |= bit
	case fUserID:
		v, ok, err := p.stringValue(name, true)
		switch {
		case err != nil || !ok:
			return err
		case v == "":
			p.fail(schemaError(name, "must not be empty"))
		default:
			ev.UserID = v
			p.have |= bit
		}
	case fSessionHint:
		v, _, err := p.stringValue(name, false)
		ev.SessionHint = v
		return err
	case fProductID:
		v, ok, err := p.stringValue(name, false)
		switch {
		case err != nil || !ok:
			return err
		case v == "":
			p.fail(schemaError(name, "must not be empty"))
		default:
			ev.ProductID = v
			p.have |= bit
		}
	case fQuantity:
		v, ok, err := p.numberValue(name)
		if err != nil || !ok {
			return err
		}
		q, msg := nonNegativeInt(v)
		if msg != "" {
			p.fail(schemaError(name, "%s %s", clip(v), msg))
			return nil
		}
		ev.Quantity = q
	case fAmount:
		start := p.i
		v, ok, err := p.numberValue(name)
		if err != nil || !ok {
			return err
		}
		if v[0] == '-' && !isZero(v) {
			p.fail(schemaError(name, "%s must be ≥ 0", clip(v)))
			return nil
		}
		// The bytes, not v: ParseDecimal would copy v to a []byte.
		d, derr := schemas.ParseDecimalBytes(p.data[start:p.i])
		if errors.Is(derr, schemas.ErrDecimalRange) {
			p.fail(&Error{Reason: deadletter.ReasonAmountOutOfRange, Field: name,
				Msg: fmt.Sprintf("%s is above %s, the per-event limit", clip(v), schemas.MaxDecimal)})
			return nil
		}
		if derr != nil {
			p.fail(schemaError(name, "%s is not an exact decimal: %v", quote(v), derr))
			return nil
		}
		ev.Amount = d
		p.have |= bit
	case fCurrency:
		v, ok, err := p.stringValue(name, false)
		if err != nil || !ok {
			return err
		}
		if len(v) != 3 || !isUpper(v[0]) || !isUpper(v[1]) || !isUpper(v[2]) {
			p.fail(schemaError(name, "%s is not an ISO 4217 code (3 upper-case letters)", quote(v)))
			return nil
		}
		ev.Currency = v
	case fDevice:
		if p.objectOrNull(name) {
			return p.device(ev)
		}
		return p.skipped()
	case fSchemaVersion:
		v, ok, err := p.numberValue(name)
		if err != nil || !ok {
			return err
		}
		n, msg := nonNegativeInt(v)
		switch {
		case msg != "":
			p.fail(schemaError(name, "%s %s", clip(v), msg))
		case n != schemas.SchemaV1 && n != schemas.SchemaV2:
			p.fail(schemaError(name, "version %d is not supported (only 1 and 2 are)", n))
		default:
			ev.SchemaVersion = n
		}
	}
	return nil
}

// v2Fields reads the fields envelope v2 adds out of the unknown fields, where the single pass
// put them before it knew the version (schema_version may come last), and returns the
// unknown fields without them. In a v1 event they stay unknown fields, as they always were.
// Only a v2 payload with unknown fields pays for this.
func (p *parser) v2Fields(ev *schemas.Event, extras []member) []member {
	kept := extras[:0]
	for _, m := range extras {
		switch m.key {
		case "discount":
			p.discount(ev, m.value)
		case "channel":
			p.channel(ev, m.value)
		default:
			kept = append(kept, m)
		}
	}
	return kept
}

// discount reads v2's discount, as written (v): a number ≥ 0 within the per-event limit, or null.
func (p *parser) discount(ev *schemas.Event, v string) {
	const name = "discount"
	switch {
	case v == "null":
		return
	case v[0] != '-' && (v[0] < '0' || v[0] > '9'):
		p.fail(schemaError(name, "must be a number, got %s", describe(v[0])))
		return
	case v[0] == '-' && !isZero(v):
		p.fail(schemaError(name, "%s must be ≥ 0", clip(v)))
		return
	}
	d, err := schemas.ParseDecimal(v)
	if errors.Is(err, schemas.ErrDecimalRange) {
		p.fail(&Error{Reason: deadletter.ReasonAmountOutOfRange, Field: name,
			Msg: fmt.Sprintf("%s is above %s, the per-event limit", clip(v), schemas.MaxDecimal)})
		return
	}
	if err != nil {
		p.fail(schemaError(name, "%s is not an exact decimal: %v", quote(v), err))
		return
	}
	ev.Discount = d
}

// channel reads v2's channel, as written (v): one of the Channel constants, or null.
func (p *parser) channel(ev *schemas.Event, v string) {
	const name = "channel"
	if v == "null" {
		return
	}
	if v[0] != '"' {
		p.fail(schemaError(name, "must be a string, got %s", describe(v[0])))
		return
	}
	sc := scanner{s: v}
	c, err := sc.str(true)
	if err != nil {
		p.fail(err) // not reached: the value was scanned once already
		return
	}
	for _, k := range [...]string{schemas.ChannelWeb, schemas.ChannelApp, schemas.ChannelStore, schemas.ChannelMarketplace} {
		if c == k {
			ev.Channel = k // the constant, not c, which may be a view of the payload
			return
		}
	}
	p.fail(schemaError(name, "%s is not one of web, app, store, marketplace", quote(c)))
}

// stringValue reads a value that must be a string. ok is false (and the value skipped) when it
// is null, an error only if required, or of another type, always a schema error.
func (p *parser) stringValue(name string, required bool) (v string, ok bool, err *Error) {
	if p.i < len(p.s) && p.s[p.i] == '"' {
		v, err = p.str(true)
		return v, err == nil, err
	}
	p.typeMismatch(name, "a string", required)
	return "", false, p.skipped()
}

// numberValue reads a value that must be a number (or null) and returns its text.
func (p *parser) numberValue(name string) (v string, ok bool, err *Error) {
	if p.i < len(p.s) && (p.s[p.i] == '-' || p.s[p.i] >= '0' && p.s[p.i] <= '9') {
		v, err = p.number()
		return v, err == nil, err
	}
	p.typeMismatch(name, "a number", false)
	return "", false, p.skipped()
}

// objectOrNull reports whether an object starts at i; anything else but null is a schema error.
func (p *parser) objectOrNull(name string) bool {
	if p.i < len(p.s) && p.s[p.i] == '{' {
		return true
	}
	p.typeMismatch(name, "an object", false)
	return false
}

// typeMismatch records the schema error for a value of the wrong type at i. Null is absent,
// which is an error only for required fields.
func (p *parser) typeMismatch(name, want string, required bool) {
	if p.i >= len(p.s) {
		return // skipped reports the syntax error
	}
	if got := describe(p.s[p.i]); got != "null" || required {
		p.fail(schemaError(name, "must be %s, got %s", want, got))
	}
}

// skipped steps over a value that typeMismatch judged.
func (p *parser) skipped() *Error { return p.skip(1) }

// device reads the device object: os and country are kept, other keys validated and ignored.
func (p *parser) device(ev *schemas.Event) *Error {
	var seen uint8
	for more := !p.open(); more; {
		key, _, err := p.key()
		if err != nil {
			return err
		}
		var dst *string
		var bit uint8
		var field string
		switch key {
		case "os":
			dst, bit, field = &ev.Device.OS, 1, "device.os"
		case "country":
			dst, bit, field = &ev.Device.Country, 2, "device.country"
		}
		switch {
		case dst == nil:
			if err := p.skip(2); err != nil {
				return err
			}
		case seen&bit != 0:
			p.fail(schemaError(field, "duplicate key"))
			if err := p.skip(2); err != nil {
				return err
			}
		default:
			seen |= bit
			if *dst, _, err = p.stringValue(field, false); err != nil {
				return err
			}
		}
		if more, err = p.next(); err != nil {
			return err
		}
	}
	return nil
}

// attributes reads the attributes object of string values, appending them to attrs.
func (p *parser) attributes(attrs []member, index *map[string]struct{}) ([]member, *Error) {
	for more := !p.open(); more; {
		key, _, err := p.key()
		if err != nil {
			return attrs, err
		}
		if p.i < len(p.s) && p.s[p.i] == '"' {
			v, err := p.str(true)
			if err != nil {
				return attrs, err
			}
			var dup bool
			if attrs, dup = addMember(attrs, member{key: key, value: v}, index); dup {
				p.fail(schemaError("attributes", "duplicate key %s", quote(key)))
			}
		} else {
			if p.i < len(p.s) {
				p.fail(schemaError("attributes", "the value of %s must be a string, got %s", quote(key), describe(p.s[p.i])))
			}
			if err := p.skip(2); err != nil {
				return attrs, err
			}
		}
		if more, err = p.next(); err != nil {
			return attrs, err
		}
	}
	return attrs, nil
}

// nonNegativeInt converts the text of a JSON number to an int64 ≥ 0. The message says what is
// wrong with it, or is empty.
func nonNegativeInt(v string) (int64, string) {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '.' || c == 'e' || c == 'E' {
			return 0, "is not an integer"
		}
	}
	if v[0] == '-' {
		if v == "-0" {
			return 0, ""
		}
		return 0, "must be ≥ 0"
	}
	var n int64
	for i := 0; i < len(v); i++ { // the scanner let only digits through
		d := int64(v[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, "is out of range"
		}
		n = n*10 + d
	}
	return n, ""
}

// isZero reports whether the text of a JSON number is a zero, such as -0 or -0.0e5.
func isZero(v string) bool {
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == 'e' || c == 'E':
			return true
		case c >= '1' && c <= '9':
			return false
		}
	}
	return true
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// fieldName is key as an error's Field: a copy when it looks like a field name, else quoted.
func fieldName(key string) string {
	if key == "" || len(key) > maxQuoted {
		return quote(key)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return quote(key)
		}
	}
	return strings.Clone(key) // key may be a view of the payload
}

// clip cuts v to maxQuoted bytes for an error message.
func clip(v string) string {
	if len(v) <= maxQuoted {
		return v
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return v[:cut] + "…"
}

// compactObject renders the unknown fields as a compact JSON object, in payload order.
func compactObject(extras []member) []byte {
	n := 1
	for _, e := range extras {
		n += len(e.raw) + len(e.value) + 2
	}
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, e := range extras {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.raw...)
		b = append(b, ':')
		b = appendCompact(b, e.value)
	}
	return append(b, '}')
}
