//go:build !linux

package selectc

// selectc runs on Linux only for now: the descriptor that wakes a select
// early is an eventfd, and only Linux is tested (README, "Platforms").
// Every other file of the package is built for Linux alone, so that on any
// other system this undefined name is the one error, saying why.
var _ = selectc_supports_only_linux__its_wake_descriptor_is_an_eventfd
