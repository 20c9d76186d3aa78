package selectc

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// The misuse matrix: every exported method of every exported type, called
// on a zero value and, for the types with a Close, on a nil pointer, after
// Close, after two Closes and concurrently with a Close from another
// goroutine. Each call must return its documented result (for a Poller or
// Loop that cannot be used, an error wrapping ErrClosed) and never crash
// or hang. The methods are found by reflection and their arguments made
// from argument types, so a method added later is covered without anyone
// adding it here; a type added later fails TestMisuseCoversEveryType until
// it has a row in misuseTypes.

// misuseType is one exported type of the package: a pointer to its zero
// value, and for a type with a Close, how to make a working one.
type misuseType struct {
	zero func() reflect.Value             // a *T pointing at T's zero value
	open func(t *testing.T) reflect.Value // a *T ready to use; nil: the type has no Close
}

// zeroOf makes misuseType.zero for T.
func zeroOf[T any]() func() reflect.Value {
	return func() reflect.Value { return reflect.ValueOf(new(T)) }
}

// misuseTypes has a row per exported type that has methods.
var misuseTypes = map[string]misuseType{
	"Poller": {zero: zeroOf[Poller](), open: func(t *testing.T) reflect.Value {
		p, err := NewPoller()
		if err != nil {
			t.Fatal(err)
		}
		return reflect.ValueOf(p)
	}},
	"Loop": {zero: zeroOf[Loop](), open: func(t *testing.T) reflect.Value {
		l, err := NewLoop()
		if err != nil {
			t.Fatal(err)
		}
		return reflect.ValueOf(l)
	}},
	"Selector":     {zero: zeroOf[Selector[FD]]()},
	"FdSet":        {zero: zeroOf[FdSet]()},
	"FdError":      {zero: zeroOf[FdError]()},
	"HandlerPanic": {zero: zeroOf[HandlerPanic]()},
	"Events":       {zero: zeroOf[Events]()},
	"FD":           {zero: zeroOf[FD]()},
	"Timeval":      {zero: zeroOf[Timeval]()},
	"PollEvent":    {zero: zeroOf[PollEvent]()},
}

// misuseInterfaces are the exported interface types: a zero interface has
// no method to call.
var misuseInterfaces = []string{"Filer", "Handler"}

// TestMisuseCoversEveryType fails for an exported type of the package
// (read from its source) that has no row in misuseTypes.
func TestMisuseCoversEveryType(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var missing []string
	n := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.TYPE {
				continue
			}
			for _, s := range g.Specs {
				ts := s.(*ast.TypeSpec)
				if !ts.Name.IsExported() {
					continue
				}
				n++
				if _, ok := misuseTypes[ts.Name.Name]; !ok && !slices.Contains(misuseInterfaces, ts.Name.Name) {
					missing = append(missing, ts.Name.Name+" ("+name+")")
				}
			}
		}
	}
	if n < len(misuseTypes)+len(misuseInterfaces) {
		t.Fatalf("found %d exported types in the package's source, fewer than misuseTypes and misuseInterfaces name: is the source there?", n)
	}
	if len(missing) > 0 {
		t.Fatalf("exported types with no row in misuseTypes (misuse_test.go): %s", strings.Join(missing, ", "))
	}
}

// misuseArgs makes an argument for each parameter type a method of the
// package takes. The descriptor is a connected socket holding a byte, so
// that a select on it returns at once; the timeout is Forever, so that a
// wait only ends when something (Close, above all) ends it.
type misuseArgs struct {
	fd int
}

