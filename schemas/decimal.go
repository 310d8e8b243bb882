package schemas

import (
	"errors"
	"math"
	"math/bits"
	"strconv"
)

// Decimal is an exact decimal number with 9 fractional digits (BigQuery NUMERIC's scale), stored
// as an integer count of 1e-9 units. Money never goes through float64.
type Decimal int64

// DecimalScale is the number of units in 1.
const DecimalScale = 1_000_000_000

var (
	errDecimalSyntax = errors.New("not a decimal number")
	errDecimalRange  = errors.New("decimal out of range")
	// ErrDecimalRange is ParseDecimal's error for a value above MaxDecimal.
	ErrDecimalRange    = errDecimalRange
	errDecimalNegative = errors.New("decimal is negative")
	errDecimalDigits   = errors.New("more than 9 fractional digits")
)

// ParseDecimal parses a plain decimal number such as "12", "19.99" or "1e2". An exponent is
// accepted because JSON producers emit one; the result must be exact at 9 fractional digits.
func ParseDecimal(s string) (Decimal, error) { return parseDecimal([]byte(s)) }

// ParseDecimalBytes is ParseDecimal without the string conversion (no allocation).
func ParseDecimalBytes(b []byte) (Decimal, error) { return parseDecimal(b) }

func parseDecimal(b []byte) (Decimal, error) {
	i, neg := 0, false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64 // digits read so far, as an integer
	frac := 0       // digits after the point
	digits, seenPoint := 0, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case c >= '0' && c <= '9':
			if mant > (math.MaxUint64-9)/10 {
				return 0, errDecimalRange
			}
			mant = mant*10 + uint64(c-'0')
			digits++
			if seenPoint {
				frac++
			}
		case c == '.' && !seenPoint:
			seenPoint = true
		case c == 'e' || c == 'E':
			goto exponent
		default:
			return 0, errDecimalSyntax
		}
	}
	return finishDecimal(mant, frac, 0, digits, neg)
exponent:
	{
		if digits == 0 {
			return 0, errDecimalSyntax
		}
		exp, err := strconv.Atoi(string(b[i+1:]))
		if err != nil || exp > 40 || exp < -40 {
			return 0, errDecimalSyntax
		}
		return finishDecimal(mant, frac, exp, digits, neg)
	}
}

func finishDecimal(mant uint64, frac, exp, digits int, neg bool) (Decimal, error) {
	if digits == 0 {
		return 0, errDecimalSyntax
	}
	shift := 9 - frac + exp // power of ten to multiply mant by
	for ; shift < 0; shift++ {
		if mant%10 != 0 {
			return 0, errDecimalDigits
		}
		mant /= 10
	}
	for ; shift > 0; shift-- {
		if mant > math.MaxInt64/10 {
			return 0, errDecimalRange
		}
		mant *= 10
	}
	if mant > math.MaxInt64 {
		return 0, errDecimalRange
	}
	if neg {
		if mant != 0 {
			return 0, errDecimalNegative
		}
	}
	return Decimal(mant), nil
}

// String formats d without trailing zeros: "19.99", "3", "0.000000001".
func (d Decimal) String() string {
	return string(d.append(nil))
}

func (d Decimal) append(b []byte) []byte {
	u := uint64(d)
	if d < 0 {
		b = append(b, '-')
		u = uint64(-d)
	}
	b = strconv.AppendUint(b, u/DecimalScale, 10)
	return appendFraction(b, u%DecimalScale)
}

// appendFraction appends f (< DecimalScale) as ".ddd" without trailing zeros, nothing for 0.
func appendFraction(b []byte, f uint64) []byte {
	if f == 0 {
		return b
	}
	var buf [9]byte
	for i := 8; i >= 0; i-- {
		buf[i] = byte('0' + f%10)
		f /= 10
	}
	n := 9
	for n > 0 && buf[n-1] == '0' {
		n--
	}
	b = append(b, '.')
	return append(b, buf[:n]...)
}

// MarshalJSON writes d as a JSON string, which BigQuery loads into NUMERIC exactly.
func (d Decimal) MarshalJSON() ([]byte, error) { return marshalQuoted(d) }

// UnmarshalJSON reads a JSON number or a string holding one.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	v, err := parseDecimal(unquote(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Mul returns d × r rounded half up to 9 fractional digits, for non-negative values (amounts
// times currency rates). It saturates at MaxDecimal; MulChecked reports that instead.
func (d Decimal) Mul(r Decimal) Decimal {
	p, _ := d.MulChecked(r)
	return p
}

// MulChecked is Mul, with false (and MaxDecimal) when the product exceeds MaxDecimal.
func (d Decimal) MulChecked(r Decimal) (Decimal, bool) {
	if d <= 0 || r <= 0 {
		return 0, true
	}
	hi, lo := bits.Mul64(uint64(d), uint64(r))
	lo, carry := bits.Add64(lo, DecimalScale/2, 0)
	hi += carry
	if hi >= DecimalScale {
		return MaxDecimal, false
	}
	q, _ := bits.Div64(hi, lo, DecimalScale)
	if q > math.MaxInt64 {
		return MaxDecimal, false
	}
	return Decimal(q), true
}
