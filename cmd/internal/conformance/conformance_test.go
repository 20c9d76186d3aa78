package conformance

import (
	"testing"

	"github.com/selectc/selectc/cmd/internal/serverproc"
)

// scenario is one behaviour every server must show. Each runs against a
// server started fresh for it, so one scenario's damage cannot hide in
// another's result.
type scenario struct {
	name string
	// opt gives the server's options; nil means defaultOptions.
	opt func(spec serverproc.Spec) serverproc.Options
	run func(t *testing.T, s *server)
}

var scenarios = []scenario{
	{name: "post", run: testPost},
	{name: "ten_by_thirty", run: testTenByThirty},
	{name: "one_mib", run: testOneMiB},
	{name: "clean_close", run: testCleanClose},
	{name: "send_then_close", run: testSendThenClose},
	{name: "reset", run: testReset},
	{name: "half_close", run: testHalfClose},
	{name: "urgent", run: testUrgent},
	{name: "never_reader", run: testNeverReader},
	{name: "thousand", run: testThousand},
	{name: "fd_limit", opt: fdLimitOptions, run: testFDLimit},
	{name: "emfile", opt: emfileOptions, run: testEMFILE},
	{name: "emfile_churn", opt: emfileOptions, run: testEMFILEChurn},
	{name: "accept_enobufs", opt: injectOptions("ENOBUFS"), run: testAcceptError("ENOBUFS")},
	{name: "accept_einval", opt: injectOptions("EINVAL"), run: testAcceptError("EINVAL")},
	{name: "memory_returned", run: testMemoryReturned},
	{name: "flood_latency", run: testFloodLatency},
	{name: "idle_cpu", run: testIdleCPU},
	{name: "sigterm", run: testSIGTERM},
	{name: "sigterm_under_load", opt: oneCPUOptions, run: testSIGTERMUnderLoad},
}

// TestConformance runs every scenario against every server, one at a
// time: several scenarios measure CPU, memory or timing, and the machine
// has two cores.
func TestConformance(t *testing.T) {
	for _, spec := range serverproc.Specs(binDir, repoRoot) {
		t.Run(spec.Name, func(t *testing.T) {
			for _, sc := range scenarios {
				t.Run(sc.name, func(t *testing.T) {
					opt := defaultOptions
					if sc.opt != nil {
						opt = sc.opt(spec)
					}
					sc.run(t, startServer(t, spec, opt))
				})
			}
		})
	}
}
