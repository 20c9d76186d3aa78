//go:build windows

package selectc

/*
#include "selectpoller.h"
*/
import "C"

import "time"

// Windows has no fast path: Winsock's select is a library call, not a
// system call Go could make raw, so every wait goes to C. What the fast
// path is on Linux: fastpoll_linux.go.

type fastPoll struct{}

func (f *fastPoll) init(*C.selectpoller) {}

func (f *fastPoll) wait([]PollEvent, time.Duration) (int, bool) { return 0, false }

type fastBatch struct{}

func (b *batch) pollFast(time.Duration) bool { return false }

func selectFDs[T Filer](*Selector[T], []T, []T, []T, time.Duration) bool { return false }
