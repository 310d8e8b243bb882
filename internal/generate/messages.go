// Package generate produces synthetic commerce events in the v1 envelope (see schemas) and
// publishes them to Pub/Sub. The sequence is a pure function of the Config, so a test can
// regenerate exactly what a run published.
package generate

import (
	"bytes"
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"
)

// Kind says what a generated message is meant to exercise in the pipeline.
type Kind uint8

const (
	Valid     Kind = iota // a well-formed, on-time event
	Malformed             // a dead letter: not JSON, truncated, failing the schema or too large
	Duplicate             // an earlier Valid message again, byte for byte (a redelivery)
	Late                  // a valid event whose payload time trails the timestamp attribute by LateBy
)

func (k Kind) String() string {
	switch k {
	case Valid:
		return "valid"
	case Malformed:
		return "malformed"
	case Duplicate:
		return "duplicate"
	case Late:
		return "late"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one Pub/Sub message to publish. Its Data and Attributes must not be modified: the
// generator keeps recent ones to repeat as duplicates.
type Message struct {
	Data       []byte
	Attributes map[string]string
	Kind       Kind
}

// Messages returns the deterministic sequence cfg describes: message n has event clock
// Start + n×Interval, and Valid and Late events have event_id "e-<seed>-<n>". Each iteration
// starts afresh and yields the same messages. It panics if cfg.Validate fails.
func Messages(cfg Config) iter.Seq[Message] {
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("generate.Messages: %v", err))
	}
	cfg = cfg.withDefaults()
	return func(yield func(Message) bool) {
		g := newGenerator(cfg)
		for n := range cfg.Count {
			if !yield(g.next(n)) {
				return
			}
		}
	}
}

// recentValid is how many recent Valid messages duplicates are drawn from: a redelivery
// repeats something published shortly before, not hours earlier.
const recentValid = 64

type user struct {
	session     uint32 // current session number, bumped now and then
	os, country uint8  // indexes into oses and countries; a user keeps one device
}

type generator struct {
	cfg      Config
	rng      *rand.Rand
	products *rand.Zipf // popularity rank, so trending products stand out
	users    []user
	recent   []Message // ring of the last recentValid Valid messages
	nRecent  int
	buf      []byte // scratch for encoding; each Message gets its own copy
}

func newGenerator(cfg Config) *generator {
	rng := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7472696275746172)) // "tributar"
	g := &generator{
		cfg:    cfg,
		rng:    rng,
		users:  make([]user, cfg.Users),
		recent: make([]Message, 0, recentValid),
		buf:    make([]byte, 0, 512),
	}
	if cfg.Products > 1 {
		g.products = rand.NewZipf(rng, 1.1, 8, uint64(cfg.Products-1))
	}
	for i := range g.users {
		g.users[i] = user{os: uint8(oses.pick(rng)), country: uint8(countries.pick(rng))}
	}
	return g
}

func (g *generator) next(n int64) Message {
	c := &g.cfg
	clock := c.Start.Add(time.Duration(n) * c.Interval)
	ts := formatTime(clock) // once: the payload time and the attribute of a valid event
	u := g.rng.Float64()
	switch {
	case u < c.MalformedFraction:
		return g.malformed(n, ts)
	case u < c.MalformedFraction+c.DuplicateFraction:
		if len(g.recent) > 0 {
			m := g.recent[g.rng.IntN(len(g.recent))]
			return Message{Data: bytes.Clone(m.Data), Attributes: maps.Clone(m.Attributes), Kind: Duplicate}
		}
		// Nothing to repeat yet: a valid event instead.
	case u < c.MalformedFraction+c.DuplicateFraction+c.LateFraction:
		e := g.event(n, formatTime(clock.Add(-c.LateBy)))
		return Message{Data: g.encode(&e, "", ""), Attributes: g.attributes(ts), Kind: Late}
	}
	e := g.event(n, ts)
	m := Message{Data: g.encode(&e, "", ""), Attributes: g.attributes(ts), Kind: Valid}
	g.remember(m)
	return m
}

func (g *generator) remember(m Message) {
	if len(g.recent) < recentValid {
		g.recent = append(g.recent, m)
		return
	}
	g.recent[g.nRecent%recentValid] = m
	g.nRecent++
}

func (g *generator) attributes(clock string) map[string]string {
	return map[string]string{g.cfg.TimestampAttribute: clock}
}

// event is one envelope before encoding; product < 0 means none.
type event struct {
	n          int64
	typ        string
	time       string // RFC 3339, as formatTime writes it
	user       int
	product    int
	quantity   int
	hasAmount  bool
	cents      int64 // the amount in hundredths of currency
	currency   string
	source     string
	campaign   bool
	experiment bool // an unknown top-level field, which decode must keep
}

