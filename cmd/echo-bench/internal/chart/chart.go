// Package chart draws echo-bench's charts, the same way for every
// benchmark: medians with min–max bars on logarithmic axes, one style per
// row that stays the same on every chart, the legend outside the plot, and
// SVG and PNG of each.
package chart

import (
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
)

// Every chart is 9 × 5.5 inches, legend included.
const chartW, chartH = 9 * vg.Inch, 5.5 * vg.Inch

// Points are medians with min–max bars.
type Points struct {
	plotter.XYs
	plotter.YErrors
}

// Add appends the median of sp at x, with its range as the bar.
func (e *Points) Add(x float64, sp stats.Spread) {
	e.XYs = append(e.XYs, plotter.XY{X: x, Y: sp.Median})
	e.YErrors = append(e.YErrors, struct{ Low, High float64 }{sp.Median - sp.Min, sp.Max - sp.Median})
}

// Series is one line of a chart: points joined by a line, and points
// shown in the same style but not joined (the matrix's idle cell).
type Series struct {
	Name     string
	Joined   Points
	Detached Points
}

// Len is how many points s has.
func (s *Series) Len() int { return len(s.Joined.XYs) + len(s.Detached.XYs) }

// palette holds ten colours told apart at a glance (Tableau's, with
// black first: the baseline is the first row of every table).
var palette = []color.RGBA{
	{0, 0, 0, 255}, {78, 121, 167, 255}, {242, 142, 43, 255}, {89, 161, 79, 255}, {225, 87, 89, 255},
	{176, 122, 161, 255}, {156, 117, 95, 255}, {255, 157, 167, 255}, {118, 183, 178, 255}, {182, 153, 45, 255},
}

func seriesColor(i int) color.Color { return palette[i%len(palette)] }

// Chart is a plot and the legend that goes to its right, outside the
// plotting area, where it can hide no point.
type Chart struct {
	Plot   *plot.Plot // for the axes; the series go through AddSeries
	legend plot.Legend
	ylabel string // drawn by drawYLabel, not by the plot
	// The y extent of the points: of the medians, and of the bars.
	medLo, medHi, barLo, barHi float64
}

// barsClipAt is how far above the highest median the y axis may reach: a
// bar that goes further (one round hit by a stall on this shared machine)
// is clipped at the frame, so it cannot flatten every line.
const barsClipAt = 4

// New is an empty chart with a grid.
func New(title, xlabel, ylabel string) *Chart {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xlabel
	p.Add(plotter.NewGrid())
	lg := plot.NewLegend()
	lg.Top, lg.Left = true, true
	return &Chart{Plot: p, legend: lg, ylabel: ylabel, medLo: math.Inf(1), medHi: math.Inf(-1), barLo: math.Inf(1), barHi: math.Inf(-1)}
}

// LogLog puts both axes on a logarithmic scale, labelled by LogTicks.
func (c *Chart) LogLog() {
	c.Plot.X.Scale, c.Plot.Y.Scale = plot.LogScale{}, plot.LogScale{}
	c.Plot.X.Tick.Marker, c.Plot.Y.Tick.Marker = LogTicks{}, LogTicks{}
}

// FitX leaves some room around x values lo to hi on a logarithmic axis,
// also when lo == hi.
func (c *Chart) FitX(lo, hi float64) { c.Plot.X.Min, c.Plot.X.Max = lo/1.5, hi*1.5 }

// AddBaseline draws a dashed line at 1 (a ratio chart's baseline) and
// names it in the legend.
func (c *Chart) AddBaseline(name string) {
	one := plotter.NewFunction(func(float64) float64 { return 1 })
	one.Color, one.Dashes, one.Width = color.Gray{Y: 60}, []vg.Length{vg.Points(6), vg.Points(3)}, vg.Points(1.5)
	c.Plot.Add(one)
	c.legend.Add(name+" = 1", one)
}

// FitY sets the y axis (logarithmic) to the points, with some room, and
// no higher than barsClipAt × the highest median; when a bar is clipped,
// the axis label says so.
func (c *Chart) FitY(includeOne bool) {
	lo, hi := c.barLo, min(c.barHi, barsClipAt*c.medHi)
	if includeOne {
		lo, hi = min(lo, 1), max(hi, 1)
	}
	if hi < c.barHi {
		c.ylabel += "; bars clipped at the frame"
	}
	c.Plot.Y.Min, c.Plot.Y.Max = lo/1.2, hi*1.2
}

// AddSeries draws each series in its own color and shape; the i-th series
// always gets the i-th style, so a server looks the same on every chart.
func (c *Chart) AddSeries(ss []Series, style []int) error {
	for k, s := range ss {
		i := style[k]
		var thumbs []plot.Thumbnailer
		for part, pts := range []Points{s.Joined, s.Detached} {
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
			c.Plot.Add(scatter, bars)
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
			c.Plot.Add(line)
			thumbs = append([]plot.Thumbnailer{line}, thumbs...)
		}
		if len(thumbs) > 0 {
			c.legend.Add(s.Name, thumbs...)
		}
	}
	return nil
}

// Files saves charts into Dir and lists the files written.
type Files struct {
	Dir   string
	Names []string
}

// Save writes c as stem.svg and stem.png. A nil c (nothing to draw) is
// skipped; a non-nil err (drawing failed) is returned as it is.
func (f *Files) Save(c *Chart, err error, stem string) error {
	if err != nil || c == nil {
		return err
	}
	names, err := c.save(f.Dir, stem)
	f.Names = append(f.Names, names...)
	return err
}

// save writes the chart as SVG and PNG, the legend in a column of its own
// to the right of the plot.
func (c *Chart) save(dir, stem string) ([]string, error) {
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
		c.Plot.Draw(draw.Crop(dc, lh, -lw, 0, 0))
		// Top of the legend level with the top of the plotting area.
		top := c.Plot.Title.TextStyle.Rectangle(c.Plot.Title.Text).Size().Y + c.Plot.Title.Padding + pad
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
func (c *Chart) drawYLabel(dc draw.Canvas) vg.Length {
	lab := c.Plot.Y.Label
	if c.ylabel == "" {
		return 0
	}
	sty := lab.TextStyle
	sty.Rotation += math.Pi / 2
	h := lab.TextStyle.Height(c.ylabel)
	dc.FillText(sty, vg.Point{X: dc.Min.X + h - lab.TextStyle.FontExtents().Descent, Y: dc.Center().Y}, c.ylabel)
	return h + lab.Padding
}

// LogTicks labels a logarithmic axis at 1, 2 and 5 times each power of ten,
// with unlabelled minor ticks between: plot.LogTicks labels only the powers
// of ten, which leaves a narrow range (5 to 60 µs) with a single label.
type LogTicks struct{}

// Ticks implements plot.Ticker.
func (LogTicks) Ticks(min, max float64) []plot.Tick {
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
