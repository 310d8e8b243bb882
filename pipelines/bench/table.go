package bench

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
)

// Row is one line of the table: the core and the plain-Go loop on the same input.
type Row struct {
	Core, Reference Result
	Load            string // 1-minute load average when the row finished
}

// Header is the table's header, tab-separated.
const Header = "mode\tevents\tevents/s\tCPU-µs/event\tpeak RSS MB\tallocs/event\tstate req/event\tplain Go CPU-µs/event\tratio\tload\t"

// Line is the row, tab-separated.
func (r Row) Line() string {
	c := r.Core
	ref, _, _ := r.Reference.PerEvent()
	if c.Err != "" {
		if c.EventRows == 0 || c.Wall <= 0 {
			return fmt.Sprintf("%s\t%d\t%s\t\t\t\t\t\t\t%s\t", c.Mode, c.Spec.Events, c.Err, r.Load)
		}
		// Killed: per event of the events rows written, an upper bound (the stateful steps lag
		// the events table); allocations and state requests are only counted at the end.
		cpu := float64(c.CPU.Microseconds()) / float64(c.EventRows)
		ratio := "—"
		if ref > 0 {
			ratio = fmt.Sprintf("≤%.0f×", cpu/ref)
		}
		return fmt.Sprintf("%s\t%d of %d (%s)\t%.0f\t≤%.1f\t%d\t\t\t%.2f\t%s\t%s\t", c.Mode, c.EventRows, c.Spec.Events,
			c.Err, float64(c.EventRows)/c.Wall.Seconds(), cpu, c.PeakRSS>>20, ref, ratio, r.Load)
	}
	cpu, st, al := c.PerEvent()
	ratio := "—"
	if ref > 0 {
		ratio = fmt.Sprintf("%.0f×", cpu/ref)
	}
	return fmt.Sprintf("%s\t%d\t%.0f\t%.1f\t%d\t%.0f\t%.2f\t%.2f\t%s\t%s\t", c.Mode, c.Spec.Events,
		float64(c.Spec.Events)/c.Wall.Seconds(), cpu, c.PeakRSS>>20, al, st, ref, ratio, r.Load)
}

// WriteChart draws CPU-µs/event (left half) and peak RSS (right half) against N, one polyline
// per mode (steady blue, burst red), each half scaled to its own maximum, as a small PNG.
func WriteChart(path string, rows []Row) error {
	const w, h, pad = 640, 240, 20
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.White)
		}
	}
	colors := map[Mode]color.RGBA{Steady: {30, 90, 200, 255}, Burst: {200, 40, 40, 255}}
	grey := color.RGBA{160, 160, 160, 255}
	panel := func(x0 int, value func(Result) float64) {
		x1 := x0 + w/2 - 2*pad
		for x := x0; x <= x1; x++ {
			img.Set(x, h-pad, grey)
		}
		for y := pad; y <= h-pad; y++ {
			img.Set(x0, y, grey)
		}
		var maxV float64
		var maxN int64
		for _, r := range rows {
			if r.Core.Err == "" {
				maxV, maxN = max(maxV, value(r.Core)), max(maxN, r.Core.Spec.Events)
			}
		}
		if maxV == 0 || maxN == 0 {
			return
		}
		for m, c := range colors {
			var px, py int = -1, -1
			for _, r := range rows {
				if r.Core.Mode != m || r.Core.Err != "" {
					continue
				}
				x := x0 + int(float64(x1-x0)*float64(r.Core.Spec.Events)/float64(maxN))
				y := h - pad - int(float64(h-2*pad)*value(r.Core)/maxV)
				for dx := -3; dx <= 3; dx++ {
					for dy := -3; dy <= 3; dy++ {
						img.Set(x+dx, y+dy, c)
					}
				}
				if px >= 0 {
					line(img, px, py, x, y, c)
				}
				px, py = x, y
			}
		}
	}
	panel(pad, func(r Result) float64 { c, _, _ := r.PerEvent(); return c })
	panel(w/2+pad, func(r Result) float64 { return float64(r.PeakRSS) })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	steps := max(abs(x1-x0), abs(y1-y0), 1)
	for i := 0; i <= steps; i++ {
		img.Set(x0+(x1-x0)*i/steps, y0+(y1-y0)*i/steps, c)
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