func (g *generator) event(n int64, t string) event {
	r := g.rng
	e := event{n: n, typ: eventTypes.value(r), time: t, user: r.IntN(len(g.users)), product: -1}
	if r.IntN(20) == 0 {
		g.users[e.user].session++
	}
	if e.typ != "page_view" || r.IntN(100) < 85 { // some page views are not of a product page
		e.product = g.product()
	}
	if e.typ != "page_view" {
		e.quantity = 1 + r.IntN(5)
		e.currency = currencyOf[g.users[e.user].country]
		if r.IntN(200) == 0 {
			e.currency = "XXX" // not in the rate file: conversion must fail visibly
		}
		e.hasAmount = true
		e.cents = convert(unitCents(e.product)*int64(e.quantity), e.currency)
	}
	e.source = "web"
	if os := oses.vals[g.users[e.user].os]; (os == "android" || os == "ios") && r.IntN(10) < 7 {
		e.source = "app"
	}
	e.campaign = r.IntN(10) == 0
	e.experiment = r.IntN(50) == 0
	return e
}

// product returns a catalog index, or about 1% of the time one of the unknown ids
// p-9900..p-9999 so that enrichment misses occur.
func (g *generator) product() int {
	if g.rng.IntN(100) == 0 {
		return 9899 + g.rng.IntN(100)
	}
	if g.products == nil { // a one-product catalog
		return 0
	}
	return int(g.products.Uint64())
}

// unitCents is a stable unit price per product in USD cents, independent of the seed, in the
// range of the reference catalog's list prices (which the generator does not read).
func unitCents(product int) int64 {
	x := uint64(product) + 0x9e3779b97f4a7c15 // splitmix64
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	return 499 + int64(x%9500)
}

// convert turns USD cents into the currency's cents at a fixed, roughly realistic rate.
func convert(usdCents int64, currency string) int64 {
	switch currency {
	case "EUR":
		return usdCents * 92 / 100
	case "GBP":
		return usdCents * 79 / 100
	case "CAD":
		return usdCents * 136 / 100
	case "JPY":
		return usdCents * 150 / 100 * 100 // whole yen
	}
	return usdCents
}

// malformed returns one of the dead-letter cases; a fifth of them lack the timestamp attribute.
func (g *generator) malformed(n int64, clock string) Message {
	r := g.rng
	m := Message{Kind: Malformed}
	if r.IntN(5) != 0 {
		m.Attributes = g.attributes(clock)
	}
	e := g.event(n, clock)
	switch k := r.IntN(100); {
	case g.cfg.Oversized && k < 2:
		m.Data = g.encode(&e, "", padding())
	case k < 20:
		m.Data = fmt.Appendf(nil, notJSON[r.IntN(len(notJSON))], e.n, e.typ)
	case k < 40:
		full := g.encode(&e, "", "")
		m.Data = full[:1+r.IntN(len(full)-1)] // any strict prefix of an object is invalid JSON
	case k < 65:
		required := []string{"event_id", "event_type", "event_time", "user_id"}
		if e.typ != "page_view" {
			required = append(required, "product_id")
		}
		if e.typ == "purchase" || e.typ == "refund" {
			required = append(required, "amount")
		}
		m.Data = g.encode(&e, required[r.IntN(len(required))], "")
	case k < 80:
		e.typ = badEventTypes[r.IntN(len(badEventTypes))]
		m.Data = g.encode(&e, "", "")
	default:
		if !e.hasAmount {
			e.typ, e.product, e.quantity, e.currency = "purchase", g.product(), 1, "USD"
			e.hasAmount, e.cents = true, unitCents(e.product)
		}
		e.cents = -e.cents
		m.Data = g.encode(&e, "", "")
	}
	return m
}

var (
	notJSON = []string{
		"event_id=e-%d&event_type=%s",
		"<event id=\"%d\" type=\"%s\"/>",
		"%d,%s,2026-01-01T00:00:00Z",
	}
	badEventTypes = []string{"checkout", "PURCHASE", "view", ""}
)

// padding makes an otherwise valid event exceed the pipeline's 1 MiB message limit; built once,
// on first use, since most runs never need it.
var padding = sync.OnceValue(func() string { return string(bytes.Repeat([]byte("x"), 1<<20+1024)) })

