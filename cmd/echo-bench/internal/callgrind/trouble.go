package callgrind

// Telling valgrind's own failures from the server's, by what valgrind
// printed.

import (
	"regexp"
	"strings"
)

// valgrindTrouble reads a failed run's error and valgrind's output (the
// server's log, which the error carries) and says in plain words whether
// valgrind itself broke the run, or "" when it did not.
func valgrindTrouble(text string) string {
	var why []string
	switch {
	case strings.Contains(text, "0xF 0x1 0xF9"): // the opcode bytes vex prints for RDTSCP
		why = append(why, "valgrind met RDTSCP, an instruction it does not emulate (unhandled instruction 0F 01 F9)")
	case strings.Contains(text, "unhandled instruction"):
		why = append(why, "valgrind met an instruction it does not emulate ("+lineWith(text, "unhandled instruction")+")")
	}
	if line := lineWith(text, "Process terminating with default action of signal"); line != "" {
		why = append(why, "valgrind reports the server killed: "+line)
	}
	if strings.Contains(text, "Assertion") || strings.Contains(text, "the 'impossible' happened") {
		why = append(why, "valgrind failed one of its own internal checks ("+lineWith(text, "Assertion", "impossible")+")")
	}
	if len(why) == 0 && strings.Contains(text, "connection reset by peer") {
		why = append(why, "the server under valgrind reset the connection without a word from valgrind")
	}
	return strings.Join(why, "; ")
}

// lineWith returns the first line of text holding any of subs, without
// valgrind's "==PID==" prefix.
func lineWith(text string, subs ...string) string {
	for line := range strings.Lines(text) {
		for _, sub := range subs {
			if strings.Contains(line, sub) {
				return strings.TrimSpace(valgrindPrefix.ReplaceAllString(line, ""))
			}
		}
	}
	return ""
}

// valgrindPrefix is what valgrind puts before each line it prints.
var valgrindPrefix = regexp.MustCompile(`^\s*==\d+==\s*`)
