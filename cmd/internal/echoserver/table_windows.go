//go:build windows

package echoserver

// Table holds a value per descriptor. On Windows a descriptor is a SOCKET
// handle, whose value says nothing about how many sockets there are
// (Winsock's FD_SETSIZE counts them), so it is a map.
type Table[T comparable] struct{ m map[int]T }

// NewTable returns an empty Table.
func NewTable[T comparable]() Table[T] { return Table[T]{make(map[int]T)} }

// Get returns fd's value, or the zero value.
func (t *Table[T]) Get(fd int) T { return t.m[fd] }

// Set stores v for fd; the zero value forgets fd.
func (t *Table[T]) Set(fd int, v T) {
	var zero T
	if v == zero {
		delete(t.m, fd)
		return
	}
	t.m[fd] = v
}

// Values returns every value stored.
func (t *Table[T]) Values() []T {
	vs := make([]T, 0, len(t.m))
	for _, v := range t.m {
		vs = append(vs, v)
	}
	return vs
}