// encode writes e as JSON into a fresh slice, without the field named omit and with extra (a
// string value) as a trailing "padding" field. Fields come in a fixed order so equal events
// encode to equal bytes; all strings are generated ASCII, so none needs escaping.
func (g *generator) encode(e *event, omit, extra string) []byte {
	o := object{b: append(g.buf[:0], '{')}
	if omit != "event_id" {
		o.key("event_id")
		o.b = append(o.b, `"e-`...)
		o.b = strconv.AppendInt(o.b, g.cfg.Seed, 10)
		o.b = append(o.b, '-')
		o.b = strconv.AppendInt(o.b, e.n, 10)
		o.b = append(o.b, '"')
	}
	if omit != "event_type" {
		o.str("event_type", e.typ)
	}
	if omit != "event_time" {
		o.str("event_time", e.time)
	}
	if omit != "user_id" {
		o.key("user_id")
		o.b = appendID(o.b, "u-", e.user+1)
	}
	o.key("session_hint")
	o.b = append(o.b, `"s-`...)
	o.b = strconv.AppendInt(o.b, g.cfg.Seed, 10)
	o.b = append(o.b, '-')
	o.b = strconv.AppendInt(o.b, int64(e.user+1), 10)
	o.b = append(o.b, '-')
	o.b = strconv.AppendUint(o.b, uint64(g.users[e.user].session), 10)
	o.b = append(o.b, '"')
	if e.product >= 0 && omit != "product_id" {
		o.key("product_id")
		o.b = appendID(o.b, "p-", e.product+1)
	}
	if e.quantity > 0 {
		o.key("quantity")
		o.b = strconv.AppendInt(o.b, int64(e.quantity), 10)
	}
	if e.hasAmount && omit != "amount" {
		o.key("amount")
		o.b = appendCents(o.b, e.cents)
	}
	if e.currency != "" {
		o.str("currency", e.currency)
	}
	u := g.users[e.user]
	o.key("device")
	d := object{b: append(o.b, '{')}
	d.str("os", oses.vals[u.os])
	d.str("country", countries.vals[u.country])
	o.b = append(d.b, '}')
	o.key("attributes")
	a := object{b: append(o.b, '{')}
	a.str("source", e.source)
	if e.campaign {
		a.str("campaign", "spring_sale")
	}
	o.b = append(a.b, '}')
	o.key("schema_version")
	o.b = append(o.b, '1')
	if e.experiment {
		o.str("experiment", "b")
	}
	if extra != "" {
		o.str("padding", extra)
	}
	o.b = append(o.b, '}')
	g.buf = o.b
	return bytes.Clone(o.b)
}

// object appends the members of a JSON object, adding the commas.
type object struct {
	b []byte
	n int
}

func (o *object) key(k string) {
	if o.n > 0 {
		o.b = append(o.b, ',')
	}
	o.n++
	o.b = append(o.b, '"')
	o.b = append(o.b, k...)
	o.b = append(o.b, '"', ':')
}

func (o *object) str(k, v string) {
	o.key(k)
	o.b = append(o.b, '"')
	o.b = append(o.b, v...)
	o.b = append(o.b, '"')
}

// appendID writes "<prefix><n>" as a JSON string with n zero-padded to 4 digits: u-0001.
func appendID(b []byte, prefix string, n int) []byte {
	b = append(b, '"')
	b = append(b, prefix...)
	for p := 1000; p > 1 && n < p; p /= 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '"')
}

// appendCents writes cents as a JSON number with two fraction digits: 1999 → 19.99.
func appendCents(b []byte, cents int64) []byte {
	if cents < 0 {
		b = append(b, '-')
		cents = -cents
	}
	b = strconv.AppendInt(b, cents/100, 10)
	return append(b, '.', byte('0'+cents%100/10), byte('0'+cents%10))
}

// rfc3339Millis is RFC 3339 in UTC with exactly three fraction digits, so payload times and
// the timestamp attribute compare as strings.
const rfc3339Millis = "2006-01-02T15:04:05.000Z07:00"

// formatTime formats t as rfc3339Millis; written out by hand because time.Format was a quarter
// of the generation time.
func formatTime(t time.Time) string {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.Format(rfc3339Millis)
	}
	hour, minute, sec := t.Clock()
	b := make([]byte, 0, len(rfc3339Millis)-5)
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), sec, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond()/1e6, 3)
	return string(append(b, 'Z'))
}

// appendDigits writes v zero-padded to width digits.
func appendDigits(b []byte, v, width int) []byte {
	var d [4]byte
	for i := width - 1; i >= 0; i-- {
		d[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, d[:width]...)
}

// weighted is a discrete distribution over vals.
type weighted[T any] struct {
	vals []T
	cum  []int // cumulative weights
}

func newWeighted[T any](vals []T, weights ...int) weighted[T] {
	w := weighted[T]{vals: vals, cum: make([]int, len(weights))}
	total := 0
	for i, x := range weights {
		total += x
		w.cum[i] = total
	}
	return w
}

func (w weighted[T]) pick(r *rand.Rand) int {
	x := r.IntN(w.cum[len(w.cum)-1])
	for i, c := range w.cum {
		if x < c {
			return i
		}
	}
	panic("unreachable")
}

func (w weighted[T]) value(r *rand.Rand) T { return w.vals[w.pick(r)] }

var (
	eventTypes = newWeighted([]string{"page_view", "add_to_cart", "purchase", "refund"}, 60, 20, 15, 5)
	oses       = newWeighted([]string{"android", "ios", "windows", "macos", "linux"}, 35, 30, 20, 10, 5)
	// Currencies follow the country, so USD dominates.
	countries  = newWeighted([]string{"US", "GB", "DE", "FR", "CA", "JP", "BR", "IN"}, 50, 10, 8, 6, 8, 6, 6, 6)
	currencyOf = []string{"USD", "GBP", "EUR", "EUR", "CAD", "JPY", "USD", "USD"}
)
