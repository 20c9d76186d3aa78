package main

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
)

// chartSpec is one family of charts: a figure against connections, one
// chart per payload size.
type chartSpec struct {
	file   string // name stem; _size<N>.svg/.png is appended
	title  string // %d is the payload size
	ylabel string
	figure func(*Sample) float64
}

var chartSpecs = []chartSpec{
	{"echoes-per-s", "Echoes per second vs connections, %d B messages", "echoes/s (median, bars: min–max)", func(s *Sample) float64 { return s.EchoesPerSec }},
	{"server-cpu-per-echo", "Server CPU per echo vs connections, %d B messages", "server CPU µs per echo (median, bars: min–max)", func(s *Sample) float64 { return s.SrvCPUus }},
}

// writeCharts draws every chart into dir as SVG and PNG and returns the file
// names written. Idle cells are left out (they are one point, not a curve).
func writeCharts(dir string, r *Results) ([]string, error) {
	var sizes []int
	for _, s := range r.Samples {
		if s.Idle == 0 && !slices.Contains(sizes, s.Size) {
			sizes = append(sizes, s.Size)
		}
	}
	slices.Sort(sizes)
	var files []string
	for _, spec := range chartSpecs {
		for _, size := range sizes {
			p, err := drawChart(spec, size, r)
			if err != nil {
				return files, err
			}
			if p == nil {
				continue
			}
			for _, ext := range []string{"svg", "png"} {
				name := fmt.Sprintf("%s_size%d.%s", spec.file, size, ext)
				if err := p.Save(9*vg.Inch, 5.5*vg.Inch, filepath.Join(dir, name)); err != nil {
					return files, fmt.Errorf("chart %s: %w", name, err)
				}
				files = append(files, name)
			}
		}
	}
	return files, nil
}

// errPoints are the medians with min–max bars.
type errPoints struct {
	plotter.XYs
	plotter.YErrors
}

func drawChart(spec chartSpec, size int, r *Results) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = fmt.Sprintf(spec.title, size)
	p.X.Label.Text = "connections"
	p.Y.Label.Text = spec.ylabel
	p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	p.X.Tick.Marker, p.Y.Tick.Marker = logTicks{}, logTicks{}
	p.Legend.Top = true
	p.Add(plotter.NewGrid())

	minX, maxX := math.Inf(1), math.Inf(-1)
	drawn := 0
	for i, name := range r.Settings.Servers {
		// conns -> the clean rounds' values
		vals := map[int][]float64{}
		for j := range r.Samples {
			s := &r.Samples[j]
			if s.Server == name && s.Size == size && s.Idle == 0 && s.ok() {
				if v := spec.figure(s); v > 0 { // a log axis cannot show 0
					vals[s.Conns] = append(vals[s.Conns], v)
				}
			}
		}
		if len(vals) == 0 {
			continue
		}
		var pts errPoints
		for _, conns := range slices.Sorted(maps.Keys(vals)) {
			m := median(vals[conns])
			pts.XYs = append(pts.XYs, plotter.XY{X: float64(conns), Y: m})
			pts.YErrors = append(pts.YErrors, struct{ Low, High float64 }{m - slices.Min(vals[conns]), slices.Max(vals[conns]) - m})
			minX, maxX = min(minX, float64(conns)), max(maxX, float64(conns))
		}
		line, scatter, err := plotter.NewLinePoints(pts.XYs)
		if err != nil {
			return nil, err
		}
		line.Color, scatter.Color = plotutil.Color(i), plotutil.Color(i)
		scatter.Shape = plotutil.Shape(i)
		bars, err := plotter.NewYErrorBars(pts)
		if err != nil {
			return nil, err
		}
		bars.Color = plotutil.Color(i)
		p.Add(line, scatter, bars)
		p.Legend.Add(name, line, scatter)
		drawn++
	}
	if drawn == 0 {
		return nil, nil
	}
	// Some room around the points, also when there is a single x value.
	p.X.Min, p.X.Max = minX/1.5, maxX*1.5
	// Keep the top legendShare of the (logarithmic) y axis free for the
	// legend, so it never hides a curve.
	const legendShare = 0.04
	share := legendShare * float64(drawn)
	lo, hi := math.Log(p.Y.Min/1.2), math.Log(p.Y.Max*1.2)
	p.Y.Min, p.Y.Max = math.Exp(lo), math.Exp(lo+(hi-lo)/(1-share))
	return p, nil
}

// logTicks labels a logarithmic axis at 1, 2 and 5 times each power of ten,
// with unlabelled minor ticks between: plot.LogTicks labels only the powers
// of ten, which leaves a narrow range (5 to 60 µs) with a single label.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if min <= 0 || max <= min {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); e <= math.Ceil(math.Log10(max)); e++ {
		p := math.Pow(10, e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * p
			if v < min || v > max {
				continue
			}
			t := plot.Tick{Value: v}
			if m == 1 || m == 2 || m == 5 {
				t.Label = strconv.FormatFloat(v, 'g', -1, 64)
			}
			ticks = append(ticks, t)
		}
	}
	return ticks
}
