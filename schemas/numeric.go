package schemas

import (
	"errors"
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/tributary-dev/tributary/schemas/wire"
)

// Numeric is an exact non-negative decimal with 9 fractional digits covering BigQuery NUMERIC's
// whole range, up to NumericMax = 99999999999999999999999999999.999999999: the type of every sum
// of money in the output rows. It is 128 bits of 1e-9 units.
//
// Why sums can never leave that range: an event's amount_usd is a Decimal, at most
// MaxDecimal ≈ 9.2e9 (enrich dead-letters an event whose conversion would exceed it), and every
// sum is over a number of events that is itself an int64 count (purchases, events, baseline
// purchases), so a sum is at most math.MaxInt64 × MaxDecimal ≈ 8.5e28 < NumericMax ≈ 1e29.
// Add still saturates at NumericMax rather than wrap, so even a broken bound could never write
// a wrapped value.
type Numeric struct{ hi, lo uint64 }

// MaxDecimal is the largest Decimal: the per-event cap on amount and amount_usd.
const MaxDecimal Decimal = math.MaxInt64

// NumericMax is BigQuery NUMERIC's maximum, 1e38 - 1 units of 1e-9.
var NumericMax = func() Numeric {
	hi, lo := bits.Mul64(1e19, 1e19)
	lo, borrow := bits.Sub64(lo, 1, 0)
	return Numeric{hi - borrow, lo}
}()

var (
	errNumericSyntax = errors.New("not a non-negative decimal number")
	errNumericRange  = errors.New("above BigQuery NUMERIC's maximum")
)

// NumericOf is d as a Numeric; a negative d (which no parser or conversion produces) counts as 0.
func NumericOf(d Decimal) Numeric {
	if d <= 0 {
		return Numeric{}
	}
	return Numeric{lo: uint64(d)}
}

// ParseNumeric parses a plain non-negative decimal such as "12" or "18446744072.5", with at
// most 9 fractional digits, up to NumericMax.
func ParseNumeric(s string) (Numeric, error) {
	i := 0
	if i < len(s) && s[i] == '+' {
		i++
	}
	var n Numeric
	digits, frac, point := 0, 0, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			var ok bool
			if n, ok = n.mulAdd(10, uint64(c-'0')); !ok {
				return Numeric{}, errNumericRange
			}
			digits++
			if point {
				frac++
			}
		case c == '.' && !point:
			point = true
		default:
			return Numeric{}, errNumericSyntax
		}
	}
	if digits == 0 {
		return Numeric{}, errNumericSyntax
	}
	if frac > 9 {
		return Numeric{}, errDecimalDigits
	}
	for ; frac < 9; frac++ {
		var ok bool
		if n, ok = n.mulAdd(10, 0); !ok {
			return Numeric{}, errNumericRange
		}
	}
	return n, nil
}

// mulAdd returns n×m + a, and false when that exceeds NumericMax.
func (n Numeric) mulAdd(m, a uint64) (Numeric, bool) {
	carry, lo := bits.Mul64(n.lo, m)
	over, hi := bits.Mul64(n.hi, m)
	hi, c1 := bits.Add64(hi, carry, 0)
	lo, c2 := bits.Add64(lo, a, 0)
	hi, c3 := bits.Add64(hi, c2, 0)
	r := Numeric{hi, lo}
	return r, over == 0 && c1 == 0 && c3 == 0 && r.Cmp(NumericMax) <= 0
}

// AddChecked returns n + m, and false when the sum exceeds NumericMax.
func (n Numeric) AddChecked(m Numeric) (Numeric, bool) {
	lo, carry := bits.Add64(n.lo, m.lo, 0)
	hi, over := bits.Add64(n.hi, m.hi, carry)
	r := Numeric{hi, lo}
	return r, over == 0 && r.Cmp(NumericMax) <= 0
}

// Add returns n + m, saturated at NumericMax (unreachable for sums of events: see Numeric).
func (n Numeric) Add(m Numeric) Numeric {
	r, ok := n.AddChecked(m)
	if !ok {
		return NumericMax
	}
	return r
}

// AddDecimal returns n + d, as Add.
func (n Numeric) AddDecimal(d Decimal) Numeric { return n.Add(NumericOf(d)) }

// Div returns n / k truncated, for a mean over k > 0 values; 0 when k ≤ 0.
func (n Numeric) Div(k int64) Numeric {
	if k <= 0 {
		return Numeric{}
	}
	q, _ := n.divmod(uint64(k))
	return q
}

func (n Numeric) divmod(d uint64) (Numeric, uint64) {
	qhi, r := n.hi/d, n.hi%d
	qlo, r := bits.Div64(r, n.lo, d)
	return Numeric{qhi, qlo}, r
}

// Cmp compares n and m: -1, 0 or +1.
func (n Numeric) Cmp(m Numeric) int {
	switch {
	case n.hi < m.hi || (n.hi == m.hi && n.lo < m.lo):
		return -1
	case n == m:
		return 0
	}
	return 1
}

// IsZero reports n == 0 (for omitzero).
func (n Numeric) IsZero() bool { return n == Numeric{} }

// Units is n in 1e-9 units, for exact arithmetic beyond 128 bits.
func (n Numeric) Units() *big.Int {
	u := new(big.Int).SetUint64(n.hi)
	return u.Lsh(u, 64).Or(u, new(big.Int).SetUint64(n.lo))
}

// String formats n as Decimal does, without trailing zeros: "18446744072", "19.99".
func (n Numeric) String() string { return string(n.append(nil)) }

func (n Numeric) append(b []byte) []byte {
	whole, f := n.divmod(DecimalScale)
	if whole.hi == 0 {
		b = strconv.AppendUint(b, whole.lo, 10)
	} else { // whole < 1e29: its top digits fit in 64 bits once the low 19 are split off
		top, low := whole.divmod(1e19)
		b = strconv.AppendUint(b, top.lo, 10)
		s := strconv.FormatUint(low, 10)
		for range 19 - len(s) {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	return appendFraction(b, f)
}

// MarshalJSON writes n as a JSON string, which BigQuery loads into NUMERIC exactly.
func (n Numeric) MarshalJSON() ([]byte, error) { return marshalQuoted(n) }

// UnmarshalJSON reads a JSON string or number holding a Numeric.
func (n *Numeric) UnmarshalJSON(b []byte) error {
	v, err := ParseNumeric(string(unquote(b)))
	if err != nil {
		return err
	}
	*n = v
	return nil
}

// marshalQuoted writes v as a JSON string (Decimal's and Numeric's MarshalJSON).
func marshalQuoted[T interface{ append([]byte) []byte }](v T) ([]byte, error) {
	b := make([]byte, 0, 24)
	b = append(b, '"')
	b = v.append(b)
	return append(b, '"'), nil
}

// unquote strips the quotes of a JSON string, leaving a JSON number as it is.
func unquote(b []byte) []byte {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		return b[1 : len(b)-1]
	}
	return b
}

// AppendWire appends n to a state or coder encoding: two varints, 2 bytes for a small sum.
func (n Numeric) AppendWire(w wire.Writer) wire.Writer { return w.Uint(n.hi).Uint(n.lo) }

// ReadNumeric reads what AppendWire wrote; a value above NumericMax (corrupt input) saturates.
func ReadNumeric(r *wire.Reader) Numeric {
	n := Numeric{hi: r.Uint(), lo: r.Uint()}
	if n.Cmp(NumericMax) > 0 {
		return NumericMax
	}
	return n
}

// Equal reports n == m (go-cmp uses it to compare rows).
func (n Numeric) Equal(m Numeric) bool { return n == m }