func (a misuseArgs) value(t *testing.T, m reflect.Method, typ reflect.Type) reflect.Value {
	var v any
	switch typ {
	case reflect.TypeFor[int]():
		v = a.fd
	case reflect.TypeFor[Events]():
		v = Read
	case reflect.TypeFor[Handler]():
		v = Handler(handlerFunc(func(int, Events) {}))
	case reflect.TypeFor[context.Context]():
		// Bounded, for a Loop.Run that a Close racing with it cannot end
		// (Close fails with ErrLoopRunning then); every other call must
		// return well before it.
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		t.Cleanup(cancel)
		v = ctx
	case reflect.TypeFor[[]PollEvent]():
		v = make([]PollEvent, 8)
	case reflect.TypeFor[time.Duration]():
		v = Forever
	case reflect.TypeFor[[]FD]():
		v = []FD{FD(a.fd)}
	case reflect.TypeFor[unsafe.Pointer]():
		// Timeval.ToC's struct timeval: room for any platform's, aligned
		// for it (cinterop_test.go checks what it writes, and ToC(nil)).
		v = unsafe.Pointer(new([4]uint64))
	default:
		t.Fatalf("%s takes a %s: add a sample value for it to misuseArgs.value", m.Name, typ)
	}
	return reflect.ValueOf(v).Convert(typ)
}

// callResult is what one method call did.
type callResult struct {
	err      error // its error result, if it has one
	panicked any
}

// call calls method m of recv with sample arguments on a goroutine of its
// own, and fails t if it has not returned within hang.
func (a misuseArgs) call(t *testing.T, recv reflect.Value, m reflect.Method) <-chan callResult {
	t.Helper()
	fn := recv.Method(m.Index)
	args := make([]reflect.Value, fn.Type().NumIn())
	for i := range args {
		args[i] = a.value(t, m, fn.Type().In(i))
	}
	done := make(chan callResult, 1)
	go func() {
		var r callResult
		defer func() {
			r.panicked = recover()
			done <- r
		}()
		out := fn.Call(args)
		if n := len(out); n > 0 && out[n-1].Type() == reflect.TypeFor[error]() && !out[n-1].IsNil() {
			r.err = out[n-1].Interface().(error)
		}
	}()
	return done
}

// hang is how long a call may take before it counts as hung.
const hang = 5 * time.Second

// await returns the call's result, failing t if it panicked or hung.
func await(t *testing.T, what string, done <-chan callResult) error {
	t.Helper()
	select {
	case r := <-done:
		if r.panicked != nil {
			t.Fatalf("%s panicked: %v", what, r.panicked)
		}
		return r.err
	case <-time.After(hang):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s has not returned after %v:\n%s", what, hang, buf[:runtime.Stack(buf, true)])
		return nil
	}
}

// methods lists the exported methods of *T, Close last.
func methods(ptr reflect.Type) []reflect.Method {
	var ms []reflect.Method
	for i := range ptr.NumMethod() {
		ms = append(ms, ptr.Method(i))
	}
	slices.SortStableFunc(ms, func(a, b reflect.Method) int {
		return compareBool(a.Name == "Close", b.Name == "Close")
	})
	return ms
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func TestMisuse(t *testing.T) {
	before := liveHandles.Load()
	args := misuseArgs{fd: int(readySocket(t))}
	names := make([]string, 0, len(misuseTypes))
	for name := range misuseTypes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		mt := misuseTypes[name]
		ptr := mt.zero().Type()
		t.Run(name, func(t *testing.T) {
			var ms []string
			for _, m := range methods(ptr) {
				ms = append(ms, m.Name)
			}
			t.Logf("%s: %s", ptr, strings.Join(ms, ", "))
			if mt.open == nil {
				t.Run("zero", func(t *testing.T) { misuseZeroUsable(t, args, mt, ptr) })
				return
			}
			states := []struct {
				name string
				make func(t *testing.T) reflect.Value
			}{
				{"zero", func(*testing.T) reflect.Value { return mt.zero() }},
				{"nil", func(*testing.T) reflect.Value { return reflect.Zero(ptr) }},
				{"closed", func(t *testing.T) reflect.Value { return closedN(t, mt, 1) }},
				{"closed_twice", func(t *testing.T) reflect.Value { return closedN(t, mt, 2) }},
			}
			for _, st := range states {
				t.Run(st.name, func(t *testing.T) {
					for _, m := range methods(ptr) {
						err := await(t, name+"."+m.Name, args.call(t, st.make(t), m))
						if !errors.Is(err, ErrClosed) {
							t.Errorf("%s.%s on a %s %s: %v, want an error wrapping ErrClosed", name, m.Name, st.name, name, err)
						}
					}
				})
			}
			t.Run("concurrent_close", func(t *testing.T) { misuseConcurrentClose(t, args, mt, ptr) })
		})
	}
	if n := liveHandles.Load() - before; n != 0 {
		t.Errorf("%d Loop handles still live after every Loop was closed", n)
	}
}

