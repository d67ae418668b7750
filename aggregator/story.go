package aggregator

import (
	"slices"
	"sync"
	"time"
)

// Story grouping: items from different sources that report the same event
// within a window become one story.
//
// Headlines (and the slugs of their links) are all a feed reliably
// carries, so an item is described by its terms (storyterms.go), each
// weighing its inverse document frequency among the items in the window:
// a shared place name that a hundred items carry weighs little, a shared
// rare name a lot. A new item is compared with the stories of the items
// that share one of its rarer terms (blocking: in at most 1 in 20 items of
// the window), and a model learned from labelled headlines
// (storymodel.go) gives the probability that it belongs to each. It joins
// the most probable story when that passes the threshold; any other story
// it belongs to almost surely is merged into the older of the two, so a
// first pass that stays strict loses little. Cost per item is proportional
// to the items sharing a rare word, memory to the items in the window.
//
// No language model: the same code serves English, French and Arabic.

// StoryConfig tunes story grouping.
type StoryConfig struct {
	// Window is how far apart, in publication time and in arrival, two
	// items of one story may be.
	Window time.Duration
	// Threshold is the probability, by the model, above which an item
	// joins the most probable story.
	Threshold float64
	// MaxItems bounds the items the window holds, whatever arrived within
	// Window: the oldest leave first. The window costs about 430 bytes an
	// item, so the bound is what keeps a large installation's memory (and
	// its garbage collector) in check; 0 means no bound.
	MaxItems int
}

// DefaultStoryConfig is chosen on ../shared/corpus/stories/dev.tsv; see the
// README's topic section for the figures. 50,000 items is two days of
// 1,000 busy feeds, about 21 MB.
var DefaultStoryConfig = StoryConfig{Window: 48 * time.Hour, Threshold: 0.7, MaxItems: 50000}

// mergeProbability is the probability above which two stories an item
// belongs to become one.
const mergeProbability = 0.9

// StoryItem is what grouping needs of an item.
type StoryItem struct {
	ID        int64 // the item's row id; a story is named by its first item's id
	Title     string
	URL       string
	Source    string // the source's name, whose words are ignored
	Published time.Time
	Arrived   time.Time // when feedmux first saw it
	Story     int64     // the story already assigned, when reloading; 0 for a new item
}

// Grouper assigns stories to items as they arrive. It is safe for
// concurrent use. Terms are interned as small integers, and a story keeps
// term counts only once it has two members, so the window costs a few
// hundred bytes per item.
type Grouper struct {
	cfg   StoryConfig
	model storyModel

	mu       sync.Mutex
	termIDs  map[string]term // interned terms of the items in the window
	nextTerm term
	docs     map[int64]*storyDoc
	postings map[term][]*storyDoc
	df       map[term]int32
	queue    []*storyDoc // in arrival order, for eviction
	stories  map[int64]*storyState
	merged   map[int64]int64     // stories merged since TakeMerges: into which
	logs     []float64           // logs[k] is ln(k), for k ≥ 1
	sources  map[string][]string // words of source names, for storyTerms

	// Reused by each Add, so that grouping an item allocates little:
	// stamp marks the candidates of the item being placed (storyDoc.seen).
	stamp     uint32
	candidate []*storyDoc
	joins     map[int64]joinFeatures
	joinProbs map[int64]float64
}

type term = uint32

type storyDoc struct {
	id                 int64
	story              int64       // the story asked for (reloaded) or decided, until insert
	st                 *storyState // the story it is in, once inserted
	source             string
	terms              []term // sorted, unique
	published, arrived int64  // unix seconds
	evicted            bool
	seen               uint32 // the Grouper's stamp when last a candidate
	// w2 is the squared norm of its terms' weights, when the window held
	// w2Docs items; see weight.
	w2     float64
	w2Docs int
}

