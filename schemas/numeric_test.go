package schemas

import (
	"encoding/json"
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tributary-dev/tributary/schemas/wire"
)

const numericMaxText = "99999999999999999999999999999.999999999"

func TestParseNumeric(t *testing.T) {
	tests := []struct {
		in      string
		wantErr error
		str     string // String(); "" means in
	}{
		{in: "0"},
		{in: "19.99"},
		{in: "0.000000001"},
		{in: "18446744072"},
		{in: "18446744073.709551615"}, // 2^64 - 1 units
		{in: "18446744073.709551616"}, // 2^64 units: the first value needing the high word
		{in: "123456789012345678901234567.5"},
		{in: numericMaxText},
		{in: "+7.50", str: "7.5"},
		{in: "007", str: "7"},
		{in: "100000000000000000000000000000", wantErr: errNumericRange},
		{in: "1.0000000001", wantErr: errDecimalDigits},
		{in: "340282366920938463463374607431.768211456", wantErr: errNumericRange}, // 2^128 units
		{in: "1e2", wantErr: errNumericSyntax},
		{in: "-1", wantErr: errNumericSyntax},
		{in: "", wantErr: errNumericSyntax},
		{in: ".", wantErr: errNumericSyntax},
		{in: "1.2.3", wantErr: errNumericSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseNumeric(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseNumeric(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if got.String() != want {
				t.Errorf("String() = %q, want %q", got.String(), want)
			}
			// The units agree with math/big's reading of the text.
			r, _ := new(big.Rat).SetString(tt.in)
			units := new(big.Rat).Mul(r, big.NewRat(DecimalScale, 1))
			if !units.IsInt() || units.Num().Cmp(got.Units()) != 0 {
				t.Errorf("Units() = %v, want %v", got.Units(), units)
			}
			back := ReadNumeric(wire.NewReader(got.AppendWire(nil)))
			if back != got {
				t.Errorf("wire round trip = %v, want %v", back, got)
			}
		})
	}
}

// TestNumericSums: the sums of item 11 no longer wrap; at NUMERIC's maximum the value is exact
// and a sum above it is reported (and saturates), never wrapped.
func TestNumericSums(t *testing.T) {
	two := NumericOf(9223372036 * DecimalScale).AddDecimal(9223372036 * DecimalScale)
	if got, want := two.String(), "18446744072"; got != want {
		t.Errorf("9223372036 + 9223372036 = %s, want %s", got, want)
	}
	maxes := NumericOf(MaxDecimal).AddDecimal(MaxDecimal)
	if got, want := maxes.String(), "18446744073.709551614"; got != want {
		t.Errorf("MaxDecimal + MaxDecimal = %s, want %s", got, want)
	}

	almost, err := ParseNumeric("99999999999999999999999999999.999999998")
	if err != nil {
		t.Fatal(err)
	}
	atMax, ok := almost.AddChecked(NumericOf(1))
	if !ok || atMax != NumericMax || atMax.String() != numericMaxText {
		t.Errorf("max - 1e-9 + 1e-9 = %s, %v; want %s, true", atMax, ok, numericMaxText)
	}
	if _, ok := NumericMax.AddChecked(NumericOf(1)); ok {
		t.Error("NumericMax + 1e-9 reported in range")
	}
	if got := NumericMax.AddDecimal(MaxDecimal); got != NumericMax {
		t.Errorf("NumericMax + MaxDecimal = %s, want it saturated at %s", got, NumericMax)
	}
	// A carry out of 128 bits is caught as well.
	huge := Numeric{hi: math.MaxUint64, lo: math.MaxUint64}
	if _, ok := huge.AddChecked(NumericOf(1)); ok {
		t.Error("2^128 - 1 + 1 reported in range")
	}

	// The bound Numeric's doc relies on: an int64 count of events, each at most MaxDecimal,
	// sums to less than NUMERIC's maximum.
	bound := new(big.Int).Mul(big.NewInt(math.MaxInt64), big.NewInt(int64(MaxDecimal)))
	if bound.Cmp(NumericMax.Units()) >= 0 {
		t.Errorf("MaxInt64 × MaxDecimal = %v units, not below NumericMax", bound)
	}

	if got := two.Div(2); got != NumericOf(9223372036*DecimalScale) {
		t.Errorf("18446744072 / 2 = %s", got)
	}
	if got := NumericMax.Div(3).String(); got != "33333333333333333333333333333.333333333" {
		t.Errorf("NumericMax / 3 = %s", got)
	}
	if got := two.Div(0); !got.IsZero() {
		t.Errorf("x / 0 = %s, want 0", got)
	}
	if NumericOf(1).Cmp(two) != -1 || two.Cmp(NumericOf(1)) != 1 || two.Cmp(two) != 0 || NumericMax.Cmp(two) != 1 {
		t.Error("Cmp is not an order")
	}
	if !NumericOf(-5).IsZero() {
		t.Error("NumericOf(negative) is not zero")
	}
}

func TestNumericJSON(t *testing.T) {
	type row struct {
		Sum  Numeric `json:"sum"`
		Mean Numeric `json:"mean,omitzero"`
	}
	tests := []struct {
		in      string
		wantOut string
		wantErr bool
	}{
		{in: `{"sum":"19.99"}`, wantOut: `{"sum":"19.99"}`},
		{in: `{"sum":19.99,"mean":"0"}`, wantOut: `{"sum":"19.99"}`},
		{in: `{"sum":"18446744072","mean":"1"}`, wantOut: `{"sum":"18446744072","mean":"1"}`},
		{in: `{"sum":"` + numericMaxText + `"}`, wantOut: `{"sum":"` + numericMaxText + `"}`},
		{in: `{"sum":"100000000000000000000000000000"}`, wantErr: true},
		{in: `{"sum":-1}`, wantErr: true},
		{in: `{"sum":true}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			checkJSON[row](t, tt.in, tt.wantOut, tt.wantErr)
		})
	}
}

// checkJSON unmarshals in into an R, failing t unless that errs exactly when wantErr, then
// marshals the row again and compares with wantOut. It returns the row, ok false when in was
// refused.
func checkJSON[R any](t *testing.T, in, wantOut string, wantErr bool) (r R, ok bool) {
	t.Helper()
	err := json.Unmarshal([]byte(in), &r)
	if (err != nil) != wantErr {
		t.Fatalf("Unmarshal error = %v, wantErr %v", err, wantErr)
	}
	if err != nil {
		return r, false
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantOut, string(out)); diff != "" {
		t.Errorf("Marshal (-want +got):\n%s", diff)
	}
	return r, true
}

func TestDecimalMulChecked(t *testing.T) {
	tests := []struct {
		a, r   Decimal
		want   Decimal
		wantOK bool
	}{
		{a: 100 * DecimalScale, r: 1_085_300_000, want: 108_530_000_000, wantOK: true},
		{a: MaxDecimal, r: DecimalScale, want: MaxDecimal, wantOK: true},
		{a: 9223372036 * DecimalScale, r: 1_085_300_000, want: MaxDecimal, wantOK: false},
		{a: MaxDecimal, r: DecimalScale + 1, want: MaxDecimal, wantOK: false},
		{a: 0, r: MaxDecimal, want: 0, wantOK: true},
	}
	for _, tt := range tests {
		got, ok := tt.a.MulChecked(tt.r)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s × %s = %s, %v; want %s, %v", tt.a, tt.r, got, ok, tt.want, tt.wantOK)
		}
	}
}

func FuzzNumeric(f *testing.F) {
	for _, s := range []string{"0", "19.99", "18446744073.709551616", numericMaxText, "1.000000001"} {
		f.Add(s, int64(MaxDecimal))
	}
	f.Fuzz(func(t *testing.T, s string, d int64) {
		n, err := ParseNumeric(s)
		if err != nil {
			return
		}
		if back, err := ParseNumeric(n.String()); err != nil || back != n {
			t.Fatalf("ParseNumeric(%q).String() = %q reparses as %v, %v", s, n, back, err)
		}
		sum, ok := n.AddChecked(NumericOf(Decimal(d)))
		want := new(big.Int).Add(n.Units(), NumericOf(Decimal(d)).Units())
		if inRange := want.Cmp(NumericMax.Units()) <= 0; ok != inRange || (ok && sum.Units().Cmp(want) != 0) {
			t.Fatalf("%s + %d units = %s, %v; want %v units", n, d, sum, ok, want)
		}
	})
}
