// Package table formats the figures of echo-bench's Markdown tables, the
// same way in every benchmark: a missing value is "–", large counts group
// their thousands, a spread is "median [min–max]".
package table

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/selectc/selectc/cmd/echo-bench/internal/stats"
)

// Spread is "1.00" for one value (or no range), "0.93 [0.90–1.01]"
// otherwise, "–" for none.
func Spread(sp *stats.Spread) string {
	if sp == nil {
		return "–"
	}
	if sp.N == 1 || sp.Min == sp.Max {
		return fmt.Sprintf("%.2f", sp.Median)
	}
	return fmt.Sprintf("%.2f [%.2f–%.2f]", sp.Median, sp.Min, sp.Max)
}

// Num is x with prec decimals, "–" for NaN or infinity.
func Num(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// Int is x rounded, its thousands grouped with a thin space, which
// Markdown leaves alone; "–" for NaN or infinity.
func Int(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "–"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i, ch := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString("\u2009")
		}
		b.WriteRune(ch)
	}
	return b.String()
}

// Escape keeps s inside one table cell.
func Escape(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

// Row is one line of a two-column table.
type Row struct{ Key, Value string }

// WriteRows writes a two-column table under the headings (either may be
// empty), the values escaped, and a blank line after it; nothing when
// rows is empty.
func WriteRows(w io.Writer, keyHead, valueHead string, rows []Row) {
	if len(rows) == 0 {
		return
	}
	head := func(s string) string {
		if s == "" {
			return " "
		}
		return " " + s + " "
	}
	fmt.Fprintf(w, "|%s|%s|\n|---|---|\n", head(keyHead), head(valueHead))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s |\n", r.Key, Escape(r.Value))
	}
	fmt.Fprintln(w)
}

// WriteGrid writes a table with a row per name in rows and a column per
// name in cols, right-aligned, each cell's text from cell(row, col), and a
// blank line after it.
func WriteGrid(w io.Writer, corner string, cols, rows []string, cell func(row, col int) string) {
	fmt.Fprintf(w, "| %s |", corner)
	for _, c := range cols {
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprintf(w, "\n|---|%s\n", strings.Repeat("---:|", len(cols)))
	for i, r := range rows {
		fmt.Fprintf(w, "| %s |", r)
		for j := range cols {
			fmt.Fprintf(w, " %s |", cell(i, j))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}
