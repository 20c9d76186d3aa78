//go:build linux

package selectc

import (
	"context"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fdMutator is a Filer whose Fd may run code of the caller's, as
// CPython's test_select_mutated has fileno() delete from the list being
// selected on. calls counts its Fd calls.
type fdMutator struct {
	name   string
	fd     FD
	mutate func()
	calls  int
}

func (m *fdMutator) Fd() uintptr {
	m.calls++
	if m.mutate != nil {
		m.mutate()
	}
	return uintptr(m.fd)
}

// TestSelectMutatedList: the first element's Fd overwrites both elements
// of the caller's list with decoys, whose descriptor is never ready. Every
// form of Select must watch and return the two elements it was given, for
// each of the three lists, and never call a decoy's Fd.
func TestSelectMutatedList(t *testing.T) {
	for _, list := range []string{"read", "write", "except"} {
		t.Run(list, func(t *testing.T) {
			ready := readyInList(t, list)
			idle, _ := pipe(t) // an empty pipe's read end: never ready in any list
			calls := map[string]func(r, w, x []Filer) (gr, gw, gx []Filer, err error){
				"Select": func(r, w, x []Filer) ([]Filer, []Filer, []Filer, error) {
					return Select(r, w, x, time.Second)
				},
				"Selector.Select": func(r, w, x []Filer) ([]Filer, []Filer, []Filer, error) {
					var s Selector[Filer]
					return s.Select(r, w, x, time.Second)
				},
				"SelectContext": func(r, w, x []Filer) ([]Filer, []Filer, []Filer, error) {
					ctx, cancel := context.WithCancel(context.Background()) // cancellable: the wake path
					defer cancel()
					return SelectContext(ctx, r, w, x, time.Second)
				},
				"Selector.SelectContext": func(r, w, x []Filer) ([]Filer, []Filer, []Filer, error) {
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					var s Selector[Filer]
					return s.SelectContext(ctx, r, w, x, time.Second)
				},
			}
			for name, call := range calls {
				t.Run(name, func(t *testing.T) {
					a := &fdMutator{name: "a", fd: ready[0]}
					b := &fdMutator{name: "b", fd: ready[1]}
					decoys := []*fdMutator{{name: "decoy0", fd: FD(idle.Fd())}, {name: "decoy1", fd: FD(idle.Fd())}}
					given := []Filer{a, b}
					a.mutate = func() { given[0], given[1] = decoys[0], decoys[1] }
					lists := [3][]Filer{}
					k := slices.Index([]string{"read", "write", "except"}, list)
					lists[k] = given
					r, w, x, err := call(lists[0], lists[1], lists[2])
					if err != nil {
						t.Fatal(err)
					}
					got := [3][]Filer{r, w, x}
					for i := range got {
						want := []Filer{}
						if i == k {
							want = []Filer{a, b}
						}
						if !slices.Equal(got[i], want) {
							t.Errorf("list %d: got %s, want %s", i, names(got[i]), names(want))
						}
					}
					if given[0] != decoys[0] {
						t.Fatal("a's Fd did not mutate the list: the test proves nothing")
					}
					if a.calls != 1 || b.calls != 1 {
						t.Errorf("Fd calls: a %d, b %d; want 1 each", a.calls, b.calls)
					}
					for _, d := range decoys {
						if d.calls != 0 {
							t.Errorf("%s's Fd was called %d times: an element written into the list during the call was watched", d.name, d.calls)
						}
					}
				})
			}
		})
	}
}

// readyInList returns two descriptors ready in the named list.
func readyInList(t *testing.T, list string) [2]FD {
	var fds [2]FD
	for i := range fds {
		switch list {
		case "read":
			fds[i] = FD(readyPipe(t).Fd())
		case "write":
			_, w := pipe(t)
			fds[i] = FD(w.Fd())
		case "except":
			c, s := tcpPair(t)
			if err := unix.Sendto(int(c), []byte("!"), unix.MSG_OOB, nil); err != nil {
				t.Fatal(err)
			}
			// The urgent byte may still be on its way: wait until it is there.
			if _, _, x := mustSelect(t, nil, nil, []FD{s}, time.Second); len(x) != 1 {
				t.Fatal("urgent data did not arrive")
			}
			fds[i] = s
		}
	}
	return fds
}

// names lists the elements' names for a failure message.
func names(l []Filer) []string {
	out := make([]string, len(l))
	for i, f := range l {
		if m, ok := f.(*fdMutator); ok {
			out[i] = m.name
		} else {
			out[i] = "?"
		}
	}
	return out
}
