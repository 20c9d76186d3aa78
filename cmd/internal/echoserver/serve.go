package echoserver

import (
	"errors"
	"io"
)

// Serve does for c what every loop's round does for one ready descriptor:
// read the urgent byte of an exceptional condition, then read and echo at
// once when it is readable, then send what is queued when it is writable;
// with -v it logs the post's lines. The urgent byte goes first, or the
// read could pass its mark and lose it (README, "The servers"). It reports
// whether c is finished and must be closed: broken (the error is logged
// here), or done after the client's EOF with everything echoed. Otherwise
// the caller watches c for what WantRead and WantWrite now say.
func (cfg *Config) Serve(c *Conn, buf []byte, readable, writable, urgent bool) (finished bool) {
	var err error
	if urgent {
		err = cfg.takeUrgent(c)
	}
	if err == nil && readable {
		var n, sent int
		n, sent, err = c.ReadEcho(buf)
		if cfg.Verbose && n > 0 { // checked here: building the arguments would allocate
			cfg.Log.Info("received", "bytes", n, "from", c.Peer)
			if sent > 0 {
				cfg.Log.Info("sending", "bytes", sent, "to", c.Peer)
			}
		}
	}
	if err == nil && writable && c.WantWrite() {
		var sent int
		sent, err = c.Flush()
		if cfg.Verbose && sent > 0 {
			cfg.Log.Info("sending", "bytes", sent, "to", c.Peer)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		cfg.Log.Warn("connection error", "peer", c.Peer, "fd", c.Fd, "err", err)
		return true
	}
	return c.Done()
}

// takeUrgent reads and logs the urgent byte of c after select reported an
// exceptional condition on it (see ReadUrgent). An error means the
// connection is broken; the caller closes it.
func (cfg *Config) takeUrgent(c *Conn) error {
	b, ok, err := c.ReadUrgent()
	if ok {
		cfg.Log.Warn("urgent data read and dropped, the connection goes on", "peer", c.Peer, "fd", c.Fd, "byte", b)
	}
	return err
}
