package main

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// callChartSpec is one family of call-level charts, one chart per
// readiness state, against the number of watched descriptors.
type callChartSpec struct {
	file   string // stem; _ready-<state> is appended
	title  string // %s is the readiness state in words
	ylabel string
	ratio  bool // the ratio to the baseline (drawn as a line at 1), not ns
}

var callChartSpecs = []callChartSpec{
	{"select-call-ns", "One select call vs descriptors watched, %s", "ns per call (median of rounds, bars: min–max)", false},
	{"select-call-ratio", "One select call ÷ C's, same round, %s", "× C (median of rounds, bars: min–max; lower is better)", true},
}

// writeCallCharts draws, per readiness state, ns per call and the ratio to
// the baseline against the number of watched descriptors on log–log axes,
// one line per wrapper.
func writeCallCharts(dir string, c *CallsRun) ([]string, error) {
	var files []string
	for _, spec := range callChartSpecs {
		for _, ready := range c.Grid.Ready {
			ch, err := drawCallChart(spec, ready, c)
			if err != nil {
				return files, err
			}
			if ch == nil {
				continue
			}
			f, err := ch.save(dir, spec.file+"_ready-"+ready)
			files = append(files, f...)
			if err != nil {
				return files, err
			}
		}
	}
	return files, nil
}

func drawCallChart(spec callChartSpec, ready string, c *CallsRun) (*chart, error) {
	ch := newChart(fmt.Sprintf(spec.title, readyWords[ready]), "descriptors watched (N)", spec.ylabel)
	ch.p.X.Scale, ch.p.Y.Scale = plot.LogScale{}, plot.LogScale{}
	ch.p.X.Tick.Marker, ch.p.Y.Tick.Marker = logTicks{}, logTicks{}
	var ss []series
	var style []int
	for i, w := range c.Wrappers {
		if spec.ratio && w.Name == c.Baseline {
			continue // the dashed line at 1
		}
		se := series{name: w.Label}
		for _, n := range c.Grid.Ns {
			s := findCallSummary(c.Summary, CallCell{N: n, Ready: ready}, w.Name)
			switch {
			case s == nil:
			case spec.ratio && s.Ratio != nil:
				se.joined.add(float64(n), *s.Ratio)
			case !spec.ratio && s.NsPerCall != nil:
				se.joined.add(float64(n), *s.NsPerCall)
			}
		}
		if len(se.joined.XYs) > 0 {
			ss, style = append(ss, se), append(style, i)
		}
	}
	if len(ss) == 0 {
		return nil, nil
	}
	if spec.ratio {
		one := plotter.NewFunction(func(float64) float64 { return 1 })
		one.Color, one.Dashes, one.Width = color.Gray{Y: 60}, []vg.Length{vg.Points(6), vg.Points(3)}, vg.Points(1.5)
		ch.p.Add(one)
		base := c.Baseline
		for _, w := range c.Wrappers {
			if w.Name == c.Baseline {
				base = w.Label
			}
		}
		ch.legend.Add(base+" = 1", one)
	}
	if err := ch.addSeries(ss, style); err != nil {
		return nil, err
	}
	lo, hi := minN(c.Grid.Ns)
	ch.p.X.Min, ch.p.X.Max = float64(lo)/1.5, float64(hi)*1.5
	ch.fitY(spec.ratio)
	return ch, nil
}

func minN(ns []int) (lo, hi int) {
	lo, hi = ns[0], ns[0]
	for _, n := range ns {
		lo, hi = min(lo, n), max(hi, n)
	}
	return lo, hi
}
