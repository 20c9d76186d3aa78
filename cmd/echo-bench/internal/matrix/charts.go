package matrix

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"

	"github.com/selectc/selectc/cmd/echo-bench/internal/chart"
	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
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

// ratioSpec is one family of ratio-to-baseline charts, drawn from the
// summaries: the lines of the absolute charts lie on top of each other,
// the ratios pull them apart.
type ratioSpec struct {
	file   string
	title  string // %s is the baseline, %d the payload size
	ylabel string
	ratio  func(*Summary) *stats.Spread
}

var ratioSpecs = []ratioSpec{
	{"server-cpu-ratio", "Server CPU per echo ÷ %s's, same round, %d B messages", "× %s (median of rounds, bars: min–max; lower is better)", func(s *Summary) *stats.Spread { return s.CPURatio }},
	{"echoes-ratio", "Echoes per second ÷ %s's, same round, %d B messages", "× %s (median of rounds, bars: min–max; higher is better)", func(s *Summary) *stats.Spread { return s.EchoesRatio }},
}

// Results are what the charts are drawn from.
type Results struct {
	Servers  []string // in the order of the tables: a server's style follows its place
	Baseline string
	Samples  []Sample
	Summary  []Summary
}

// WriteCharts draws every chart into dir as SVG and PNG and returns the
// file names written: per message size, each figure against connections
// and each ratio to the baseline.
func WriteCharts(dir string, r *Results) ([]string, error) {
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
	files := chart.Files{Dir: dir}
	for _, size := range sizes {
		for _, spec := range chartSpecs {
			c, err := drawChart(spec, size, r) // nil: only an idle cell at this size
			if err := files.Save(c, err, fmt.Sprintf("%s_size%d", spec.file, size)); err != nil {
				return files.Names, err
			}
		}
		for _, spec := range ratioSpecs {
			c, err := drawRatioChart(spec, size, r) // nil: no baseline, or nothing clean to divide
			if err := files.Save(c, err, fmt.Sprintf("%s_size%d", spec.file, size)); err != nil {
				return files.Names, err
			}
		}
	}
	return files.Names, nil
}

// drawChart is one absolute chart: a figure against connections on log
// axes. Idle cells are left out (they are one point, not a curve).
func drawChart(spec chartSpec, size int, r *Results) (*chart.Chart, error) {
	c := chart.New(fmt.Sprintf(spec.title, size), "connections", spec.ylabel)
	c.LogLog()
	var ss []chart.Series
	var style []int
	minX, maxX := math.Inf(1), math.Inf(-1)
	for i, name := range r.Servers {
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
		se := chart.Series{Name: name}
		for _, conns := range slices.Sorted(maps.Keys(vals)) {
			sp, _ := stats.SpreadOf(vals[conns])
			se.Joined.Add(float64(conns), sp)
			minX, maxX = min(minX, float64(conns)), max(maxX, float64(conns))
		}
		ss, style = append(ss, se), append(style, i)
	}
	if len(ss) == 0 {
		return nil, nil
	}
	if err := c.AddSeries(ss, style); err != nil {
		return nil, err
	}
	c.FitX(minX, maxX)
	c.FitY(false)
	return c, nil
}

// drawRatioChart is one ratio chart: each server's ratio to the baseline
// per cell of one payload size, the cells as categories along x (the idle
// cell last, not joined to the others), the servers side by side within a
// category so no bar hides another, and a dashed line at 1: the baseline.
func drawRatioChart(spec ratioSpec, size int, r *Results) (*chart.Chart, error) {
	base := r.Baseline
	c := chart.New(fmt.Sprintf(spec.title, base, size), "connections", fmt.Sprintf(spec.ylabel, base))
	c.Plot.Y.Scale, c.Plot.Y.Tick.Marker = plot.LogScale{}, chart.LogTicks{}
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
	c.Plot.X.Tick.Marker = plot.ConstantTicks(ticks)

	var others []string
	for _, name := range r.Servers {
		if name != base {
			others = append(others, name)
		}
	}
	const width = 0.6 // of a category, shared by the servers
	var ss []chart.Series
	var style []int
	for k, name := range others {
		dodge := (float64(k)+0.5)/float64(len(others))*width - width/2
		se := chart.Series{Name: name}
		for i, cell := range cells {
			s := find(r.Summary, cell, name)
			if s == nil || spec.ratio(s) == nil || spec.ratio(s).Min <= 0 {
				continue
			}
			sp := *spec.ratio(s)
			if cell.Idle > 0 {
				se.Detached.Add(float64(i)+dodge, sp)
			} else {
				se.Joined.Add(float64(i)+dodge, sp)
			}
		}
		if se.Len() == 0 {
			continue
		}
		ss, style = append(ss, se), append(style, slices.Index(r.Servers, name))
	}
	if len(ss) == 0 {
		return nil, nil
	}
	c.AddBaseline(base)
	if err := c.AddSeries(ss, style); err != nil {
		return nil, err
	}
	c.Plot.X.Min, c.Plot.X.Max = -0.5, float64(len(cells))-0.5
	c.FitY(true)
	return c, nil
}
