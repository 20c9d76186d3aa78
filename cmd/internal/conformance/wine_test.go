package conformance

import (
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// wineScenarios are the echo checks of scenarios that TestWine runs: the
// others read /proc, set rlimits or inject faults into Linux programs.
var wineScenarios = []string{"post", "ten_by_thirty", "half_close", "reset"}

// TestWine runs the echo checks (the post's messages, many clients,
// half-close, reset) from Linux against the Windows servers running under
// wine (serverproc.WineSpecs). make test-cross runs it in its
// windows-amd64 row, with SELECTC_WINE_BIN the folder make windows built
// into, WINE the wine64 program and WINEPREFIX a prefix .ci/wine-prefix
// made; without SELECTC_WINE_BIN it skips, saying so.
func TestWine(t *testing.T) {
	dir := os.Getenv("SELECTC_WINE_BIN")
	if dir == "" {
		t.Skip("SELECTC_WINE_BIN unset: the Windows servers run under wine in make test-cross")
	}
	wine := os.Getenv("WINE")
	if wine == "" {
		wine = "wine64"
	}
	if _, err := exec.LookPath(wine); err != nil {
		t.Fatalf("wine: %v (make test-cross sets WINE)", err)
	}
	for _, spec := range serverproc.WineSpecs(dir, wine) {
		t.Run(spec.Name, func(t *testing.T) {
			for _, sc := range scenarios {
				if slices.Contains(wineScenarios, sc.name) {
					t.Run(sc.name, func(t *testing.T) { sc.run(t, startServer(t, spec, defaultOptions)) })
				}
			}
		})
	}
}
