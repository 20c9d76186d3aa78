package selectc

import (
	"os/exec"
	"testing"
)

// The C in this folder must be compiled with csrc/flags.mk's flags, their
// one home: this fails when flags.mk changed and cgo_flags.go was not
// generated again (go generate ./selectc; make does it).
func TestGeneratedCgoFlagsAreCurrent(t *testing.T) {
	out, err := exec.Command(goTool(t), "run", "../cmd/internal/gencgo", "-check").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}
