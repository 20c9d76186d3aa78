//go:build unix

package echoserver

// Table holds a value per descriptor. On Unix a client's descriptor is
// below FdSetSize (acceptOne refuses the others), so it is an array
// indexed by the descriptor; table_windows.go says why Windows differs.
type Table[T comparable] struct{ s []T }

// NewTable returns an empty Table.
func NewTable[T comparable]() Table[T] { return Table[T]{make([]T, FdSetSize)} }

// Get returns fd's value, or the zero value.
func (t *Table[T]) Get(fd int) T { return t.s[fd] }

// Set stores v for fd; the zero value forgets fd.
func (t *Table[T]) Set(fd int, v T) { t.s[fd] = v }

// Values returns every value stored, zero values included (callers skip them).
func (t *Table[T]) Values() []T { return t.s }
