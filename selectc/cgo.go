package selectc

/*
#cgo CFLAGS: -I${SRCDIR}/../csrc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
#include "selectshim.h"
*/
import "C"

// cgoCall makes one cgo crossing that does nothing useful; benchmarks use it
// to price a crossing on its own.
func cgoCall() { C.shim_fd_setsize() }