// storyState is a story's members in the window: how many, the newest
// publication time, and once there are two, how many from each source and
// the counts of their terms (the story's sum). docs holds its members, and
// members that left the window until it is compacted.
type storyState struct {
	id      int64
	members int32
	docs    []*storyDoc
	counts  *termCounts // nil for a story of one item
	sources map[string]int32
	newest  int64
	// norm is the norm of the story's sum when it had normMembers members
	// and the window normDocs items; see storySim.
	norm        float64
	normMembers int32
	normDocs    int
}

// NewGrouper returns an empty Grouper.
func NewGrouper(cfg StoryConfig) *Grouper {
	if cfg.Window <= 0 {
		cfg.Window = DefaultStoryConfig.Window
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultStoryConfig.Threshold
	}
	return &Grouper{cfg: cfg, model: defaultStoryModel, termIDs: map[string]term{}, docs: map[int64]*storyDoc{},
		postings: map[term][]*storyDoc{}, df: map[term]int32{}, stories: map[int64]*storyState{}, merged: map[int64]int64{},
		joins: map[int64]joinFeatures{}, joinProbs: map[int64]float64{}, sources: map[string][]string{}}
}

// Len is the number of items in the window.
func (g *Grouper) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.docs)
}

// intern returns the ids of words, sorted and unique.
func (g *Grouper) intern(words []string) []term {
	ids := make([]term, 0, len(words))
	for _, w := range words {
		id, ok := g.termIDs[w]
		if !ok {
			id = g.nextTerm
			g.nextTerm++
			g.termIDs[w] = id
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Add places it in a story and returns the story's id: the id of the
// story's first item, which is it.ID when it starts a new story. An item
// that carries a story already (reloaded from the database) keeps it.
// Stories that it shows to be one are merged; TakeMerges reports them.
// Items that arrived more than the window before it leave the window.
func (g *Grouper) Add(it StoryItem) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d, ok := g.docs[it.ID]; ok {
		return d.st.id
	}
	d := g.newDoc(it)
	var also []int64
	if d.story == 0 {
		d.story = it.ID
		var best int64
		if best, also = g.decide(d); best != 0 {
			d.story = best
		}
	}
	g.insert(d)
	for _, s := range also {
		g.merge(s, d.st.id)
	}
	return d.st.id
}

// newDoc makes the window end at it (the items that arrived more than the
// window before it leave) and returns its entry, not yet in the index.
func (g *Grouper) newDoc(it StoryItem) *storyDoc {
	g.evict(it.Arrived.Add(-g.cfg.Window).Unix())
	return &storyDoc{id: it.ID, story: it.Story, source: it.Source, terms: g.intern(storyTerms(it.Title, it.URL, g.sourceWords(it.Source))),
		published: it.Published.Unix(), arrived: it.Arrived.Unix()}
}

// sourceWords are the words of a source's name, which say nothing of the
// story; remembered, as a window holds few sources and many items.
func (g *Grouper) sourceWords(source string) []string {
	w, ok := g.sources[source]
	if !ok {
		if len(g.sources) >= 10000 {
			clear(g.sources)
		}
		w = words(source)
		g.sources[source] = w
	}
	return w
}

// decide returns the story d joins (0 for a story of its own) and the
// other stories it belongs to almost surely.
func (g *Grouper) decide(d *storyDoc) (best int64, also []int64) {
	bestP := g.cfg.Threshold
	probs := g.joinProbs
	clear(probs)
	for s, f := range g.features(d) {
		p := g.model.probability(f)
		probs[s] = p
		if p > bestP || (p == bestP && s < best) {
			best, bestP = s, p
		}
	}
	if best == 0 {
		return 0, nil
	}
	for s, p := range probs {
		if s != best && p >= mergeProbability {
			also = append(also, s)
		}
	}
	slices.Sort(also)
	return best, also
}

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

// TakeMerges returns the stories merged since the last call, each with the
// story it was merged into, and forgets them.
func (g *Grouper) TakeMerges() map[int64]int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.merged) == 0 {
		return nil
	}
	m := g.merged
	g.merged = map[int64]int64{}
	return m
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
