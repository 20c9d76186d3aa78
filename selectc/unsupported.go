//go:build !linux && !windows

package selectc

// selectc runs on Linux and Windows (README, "Platforms"): the wake
// descriptor (an eventfd, a loopback socket) and the fd_set rules (a bit
// mask, Winsock's list) exist for those two alone. Every other file of the
// package is built for them alone, so that on any other system this
// undefined name is the one error, saying why.
var _ = selectc_supports_only_linux_and_windows__see_the_README_Platforms
