package aggregator

import (
	"cmp"
	"slices"
)

// termCounts is a story's sum: how many of its members carry each term,
// sorted by term. A slice rather than a map: a window holds thousands of
// stories of a few dozen terms each, and a map costs several times its
// entries.
type termCounts struct {
	list []termCount
}

type termCount struct {
	t term
	c int32
}

func (tc *termCounts) find(t term) (int, bool) {
	return slices.BinarySearchFunc(tc.list, t, func(e termCount, t term) int { return cmp.Compare(e.t, t) })
}

// get is the count of t; 0 when no member carries it.
func (tc *termCounts) get(t term) int32 {
	if i, ok := tc.find(t); ok {
		return tc.list[i].c
	}
	return 0
}

// add changes the count of t by delta, dropping it at 0.
func (tc *termCounts) add(t term, delta int32) {
	i, ok := tc.find(t)
	switch {
	case !ok && delta > 0:
		tc.list = slices.Insert(tc.list, i, termCount{t, delta})
	case ok:
		if tc.list[i].c += delta; tc.list[i].c <= 0 {
			tc.list = slices.Delete(tc.list, i, i+1)
		}
	}
}
