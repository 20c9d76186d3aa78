package serverproc

import (
	"path/filepath"
	"syscall"
)

// WineSpecs describes the Windows servers (make windows) that run under
// wine, with the binaries in winBinDir and wine the wine64 program: the C
// prototype and the Go server in its select and poller designs. They
// listen on 127.0.0.1 like the others, so the conformance suite reaches
// them from Linux; their timings are wine's, never Windows', and the
// benchmark leaves them out. The wine prefix comes from WINEPREFIX in the
// environment (.ci/wine-prefix makes one).
func WineSpecs(winBinDir, wine string) []Spec {
	exe := func(name string) string { return filepath.Join(winBinDir, name) }
	env := []string{"WINEDEBUG=-all"}
	return []Spec{
		{Name: "win-c", Lang: "C", Source: "csrc/echo_server.c", Path: wine, Args: []string{exe("echo-server-c.exe")},
			Env: env, Engine: EngineSelect, StopSignal: syscall.SIGINT,
			Note: "the C prototype built with mingw-w64, on Winsock's select, under wine"},
		{Name: "win-go-select", Lang: "Go", Source: "cmd/echo-server", Path: wine,
			Args: []string{exe("echo-server.exe"), "-mode=select"}, Env: env, Engine: EngineSelect, Cgo: true,
			SpareP: true, StopSignal: syscall.SIGINT,
			Note: "Go on selectc.Selector on Winsock, under wine"},
		{Name: "win-go-poller", Lang: "Go", Source: "cmd/echo-server/poller.go", Path: wine,
			Args: []string{exe("echo-server.exe"), "-mode=poller"}, Env: env, Engine: EngineSelect, Cgo: true,
			SpareP: true, StopSignal: syscall.SIGINT,
			Note: "Go on selectc.Poller on Winsock, under wine"},
	}
}
