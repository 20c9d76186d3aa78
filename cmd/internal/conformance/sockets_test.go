package conformance

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// clientSockets counts the connected TCP sockets the server holds: its
// descriptors that are sockets listed in /proc/net/tcp{,6} in any state
// but LISTEN. Unlike a plain descriptor count it ignores whatever a
// runtime opens for itself, so "no clients left" is exact.
func (s *server) clientSockets() (int, error) {
	dir := fmt.Sprintf("/proc/%d/fd", s.PID())
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	inodes := make(map[string]bool)
	for _, e := range ents {
		link, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue // closed since ReadDir
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	n := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		m, err := countConnected(table, inodes)
		if err != nil && !os.IsNotExist(err) {
			return 0, err
		}
		n += m
	}
	return n, nil
}

// countConnected counts the rows of a /proc/net/tcp table whose inode is
// in inodes and whose state is not LISTEN (0A).
func countConnected(path string, inodes map[string]bool) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	n := 0
	for sc.Scan() {
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 {
			continue
		}
		if fields[3] != "0A" && inodes[fields[9]] {
			n++
		}
	}
	return n, sc.Err()
}
