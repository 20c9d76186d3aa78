package calls

import (
	"fmt"
	"slices"

	"github.com/selectc/selectc/cmd/echo-bench/internal/chart"
)

// chartSpec is one family of call-level charts, one chart per
// readiness state, against the number of watched descriptors.
type chartSpec struct {
	file   string // stem; _ready-<state> is appended
	title  string // %s is the readiness state in words
	ylabel string
	ratio  bool // the ratio to the baseline (drawn as a line at 1), not ns
}

var chartSpecs = []chartSpec{
	{"select-call-ns", "One select call vs descriptors watched, %s", "ns per call (median of rounds, bars: min–max)", false},
	{"select-call-ratio", "One select call ÷ C's, same round, %s", "× C (median of rounds, bars: min–max; lower is better)", true},
}

// WriteCharts draws, per readiness state, ns per call and the ratio to
// the baseline against the number of watched descriptors on log–log axes,
// one line per wrapper, and returns the file names written.
func WriteCharts(dir string, c *Results) ([]string, error) {
	files := chart.Files{Dir: dir}
	for _, spec := range chartSpecs {
		for _, ready := range c.Grid.Ready {
			ch, err := drawChart(spec, ready, c)
			if err := files.Save(ch, err, spec.file+"_ready-"+ready); err != nil {
				return files.Names, err
			}
		}
	}
	return files.Names, nil
}

func drawChart(spec chartSpec, ready string, c *Results) (*chart.Chart, error) {
	ch := chart.New(fmt.Sprintf(spec.title, readyWords[ready]), "descriptors watched (N)", spec.ylabel)
	ch.LogLog()
	var ss []chart.Series
	var style []int
	for i, w := range c.Wrappers {
		if spec.ratio && w.Name == c.Baseline {
			continue // the dashed line at 1
		}
		se := chart.Series{Name: w.Label}
		for _, n := range c.Grid.Ns {
			s := find(c.Summary, Cell{N: n, Ready: ready}, w.Name)
			switch {
			case s == nil:
			case spec.ratio && s.Ratio != nil:
				se.Joined.Add(float64(n), *s.Ratio)
			case !spec.ratio && s.NsPerCall != nil:
				se.Joined.Add(float64(n), *s.NsPerCall)
			}
		}
		if se.Len() > 0 {
			ss, style = append(ss, se), append(style, i)
		}
	}
	if len(ss) == 0 {
		return nil, nil
	}
	if spec.ratio {
		base := c.Baseline
		for _, w := range c.Wrappers {
			if w.Name == c.Baseline {
				base = w.Label
			}
		}
		ch.AddBaseline(base)
	}
	if err := ch.AddSeries(ss, style); err != nil {
		return nil, err
	}
	ch.FitX(float64(slices.Min(c.Grid.Ns)), float64(slices.Max(c.Grid.Ns)))
	ch.FitY(spec.ratio)
	return ch, nil
}
