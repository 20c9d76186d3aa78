//go:build !asan

package selectc

// asanBuild: see asan_on_test.go.
const asanBuild = false
