//go:build unix

package echoserver

import (
	"context"
	"os"

	"golang.org/x/sys/unix"
)

// wakePipe is the self-pipe trick: a select blocked with no timeout cannot
// see a context, but it can see a pipe. When ctx is done a byte is written,
// the read end (which sits in inputs) turns readable, and the loop ends.
type wakePipe struct {
	r, w int
	stop func() bool
}

func newWakePipe(ctx context.Context) (*wakePipe, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return nil, os.NewSyscallError("pipe2", err)
	}
	wp := &wakePipe{r: p[0], w: p[1]}
	wp.stop = context.AfterFunc(ctx, func() { unix.Write(wp.w, []byte{0}) })
	return wp, nil
}

func (wp *wakePipe) Close() {
	wp.stop()
	unix.Close(wp.r)
	unix.Close(wp.w)
}
