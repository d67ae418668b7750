// Package feedmux holds the domain of feedmux, a daemon that polls news feeds
// and republishes one merged feed per topic: the types that cross package
// lines (source feeds, their polling state, items, tags), the sentinel errors
// callers branch on, and the pure rules every part must agree on (tag slugs,
// item keys, output ids).
//
// The package imports no other package of this module, no feed parser and no
// database driver. Storage lives in package storage, polling in package
// aggregator, HTTP in package server, and cmd/feedmux wires them together.
package feedmux
