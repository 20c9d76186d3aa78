// cgo compiles only the .c files in the package folder: this pulls in the
// C registry and wait behind Poller.
#include "../csrc/selectpoller.c"
