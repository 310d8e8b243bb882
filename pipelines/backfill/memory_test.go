package backfill

import "testing"

func TestParseVmHWM(t *testing.T) {
	tests := []struct {
		status string
		want   int64
		ok     bool
	}{
		{"Name:\tbackfill\nVmPeak:\t  900 kB\nVmHWM:\t  204800 kB\nVmRSS:\t 1000 kB\n", 200 << 20, true},
		{"Name:\tbackfill\nVmRSS:\t 1000 kB\n", 0, false},
		{"VmHWM:\t12 MB\n", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseVmHWM([]byte(tc.status))
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseVmHWM(%q) = %d, %v; want %d, %v", tc.status, got, ok, tc.want, tc.ok)
		}
	}
	if n, ok := peakRSS(); ok && n <= 0 {
		t.Errorf("peakRSS() = %d on a system with /proc", n)
	}
}
