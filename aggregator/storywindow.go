package aggregator

import "slices"

// The window's index: items in, stories summed, merged and left behind.

// insert adds d, whose story is set, to the window's index.
func (g *Grouper) insert(d *storyDoc) {
	for _, t := range d.terms {
		g.df[t]++
		g.postings[t] = append(g.postings[t], d)
	}
	g.docs[d.id] = d
	g.queue = append(g.queue, d)
	st := g.stories[d.story]
	if st == nil {
		st = &storyState{id: d.story}
		g.stories[d.story] = st
	} else {
		st.sumTerms()
		for _, t := range d.terms {
			st.counts.add(t, 1)
		}
		st.sumSources()
		st.sources[d.source]++
	}
	d.st = st
	st.members++
	st.newest = max(st.newest, d.published)
	if len(st.docs) > 2*int(st.members)+8 {
		st.docs = slices.DeleteFunc(st.docs, func(m *storyDoc) bool { return m.evicted })
	}
	st.docs = append(st.docs, d)
}

// sumSources makes sure the story counts its members by source, which a
// story of one item does without: most stories of a window are one item,
// and a map each was a good part of the window's memory.
func (st *storyState) sumSources() {
	if st.sources != nil {
		return
	}
	st.sources = map[string]int32{}
	for _, m := range st.docs {
		if !m.evicted {
			st.sources[m.source]++
		}
	}
}

// hasSource reports whether a member of the story comes from source.
func (st *storyState) hasSource(source string) bool {
	if st.sources != nil {
		return st.sources[source] > 0
	}
	return slices.ContainsFunc(st.docs, func(m *storyDoc) bool { return !m.evicted && m.source == source })
}

// sumTerms makes sure the story keeps the counts of its members' terms,
// which a story of one item does without.
func (st *storyState) sumTerms() {
	if st.counts != nil {
		return
	}
	st.counts = &termCounts{}
	for _, m := range st.docs {
		if !m.evicted {
			for _, t := range m.terms {
				st.counts.add(t, 1)
			}
		}
	}
}

// merge makes stories a and b one, under the older (smaller) id. The
// members of the smaller story move to the larger one, so a merge costs
// the smaller story's size.
func (g *Grouper) merge(a, b int64) {
	keep, gone := min(a, b), max(a, b)
	large, small := g.stories[keep], g.stories[gone]
	if a == b || large == nil || small == nil {
		return
	}
	if small.members > large.members {
		large, small = small, large
	}
	large.sumTerms()
	small.sumTerms()
	for _, e := range small.counts.list {
		large.counts.add(e.t, e.c)
	}
	large.sumSources()
	small.sumSources()
	for src, c := range small.sources {
		large.sources[src] += c
	}
	for _, m := range small.docs {
		if !m.evicted {
			m.st = large
			large.docs = append(large.docs, m)
		}
	}
	large.members += small.members
	large.newest = max(large.newest, small.newest)
	large.id = keep
	g.stories[keep] = large
	delete(g.stories, gone)
	for s, into := range g.merged {
		if into == gone {
			g.merged[s] = keep
		}
	}
	g.merged[gone] = keep
}

// evict drops the items that arrived before cutoff (unix seconds), and
// the oldest beyond MaxItems, making room for one more.
func (g *Grouper) evict(cutoff int64) {
	n := 0
	for n < len(g.queue) && (g.queue[n].arrived < cutoff || (g.cfg.MaxItems > 0 && len(g.docs) >= g.cfg.MaxItems)) {
		g.forget(g.queue[n])
		n++
	}
	if n == 0 {
		return
	}
	clear(g.queue[:n]) // the front is dropped; append copies the rest when it grows
	g.queue = g.queue[n:]
	if len(g.df) < len(g.termIDs)/2 {
		// Forget the words no item in the window uses any more.
		for w, id := range g.termIDs {
			if g.df[id] == 0 {
				delete(g.termIDs, w)
			}
		}
	}
}

// forget takes d out of the window's index.
func (g *Grouper) forget(d *storyDoc) {
	d.evicted = true
	delete(g.docs, d.id)
	if st := d.st; st != nil {
		if st.members--; st.members <= 0 {
			delete(g.stories, st.id)
		} else {
			// Members leave in arrival order, mostly the order of docs:
			// the one leaving is let go at once, not at the next compaction.
			for len(st.docs) > 0 && st.docs[0].evicted {
				st.docs[0] = nil
				st.docs = st.docs[1:]
			}
			if st.sources != nil {
				if st.sources[d.source]--; st.sources[d.source] <= 0 {
					delete(st.sources, d.source)
				}
			}
			for _, t := range d.terms {
				if st.counts == nil {
					break
				}
				st.counts.add(t, -1)
			}
		}
	}
	for _, t := range d.terms {
		ps := g.postings[t]
		if len(ps) > 0 && ps[0] == d {
			// Items leave in arrival order, which is the postings' order.
			ps[0] = nil
			ps = ps[1:]
		} else {
			ps = slices.DeleteFunc(ps, func(p *storyDoc) bool { return p == d })
		}
		if len(ps) == 0 {
			delete(g.postings, t)
		} else {
			g.postings[t] = ps
		}
		if g.df[t]--; g.df[t] <= 0 {
			delete(g.df, t)
		}
	}
}
