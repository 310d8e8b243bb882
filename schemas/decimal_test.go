package schemas

import (
	"errors"
	"math"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in      string
		want    Decimal
		wantErr error
		str     string // String() of the result; "" means in
	}{
		{in: "0", want: 0},
		{in: "12", want: 12 * DecimalScale},
		{in: "19.99", want: 19_990_000_000},
		{in: "0.000000001", want: 1},
		{in: ".5", want: DecimalScale / 2, str: "0.5"},
		{in: "5.", want: 5 * DecimalScale, str: "5"},
		{in: "+5", want: 5 * DecimalScale, str: "5"},
		{in: "0.0", want: 0, str: "0"},
		{in: "-0", want: 0, str: "0"},
		{in: "-0.000", want: 0, str: "0"},
		{in: "007.50", want: 7_500_000_000, str: "7.5"},
		{in: "1.0000000000", want: DecimalScale, str: "1"}, // ten fractional digits, but exact
		{in: "9223372036.854775807", want: math.MaxInt64},
		{in: "1e2", want: 100 * DecimalScale, str: "100"},
		{in: "1E2", want: 100 * DecimalScale, str: "100"},
		{in: "1.5e3", want: 1500 * DecimalScale, str: "1500"},
		{in: "1e+2", want: 100 * DecimalScale, str: "100"},
		{in: "1e-9", want: 1, str: "0.000000001"},
		{in: "12345e-4", want: 1_234_500_000, str: "1.2345"},
		{in: "0e40", want: 0, str: "0"},
		{in: "0.0000000001", wantErr: errDecimalDigits},
		{in: "1e-10", wantErr: errDecimalDigits},
		{in: "1.0000000001", wantErr: errDecimalDigits},
		{in: "9223372036.854775808", wantErr: errDecimalRange},
		{in: "1e10", wantErr: errDecimalRange},
		{in: "99999999999999999999999", wantErr: errDecimalRange},
		{in: "-1", wantErr: errDecimalNegative},
		{in: "-0.000000001", wantErr: errDecimalNegative},
		{in: "", wantErr: errDecimalSyntax},
		{in: ".", wantErr: errDecimalSyntax},
		{in: "-", wantErr: errDecimalSyntax},
		{in: "abc", wantErr: errDecimalSyntax},
		{in: "1.2.3", wantErr: errDecimalSyntax},
		{in: " 1", wantErr: errDecimalSyntax},
		{in: "1,5", wantErr: errDecimalSyntax},
		{in: "e5", wantErr: errDecimalSyntax},
		{in: "1e", wantErr: errDecimalSyntax},
		{in: "1e41", wantErr: errDecimalSyntax},
		{in: "1e2.5", wantErr: errDecimalSyntax},
		{in: "NaN", wantErr: errDecimalSyntax},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDecimal(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseDecimal(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if bGot, bErr := ParseDecimalBytes([]byte(tt.in)); bGot != got || !errors.Is(bErr, tt.wantErr) {
				t.Errorf("ParseDecimalBytes = %v, %v; ParseDecimal = %v, %v", bGot, bErr, got, err)
			}
			if err != nil {
				return
			}
			if got != tt.want {
				t.Errorf("ParseDecimal(%q) = %d, want %d", tt.in, got, tt.want)
			}
			str := tt.str
			if str == "" {
				str = tt.in
			}
			if got.String() != str {
				t.Errorf("String() = %q, want %q", got.String(), str)
			}
			back, err := ParseDecimal(got.String())
			if err != nil || back != got {
				t.Errorf("ParseDecimal(String()) = %v, %v; want %v", back, err, got)
			}
		})
	}
}

func TestDecimalJSON(t *testing.T) {
	type row struct {
		Amount Decimal `json:"amount"`
	}
	tests := []struct {
		in      string
		want    Decimal
		wantOut string
		wantErr bool
	}{
		{in: `{"amount":19.99}`, want: 19_990_000_000, wantOut: `{"amount":"19.99"}`},
		{in: `{"amount":"19.99"}`, want: 19_990_000_000, wantOut: `{"amount":"19.99"}`},
		{in: `{"amount":1e2}`, want: 100 * DecimalScale, wantOut: `{"amount":"100"}`},
		{in: `{"amount":0}`, want: 0, wantOut: `{"amount":"0"}`},
		{in: `{"amount":0.1234567891}`, wantErr: true},
		{in: `{"amount":-1}`, wantErr: true},
		{in: `{"amount":true}`, wantErr: true},
		{in: `{"amount":"x"}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if r, ok := checkJSON[row](t, tt.in, tt.wantOut, tt.wantErr); ok && r.Amount != tt.want {
				t.Errorf("Amount = %d, want %d", r.Amount, tt.want)
			}
		})
	}
}

func TestDecimalMul(t *testing.T) {
	d := func(s string) Decimal {
		t.Helper()
		v, err := ParseDecimal(s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		a, b string
		want Decimal
	}{
		{"100", "1.0853", d("108.53")},
		{"19.99", "1", d("19.99")},
		{"1", "19.99", d("19.99")},
		{"19.99", "0.0067", d("0.133933")},
		{"39.98", "1.0853", d("43.390294")},
		{"1234.56", "0.0513", d("63.332928")},
		{"0.333333333", "3", d("0.999999999")},
		{"0.000000001", "0.5", 1},         // 0.5e-9 rounds half up
		{"0.000000001", "0.499999999", 0}, // just under half rounds down
		{"0.000000003", "0.5", 2},         // 1.5e-9 rounds half up
		{"0.000000001", "0.000000001", 0}, // underflows to zero
		{"0", "1.0853", 0},
		{"100", "0", 0},
		{"9223372036.854775807", "1", math.MaxInt64},
		{"9223372036.854775807", "2", math.MaxInt64}, // saturates
		{"9223372036", "9223372036", math.MaxInt64},
	}
	for _, tt := range tests {
		t.Run(tt.a+"*"+tt.b, func(t *testing.T) {
			if got := d(tt.a).Mul(d(tt.b)); got != tt.want {
				t.Errorf("%s × %s = %s, want %s", tt.a, tt.b, got, tt.want)
			}
		})
	}
	if got := Decimal(-5).Mul(DecimalScale); got != 0 {
		t.Errorf("negative × 1 = %s, want 0", got)
	}
}

func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"0", "19.99", "1e2", "0.000000001", "9223372036.854775807", "-0", ".5", "1e-9"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("ParseDecimal(%q) = %d, negative", s, d)
		}
		back, err := ParseDecimal(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDecimal(%q).String() = %q reparses as %v, %v", s, d.String(), back, err)
		}
		js, _ := d.MarshalJSON()
		var fromJSON Decimal
		if err := fromJSON.UnmarshalJSON(js); err != nil || fromJSON != d {
			t.Fatalf("JSON round trip of %q: %s -> %v, %v", s, js, fromJSON, err)
		}
		if got := d.Mul(DecimalScale); got != d {
			t.Fatalf("%s × 1 = %s", d, got)
		}
	})
}
