// cgo compiles only the .c files in the package folder: this pulls in the
// shared shims, so selectc and the C prototype server use the very same code.
#include "../csrc/selectshim.c"
