package loadgen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
)

// patternSlack is how far the body of a message may slide along the
// connection's pattern; the slide changes with every message so that two
// consecutive messages never carry the same bytes even without the header.
const patternSlack = 251

// headerLen is the number of leading bytes that carry the message's sequence
// number (XORed with the connection's key). It makes a dropped, duplicated or
// reordered message show up as a mismatch on its very first bytes.
const headerLen = 8

// pattern generates and checks the messages of one connection. Message m of
// connection c is fully determined by (seed, c, m), so the checker needs no
// copy of what was sent.
type pattern struct {
	key  uint64
	body []byte // size-headerLen+patternSlack pseudo-random bytes
	size int
}

func newPattern(seed uint64, conn, size int) *pattern {
	r := rand.New(rand.NewPCG(seed, uint64(conn)*0x9e3779b97f4a7c15+1))
	n := max(size-headerLen, 0) + patternSlack
	body := make([]byte, n)
	for i := 0; i < n; i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], r.Uint64())
		copy(body[i:], w[:])
	}
	return &pattern{key: r.Uint64(), body: body, size: size}
}

func (p *pattern) header(seq uint64) [headerLen]byte {
	var h [headerLen]byte
	binary.LittleEndian.PutUint64(h[:], seq^p.key)
	return h
}

func (p *pattern) bodyOf(seq uint64) []byte {
	off := int(seq % patternSlack)
	return p.body[off : off+max(p.size-headerLen, 0)]
}

// fill writes message seq into dst (len(dst) == size).
func (p *pattern) fill(dst []byte, seq uint64) {
	h := p.header(seq)
	n := copy(dst, h[:])
	copy(dst[n:], p.bodyOf(seq))
}

// check reports whether got is message seq, and if not, where it differs.
func (p *pattern) check(got []byte, seq uint64) error {
	h := p.header(seq)
	n := min(headerLen, p.size)
	if !bytes.Equal(got[:n], h[:n]) {
		return p.mismatch(got, seq)
	}
	if !bytes.Equal(got[n:], p.bodyOf(seq)) {
		return p.mismatch(got, seq)
	}
	return nil
}

// mismatch builds a precise error; it runs only on failure, so it may be slow.
func (p *pattern) mismatch(got []byte, seq uint64) error {
	want := make([]byte, p.size)
	p.fill(want, seq)
	for i := range want {
		if got[i] != want[i] {
			return fmt.Errorf("message %d: byte %d of %d is %#02x, want %#02x", seq, i, p.size, got[i], want[i])
		}
	}
	return fmt.Errorf("message %d: mismatch", seq)
}