// misuseZeroUsable calls every method of a type with no Close on its zero
// value, which the package documents as ready to use: no panic, no hang,
// no error.
func misuseZeroUsable(t *testing.T, args misuseArgs, mt misuseType, ptr reflect.Type) {
	for _, m := range methods(ptr) {
		what := ptr.Elem().Name() + "." + m.Name
		if err := await(t, what, args.call(t, mt.zero(), m)); err != nil {
			t.Errorf("%s on the zero value: %v, want no error", what, err)
		}
	}
}

// closedN opens a value and closes it n times: the first Close must
// succeed, every other one fail with ErrClosed.
func closedN(t *testing.T, mt misuseType, n int) reflect.Value {
	t.Helper()
	v := mt.open(t)
	for i := range n {
		err := closeValue(v)
		if ok := (i == 0 && err == nil) || (i > 0 && errors.Is(err, ErrClosed)); !ok {
			t.Fatalf("Close number %d: %v", i+1, err)
		}
	}
	return v
}

func closeValue(v reflect.Value) error {
	err, _ := v.MethodByName("Close").Call(nil)[0].Interface().(error)
	return err
}

// misuseConcurrentClose calls each method on a fresh value while another
// goroutine closes it, at several delays so that the Close lands before
// the call, during it (inside C, for a wait) and after it. The call must
// return (a blocked wait ended by the Close), with no error or one its
// doc names for this case; the Close must succeed, or fail with the error
// its doc names (ErrLoopRunning while a Loop runs; ErrClosed when it raced
// with a Close call under test).
func misuseConcurrentClose(t *testing.T, args misuseArgs, mt misuseType, ptr reflect.Type) {
	delays := []time.Duration{0, time.Microsecond, 100 * time.Microsecond, time.Millisecond, 5 * time.Millisecond}
	allowed := []error{ErrClosed, ErrNotRegistered, ErrLoopRunning}
	for _, m := range methods(ptr) {
		what := ptr.Elem().Name() + "." + m.Name
		for round, d := range slices.Concat(delays, delays) {
			v := mt.open(t)
			done := args.call(t, v, m)
			if d > 0 {
				time.Sleep(d)
			}
			closeErr := closeValue(v)
			err := await(t, fmt.Sprintf("%s racing with Close (round %d)", what, round), done)
			if err != nil && !slices.ContainsFunc(allowed, func(e error) bool { return errors.Is(err, e) }) {
				t.Errorf("%s racing with Close after %v: %v", what, d, err)
			}
			if closeErr != nil && !errors.Is(closeErr, ErrClosed) && !errors.Is(closeErr, ErrLoopRunning) {
				t.Errorf("Close racing with %s after %v: %v", what, d, closeErr)
			}
			// Whatever the race left, one more Close must leave the value
			// closed: nil now, or ErrClosed if a Close already succeeded.
			if err := closeValue(v); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Close after %s raced with Close: %v", what, err)
			}
		}
	}
}

// A Poller or Loop copied by value would share its C state with the
// original: go vet's copylocks check must report the copies in
// testdata/vetcopy, through their noCopy fields.
func TestVetReportsCopies(t *testing.T) {
	out, err := exec.Command(goTool(t), "vet", "./testdata/vetcopy").CombinedOutput()
	if err == nil {
		t.Fatalf("go vet passed a package that copies a Poller and a Loop:\n%s", out)
	}
	const pkg = "github.com/selectc/selectc/selectc."
	for _, want := range []string{pkg + "Poller contains " + pkg + "noCopy", pkg + "Loop contains " + pkg + "noCopy"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("go vet did not say %q:\n%s", want, out)
		}
	}
}
