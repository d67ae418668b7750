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

// Reset empties the window, for a process that takes story grouping over
// from another and loads the window again from the database.
func (g *Grouper) Reset() {
	fresh := NewGrouper(g.cfg)
	g.mu.Lock()
	defer g.mu.Unlock()
	g.termIDs, g.nextTerm, g.docs, g.postings, g.df = fresh.termIDs, 0, fresh.docs, fresh.postings, fresh.df
	g.queue, g.stories, g.merged, g.sources = nil, fresh.stories, fresh.merged, fresh.sources
	g.stamp, g.candidate, g.joins, g.joinProbs = 0, nil, fresh.joins, fresh.joinProbs
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
