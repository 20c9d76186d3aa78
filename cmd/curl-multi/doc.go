// Command curl-multi is libcurl's multi interface driven by selectc: the
// loop of curl's own multi-app example, in Go. curl_multi_fdset fills three
// selectc.FdSets through FdSet.CPointer, selectc.SelectFdSet waits on them
// for as long as curl_multi_timeout says, and curl_multi_perform moves every
// transfer on; a context (SIGINT) ends the loop at once, every handle freed.
//
//	curl-multi [-n 20] [-size 100000] [-timeout 30s] [URL...]
//
// With no URL it starts an HTTP server of its own on 127.0.0.1, fetches n
// transfers of size bytes from it in parallel and checks every byte. It
// prints a line per failed transfer (the CURLcode and curl's text) and a
// summary: transfers, bytes, selects, performs, time.
//
// curl_multi_fdset leaves out a socket numbered FD_SETSIZE (1024) or more,
// as select(2) cannot watch it; such a transfer moves only when curl's
// timeout ends a select. A program with that many descriptors open wants
// curl_multi_socket_action or curl_multi_poll instead of fd_sets.
//
// It links libcurl, so it is built with the build tag libcurl (the Makefile
// adds it when curl/curl.h is found); without the tag the program only says
// how to build it, and its test says why it skipped.
package main
