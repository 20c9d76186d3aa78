package conformance

import (
	"debug/buildinfo"
	"debug/elf"
	"strings"
	"testing"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// TestGoBinariesLinkCgoAsDeclared reads every Go server binary and checks
// that it links runtime/cgo exactly when the server table says so: the
// pure-Go baselines must be what a CGO_ENABLED=0 user runs (package net
// alone would link cgo for its DNS resolver otherwise).
func TestGoBinariesLinkCgoAsDeclared(t *testing.T) {
	for _, spec := range serverproc.Specs(binDir, repoRoot) {
		if !spec.Go() {
			continue
		}
		t.Run(spec.Name, func(t *testing.T) {
			requireServer(t, spec)
			info, err := buildinfo.ReadFile(spec.Path)
			if err != nil {
				t.Fatal(err)
			}
			cgoSetting := ""
			for _, s := range info.Settings {
				if s.Key == "CGO_ENABLED" {
					cgoSetting = s.Value
				}
			}
			f, err := elf.Open(spec.Path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			syms, err := f.Symbols()
			if err != nil {
				t.Fatal(err)
			}
			linked := false
			for _, s := range syms {
				if strings.HasPrefix(s.Name, "runtime/cgo.") {
					linked = true
					break
				}
			}
			t.Logf("%s: CGO_ENABLED=%s, runtime/cgo linked: %v", spec.Path, cgoSetting, linked)
			if linked != spec.Cgo || (cgoSetting == "1") != spec.Cgo {
				t.Errorf("%s links runtime/cgo: %v (built with CGO_ENABLED=%s); the server table says cgo: %v",
					spec.Name, linked, cgoSetting, spec.Cgo)
			}
		})
	}
}
