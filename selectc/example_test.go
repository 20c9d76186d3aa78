//go:build linux

package selectc_test

import (
	"fmt"
	"os"
	"time"

	"github.com/selectc/selectc/selectc"
)

// The seed post's loop, in Go: wait on what can be read, written, or has
// an exceptional condition, then act on the ready objects themselves.
func ExampleSelect() {
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	inputs := []*os.File{r}
	outputs := []*os.File{w}

	readable, writable, exceptional, err := selectc.Select(inputs, outputs, inputs, time.Second)
	fmt.Println(len(readable), len(writable), len(exceptional), err)

	w.Write([]byte("hello"))
	readable, _, _, err = selectc.Select(inputs, nil, nil, time.Second)
	fmt.Println(len(readable) == 1 && readable[0] == r, err)
	// Output:
	// 0 1 0 <nil>
	// true <nil>
}

// An fd_set holds descriptors 0 through FdSetSize-1 and no others.
func ExampleFdSet() {
	var set selectc.FdSet
	set.Set(3)
	fmt.Println(set.IsSet(3), set.IsSet(4))
	fmt.Println(set.Set(selectc.FdSetSize))
	// Output:
	// true false
	// FD_SET: fd 1024: fd out of range for select (0 <= fd < FD_SETSIZE)
}

// A Timeval is rounded up to whole microseconds: a timeout never becomes a poll.
func ExampleNewTimeval() {
	fmt.Println(selectc.NewTimeval(1500*time.Millisecond), selectc.NewTimeval(1))
	// Output: {1 500000} {0 1}
}
