package conformance

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
)

// tcpQueue is what the kernel holds for one TCP socket: bytes written and
// not yet acknowledged (or not yet sent), and bytes received and not yet read.
type tcpQueue struct{ tx, rx uint64 }

// tcpQueueOf finds the IPv4 socket local→remote in /proc/net/tcp. The
// table lists every socket of the network namespace, the server's
// included, so the test can see both ends of a loopback connection.
func tcpQueueOf(local, remote netip.AddrPort) (tcpQueue, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return tcpQueue{}, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local rem st tx:rx ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		l, err1 := parseProcAddr(fields[1])
		r, err2 := parseProcAddr(fields[2])
		if err1 != nil || err2 != nil || l != local || r != remote {
			continue
		}
		txs, rxs, _ := strings.Cut(fields[4], ":")
		tx, err1 := strconv.ParseUint(txs, 16, 64)
		rx, err2 := strconv.ParseUint(rxs, 16, 64)
		if err1 != nil || err2 != nil {
			return tcpQueue{}, fmt.Errorf("/proc/net/tcp: bad queues %q", fields[4])
		}
		return tcpQueue{tx, rx}, nil
	}
	if err := sc.Err(); err != nil {
		return tcpQueue{}, err
	}
	return tcpQueue{}, fmt.Errorf("/proc/net/tcp: no socket %v -> %v", local, remote)
}

// parseProcAddr reads "0100007F:1F90": an IPv4 address as the kernel's
// 32-bit word in host (little-endian) order, then the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	a, p, ok := strings.Cut(s, ":")
	b, err := hex.DecodeString(a)
	if !ok || err != nil || len(b) != 4 {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	port, err := strconv.ParseUint(p, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", s)
	}
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[3], b[2], b[1], b[0]}), uint16(port)), nil
}
