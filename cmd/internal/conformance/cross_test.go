package conformance

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// TestCrossClients runs each language's client against another language's
// server: both must exit 0.
func TestCrossClients(t *testing.T) {
	specs := serverproc.Specs(binDir, repoRoot)
	pyClient := filepath.Join(repoRoot, "cmd", "echo-py", "echo_client.py")
	goClient := filepath.Join(binDir, "echo-client")
	cases := []struct {
		name   string
		server string
		client serverproc.Spec // Path and Args of the client; -addr is appended
	}{
		{"py-client/go-select", "go-select", serverproc.Spec{Name: "py-client", Path: "python3", Args: []string{pyClient}}},
		{"echo-client/py", "py", serverproc.Spec{Name: "echo-client", Path: goClient}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requireServer(t, tc.client)
			spec, ok := serverproc.Lookup(specs, tc.server)
			if !ok {
				t.Fatalf("no server %q", tc.server)
			}
			s := startServer(t, spec, defaultOptions)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append(append([]string{}, tc.client.Args...), "-addr", s.Addr)
			cmd := exec.CommandContext(ctx, tc.client.Path, args...)
			cmd.WaitDelay = time.Second
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", cmd, err, out)
			}
			t.Logf("%s:\n%s", cmd, logTail(string(out)))
		})
	}
}
