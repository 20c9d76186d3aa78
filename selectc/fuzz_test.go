//go:build linux

package selectc

import "testing"

// FuzzFdSet drives an FdSet with a byte program and checks it against a
// plain map. Each step is 3 bytes: an op and a little-endian fd biased so
// that -64..1087 (both sides of the range) are reached.
func FuzzFdSet(f *testing.F) {
	f.Add([]byte{0, 0, 0})
	f.Add([]byte{0, 0x3f, 0x04, 1, 0x3f, 0x04, 2, 0x3f, 0x04}) // fd 1023: set, clr, isset
	f.Add([]byte{0, 0x40, 0x04, 0, 0x3f, 0x00, 3, 0, 0})       // fd 1024 and fd -1, then zero
	f.Add([]byte{0, 0x80, 0x00, 0, 0x81, 0x00, 1, 0x80, 0x00, 2, 0x81, 0x00})
	f.Fuzz(func(t *testing.T, prog []byte) {
		var s FdSet
		model := map[int]bool{}
		for i := 0; i+3 <= len(prog); i += 3 {
			fd := (int(prog[i+1])|int(prog[i+2])<<8)%(FdSetSize+128) - 64
			inRange := fd >= 0 && fd < FdSetSize
			switch prog[i] % 4 {
			case 0:
				err := s.Set(fd)
				if (err == nil) != inRange {
					t.Fatalf("Set(%d) = %v", fd, err)
				}
				if inRange {
					model[fd] = true
				}
			case 1:
				s.Clr(fd)
				delete(model, fd)
			case 2:
				if s.IsSet(fd) != model[fd] {
					t.Fatalf("IsSet(%d) = %v, model says %v", fd, s.IsSet(fd), model[fd])
				}
			case 3:
				s.Zero()
				clear(model)
			}
		}
		n := 0
		for fd := 0; fd < FdSetSize; fd++ {
			if bits(&s).IsSet(fd) != model[fd] {
				t.Fatalf("bit %d = %v, model says %v", fd, bits(&s).IsSet(fd), model[fd])
			}
			if model[fd] {
				n++
			}
		}
		if n != len(model) {
			t.Fatalf("model holds %d out-of-range fds", len(model)-n)
		}
	})
}
