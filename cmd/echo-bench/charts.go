package main

import (
	"fmt"
	"image/color"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Every chart is 9 × 5.5 inches, legend included.
const chartW, chartH = 9 * vg.Inch, 5.5 * vg.Inch

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

// ratioSpec is one family of ratio-to-baseline charts, drawn from the
// summaries: the lines of the absolute charts lie on top of each other,
// the ratios pull them apart.
type ratioSpec struct {
	file   string
	title  string // %s is the baseline, %d the payload size
	ylabel string
	ratio  func(*Summary) *Spread
}

var ratioSpecs = []ratioSpec{
	{"server-cpu-ratio", "Server CPU per echo ÷ %s's, same round, %d B messages", "× %s (median of rounds, bars: min–max; lower is better)", func(s *Summary) *Spread { return s.CPURatio }},
	{"echoes-ratio", "Echoes per second ÷ %s's, same round, %d B messages", "× %s (median of rounds, bars: min–max; higher is better)", func(s *Summary) *Spread { return s.EchoesRatio }},
}

// writeCharts draws every chart into dir as SVG and PNG and returns the file
// names written.
func writeCharts(dir string, r *Results) ([]string, error) {
	if r.Calls != nil {
		return writeCallCharts(dir, r.Calls)
	}
	var sizes []int
	for _, s := range r.Samples {
		if !slices.Contains(sizes, s.Size) {
			sizes = append(sizes, s.Size)
		}
	}
	for _, s := range r.Summary { // a summary alone still has ratios to draw
		if !slices.Contains(sizes, s.Size) {
			sizes = append(sizes, s.Size)
		}
	}
	slices.Sort(sizes)
	var files []string
	for _, size := range sizes {
		for _, spec := range chartSpecs {
			c, err := drawChart(spec, size, r)
			if err != nil {
				return files, err
			}
			if c == nil {
				continue // only an idle cell at this size
			}
			f, err := c.save(dir, fmt.Sprintf("%s_size%d", spec.file, size))
			files = append(files, f...)
			if err != nil {
				return files, err
			}
		}
		for _, spec := range ratioSpecs {
			c, err := drawRatioChart(spec, size, r)
			if err != nil {
				return files, err
			}
			if c == nil {
				continue // no baseline in the run, or nothing clean to divide
			}
			f, err := c.save(dir, fmt.Sprintf("%s_size%d", spec.file, size))
			files = append(files, f...)
			if err != nil {
				return files, err
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

// add appends the median of vals at x, with their range as its bar.
func (e *errPoints) add(x float64, sp Spread) {
	e.XYs = append(e.XYs, plotter.XY{X: x, Y: sp.Median})
	e.YErrors = append(e.YErrors, struct{ Low, High float64 }{sp.Median - sp.Min, sp.Max - sp.Median})
}

// series is one line of a chart: points joined by a line, and points
// shown in the same style but not joined (the idle cell).
type series struct {
	name     string
	joined   errPoints
	detached errPoints
}

// palette holds ten colours told apart at a glance (Tableau's, with
// black first: the baseline is the first row of every table).
var palette = []color.RGBA{
	{0, 0, 0, 255}, {78, 121, 167, 255}, {242, 142, 43, 255}, {89, 161, 79, 255}, {225, 87, 89, 255},
	{176, 122, 161, 255}, {156, 117, 95, 255}, {255, 157, 167, 255}, {118, 183, 178, 255}, {182, 153, 45, 255},
}

func seriesColor(i int) color.Color { return palette[i%len(palette)] }

// chart is a plot and the legend that goes to its right, outside the
// plotting area, where it can hide no point.
type chart struct {
	p      *plot.Plot
	legend plot.Legend
	ylabel string // drawn by drawYLabel, not by the plot
	// The y extent of the points: of the medians, and of the bars.
	medLo, medHi, barLo, barHi float64
}

// barsClipAt is how far above the highest median the y axis may reach: a
// bar that goes further (one round hit by a stall on this shared machine)
// is clipped at the frame, so it cannot flatten every line.
const barsClipAt = 4

func newChart(title, xlabel, ylabel string) *chart {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Add(plotter.NewGrid())
	lg := plot.NewLegend()
	lg.Top, lg.Left = true, true
	return &chart{p: p, legend: lg, ylabel: ylabel, medLo: math.Inf(1), medHi: math.Inf(-1), barLo: math.Inf(1), barHi: math.Inf(-1)}
}

// fitY sets the y axis (logarithmic) to the points, with some room, and
// no higher than barsClipAt × the highest median; when a bar is clipped,
// the axis label says so.
func (c *chart) fitY(includeOne bool) {
	lo, hi := c.barLo, min(c.barHi, barsClipAt*c.medHi)
	if includeOne {
		lo, hi = min(lo, 1), max(hi, 1)
	}
	if hi < c.barHi {
		c.ylabel += "; bars clipped at the frame"
	}
	c.p.Y.Min, c.p.Y.Max = lo/1.2, hi*1.2
}

// addSeries draws each series in its own color and shape; the i-th series
// always gets the i-th style, so a server looks the same on every chart.
func (c *chart) addSeries(ss []series, style []int) error {
	for k, s := range ss {
		i := style[k]
		var thumbs []plot.Thumbnailer
		for part, pts := range []errPoints{s.joined, s.detached} {
			if len(pts.XYs) == 0 {
				continue
			}
			scatter, err := plotter.NewScatter(pts.XYs)
			if err != nil {
				return err
			}
			scatter.Color, scatter.Shape = seriesColor(i), plotutil.Shape(i)
			bars, err := plotter.NewYErrorBars(pts)
			if err != nil {
				return err
			}
			bars.Color = seriesColor(i)
			c.p.Add(scatter, bars)
			for j, xy := range pts.XYs {
				c.medLo, c.medHi = min(c.medLo, xy.Y), max(c.medHi, xy.Y)
				c.barLo, c.barHi = min(c.barLo, xy.Y-pts.YErrors[j].Low), max(c.barHi, xy.Y+pts.YErrors[j].High)
			}
			if len(thumbs) == 0 {
				thumbs = append(thumbs, scatter)
			}
			if part == 1 || len(pts.XYs) < 2 { // the detached points stay apart
				continue
			}
			line, err := plotter.NewLine(pts.XYs)
			if err != nil {
				return err
			}
			line.Color = seriesColor(i)
			c.p.Add(line)
			thumbs = append([]plot.Thumbnailer{line}, thumbs...)
		}
		if len(thumbs) > 0 {
			c.legend.Add(s.name, thumbs...)
		}
	}
	return nil
}

// save writes the chart as SVG and PNG, the legend in a column of its own
// to the right of the plot.
func (c *chart) save(dir, stem string) ([]string, error) {
	var files []string
	for _, ext := range []string{"svg", "png"} {
		cv, err := draw.NewFormattedCanvas(chartW, chartH, ext)
		if err != nil {
			return files, err
		}
		dc := draw.New(cv)
		pad := vg.Points(10)
		lw := c.legend.Rectangle(dc).Size().X + 2*pad
		lh := c.drawYLabel(dc)
		c.p.Draw(draw.Crop(dc, lh, -lw, 0, 0))
		// Top of the legend level with the top of the plotting area.
		top := c.p.Title.TextStyle.Rectangle(c.p.Title.Text).Size().Y + c.p.Title.Padding + pad
		c.legend.Draw(draw.Crop(dc, chartW-lw+pad, -pad, 0, -top))
		name := stem + "." + ext
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return files, err
		}
		_, err = cv.WriteTo(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return files, fmt.Errorf("chart %s: %w", name, err)
		}
		files = append(files, name)
	}
	return files, nil
}

// drawYLabel draws the y axis label at the left edge of dc, centred on
// its height, and returns the width it took. The plot does not draw it:
// on a logarithmic axis gonum places the label by the linear midpoint of
// the range, far up the axis, and shrinks the plotting area to fit it.
func (c *chart) drawYLabel(dc draw.Canvas) vg.Length {
	lab := c.p.Y.Label
	if c.ylabel == "" {
		return 0
	}
	sty := lab.TextStyle
	sty.Rotation += math.Pi / 2
	h := lab.TextStyle.Height(c.ylabel)
	dc.FillText(sty, vg.Point{X: dc.Min.X + h - lab.TextStyle.FontExtents().Descent, Y: dc.Center().Y}, c.ylabel)
	return h + lab.Padding
}

// drawChart is one absolute chart: a figure against connections on log
// axes. Idle cells are left out (they are one point, not a curve).
func drawChart(spec chartSpec, size int, r *Results) (*chart, error) {
	c := newChart(fmt.Sprintf(spec.title, size), "connections", spec.ylabel)
	c.p.X.Scale, c.p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	c.p.X.Tick.Marker, c.p.Y.Tick.Marker = logTicks{}, logTicks{}
	var ss []series
	var style []int
	minX, maxX := math.Inf(1), math.Inf(-1)
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
		se := series{name: name}
		for _, conns := range slices.Sorted(maps.Keys(vals)) {
			sp, _ := spreadOf(vals[conns])
			se.joined.add(float64(conns), sp)
			minX, maxX = min(minX, float64(conns)), max(maxX, float64(conns))
		}
		ss, style = append(ss, se), append(style, i)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	if err := c.addSeries(ss, style); err != nil {
		return nil, err
	}
	// Some room around the points, also when there is a single x value.
	c.p.X.Min, c.p.X.Max = minX/1.5, maxX*1.5
	c.fitY(false)
	return c, nil
}

// drawRatioChart is one ratio chart: each server's ratio to the baseline
// per cell of one payload size, the cells as categories along x (the idle
// cell last, not joined to the others), the servers side by side within a
// category so no bar hides another, and a dashed line at 1: the baseline.
func drawRatioChart(spec ratioSpec, size int, r *Results) (*chart, error) {
	base := r.Settings.Baseline
	c := newChart(fmt.Sprintf(spec.title, base, size), "connections", fmt.Sprintf(spec.ylabel, base))
	c.p.Y.Scale, c.p.Y.Tick.Marker = plot.LogScale{}, logTicks{}
	var cells []Cell
	for _, cell := range cellsOf(r.Summary) {
		if cell.Size == size {
			cells = append(cells, cell)
		}
	}
	slices.SortStableFunc(cells, func(a, b Cell) int { // the idle cell last
		if (a.Idle > 0) != (b.Idle > 0) {
			if a.Idle > 0 {
				return 1
			}
			return -1
		}
		return a.Conns - b.Conns
	})
	var ticks []plot.Tick
	for i, cell := range cells {
		label := strconv.Itoa(cell.Conns)
		if cell.Idle > 0 {
			label = fmt.Sprintf("%d + %d idle", cell.Conns, cell.Idle)
		}
		ticks = append(ticks, plot.Tick{Value: float64(i), Label: label})
	}
	c.p.X.Tick.Marker = plot.ConstantTicks(ticks)

	var others []string
	for _, name := range r.Settings.Servers {
		if name != base {
			others = append(others, name)
		}
	}
	const width = 0.6 // of a category, shared by the servers
	var ss []series
	var style []int
	for k, name := range others {
		dodge := (float64(k)+0.5)/float64(len(others))*width - width/2
		se := series{name: name}
		for i, cell := range cells {
			s := findSummary(r.Summary, cell, name)
			if s == nil || spec.ratio(s) == nil || spec.ratio(s).Min <= 0 {
				continue
			}
			sp := *spec.ratio(s)
			if cell.Idle > 0 {
				se.detached.add(float64(i)+dodge, sp)
			} else {
				se.joined.add(float64(i)+dodge, sp)
			}
		}
		if len(se.joined.XYs)+len(se.detached.XYs) == 0 {
			continue
		}
		ss, style = append(ss, se), append(style, slices.Index(r.Settings.Servers, name))
	}
	if len(ss) == 0 {
		return nil, nil
	}
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color, one.Dashes, one.Width = color.Gray{Y: 60}, []vg.Length{vg.Points(6), vg.Points(3)}, vg.Points(1.5)
	c.p.Add(one)
	c.legend.Add(base+" = 1", one)
	if err := c.addSeries(ss, style); err != nil {
		return nil, err
	}
	c.p.X.Min, c.p.X.Max = -0.5, float64(len(cells))-0.5
	c.fitY(true)
	return c, nil
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
