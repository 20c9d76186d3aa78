// cgo compiles only the .c files in the package folder: this pulls in the
// C event loop behind Loop.
#include "../csrc/selectloop.c"
