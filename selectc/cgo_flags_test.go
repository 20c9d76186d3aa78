package selectc

import (
	"os/exec"
	"testing"
)

// The C this package is built from must be the C on disk. The go command
// hashes only this folder's files, so cgo_flags.go carries a fingerprint of
// the csrc/ sources and flags; this fails when they changed and the file
// was not generated again (go generate ./selectc; make does it).
func TestGeneratedCgoFlagsAreCurrent(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to check cgo_flags.go: %v", err)
	}
	out, err := exec.Command(goBin, "run", "../cmd/internal/gencgo", "-check").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if csrcSum == "" {
		t.Fatal("no fingerprint of the C sources in cgo_flags.go")
	}
}
