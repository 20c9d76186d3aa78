// Package vetcopy copies a Poller and a Loop by value, which go vet must
// report: selectc's TestVetReportsCopies runs it. It is never built
// otherwise (go's ./... patterns skip testdata).
package vetcopy

import "github.com/selectc/selectc/selectc"

// Copies returns copies of *p and *l.
func Copies(p *selectc.Poller, l *selectc.Loop) (selectc.Poller, selectc.Loop) {
	return *p, *l
}
