package aggregator

import (
	"math"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Story grouping: items from different sources that report the same event
// within a window become one story.
//
// The method is TF-IDF cosine similarity over headline terms with blocking
// on rare terms, linking each new item to its most similar earlier item
// when the similarity passes a threshold (single link to the best match,
// never merging two existing stories). Headlines are short and titles are
// all a feed reliably carries, so:
//   - terms are words, NFKC-normalized, lower-cased, stripped of Latin
//     diacritics and of English plural and possessive endings, French
//     elisions and Arabic article prefixes; stop words of the three
//     languages are dropped, as are words of the source's own name
//     ("Reuters", "BBC News") that headlines often end with;
//   - a term's weight is its inverse document frequency over the items in
//     the window, so a shared place name ("Ukraine", in a hundred items)
//     weighs little and a shared rare name ("Heartbleed") a lot: two
//     different events in one place stay apart;
//   - an item is also compared with the sum of each candidate story's
//     members, since later reports reuse words of several earlier ones;
//   - candidates come only from the postings of the item's rarer terms
//     (in at most 1 in 20 items of the window), and at least two shared
//     terms are required, so the cost per item is proportional to the
//     items sharing a rare word, and memory to the items in the window.
//
// No language model, no training: the same code serves English, French and
// Arabic headlines.

// StoryConfig tunes story grouping.
type StoryConfig struct {
	// Window is how far apart, in publication time and in arrival, two
	// items of one story may be.
	Window time.Duration
	// Threshold is the cosine similarity above which an item joins the
	// story of its most similar earlier item.
	Threshold float64
}

// DefaultStoryConfig is tuned on ../shared/corpus/stories/dev.tsv; see the
// README's topic section for the figures.
var DefaultStoryConfig = StoryConfig{Window: 48 * time.Hour, Threshold: 0.32}

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
	cfg StoryConfig

	mu       sync.Mutex
	termIDs  map[string]term // interned terms of the items in the window
	nextTerm term
	docs     map[int64]*storyDoc
	postings map[term][]*storyDoc
	df       map[term]int32
	queue    []*storyDoc // in arrival order, for eviction
	stories  map[int64]*storyState
}

type term = uint32

type storyDoc struct {
	id, story          int64
	terms              []term // sorted, unique
	published, arrived int64  // unix seconds
	evicted            bool
}

// storyState is a story's members in the window: how many, and once there
// are two, the counts of their terms (the story's sum).
type storyState struct {
	members int32
	first   *storyDoc
	counts  map[term]int32
}

// NewGrouper returns an empty Grouper.
func NewGrouper(cfg StoryConfig) *Grouper {
	if cfg.Window <= 0 {
		cfg.Window = DefaultStoryConfig.Window
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = DefaultStoryConfig.Threshold
	}
	return &Grouper{cfg: cfg, termIDs: map[string]term{}, docs: map[int64]*storyDoc{},
		postings: map[term][]*storyDoc{}, df: map[term]int32{}, stories: map[int64]*storyState{}}
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
// Items that arrived more than the window before it leave the window.
func (g *Grouper) Add(it StoryItem) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if d, ok := g.docs[it.ID]; ok {
		return d.story
	}
	g.evict(it.Arrived.Add(-g.cfg.Window).Unix())
	d := &storyDoc{id: it.ID, story: it.Story, terms: g.intern(storyTerms(it.Title, it.Source)),
		published: it.Published.Unix(), arrived: it.Arrived.Unix()}
	for _, t := range d.terms {
		g.df[t]++
	}
	if d.story == 0 {
		d.story = it.ID
		if best := g.bestMatch(d); best != nil {
			d.story = best.story
		}
	}
	g.docs[d.id] = d
	g.queue = append(g.queue, d)
	st := g.stories[d.story]
	switch {
	case st == nil:
		g.stories[d.story] = &storyState{members: 1, first: d}
	case st.counts == nil:
		st.counts = make(map[term]int32, 2*len(d.terms))
		for _, t := range st.first.terms {
			st.counts[t]++
		}
		fallthrough
	default:
		st.members++
		for _, t := range d.terms {
			st.counts[t]++
		}
	}
	for _, t := range d.terms {
		g.postings[t] = append(g.postings[t], d)
	}
	return d.story
}

// bestMatch returns the earlier item most similar to d, if similar enough.
func (g *Grouper) bestMatch(d *storyDoc) *storyDoc {
	n := float64(len(g.docs) + 1)
	weights := make(map[term]float64, 4*len(d.terms))
	idf := func(t term) float64 {
		w, ok := weights[t]
		if !ok {
			w = math.Log((n + 1) / float64(g.df[t]+1))
			weights[t] = w
		}
		return w
	}
	// Blocking: only items sharing one of d's rarer terms are candidates.
	maxDF := int32(max(3, int(n/20)))
	candidates := map[*storyDoc]bool{}
	for _, t := range d.terms {
		if g.df[t] > maxDF {
			continue
		}
		for _, c := range g.postings[t] {
			if !c.evicted {
				candidates[c] = true
			}
		}
	}
	if len(candidates) == 0 {
		return nil
	}
	norm := func(terms []term) float64 {
		s := 0.0
		for _, t := range terms {
			w := idf(t)
			s += w * w
		}
		return math.Sqrt(s)
	}
	dn := norm(d.terms)
	window := int64(g.cfg.Window / time.Second)
	centroids := map[int64]float64{} // story: similarity of d with its sum
	var best *storyDoc
	bestSim := g.cfg.Threshold
	for c := range candidates {
		if gap := d.published - c.published; gap > window || gap < -window {
			continue
		}
		dot, shared := 0.0, 0
		for i, j := 0, 0; i < len(d.terms) && j < len(c.terms); {
			switch {
			case d.terms[i] == c.terms[j]:
				w := idf(d.terms[i])
				dot += w * w
				shared++
				i++
				j++
			case d.terms[i] < c.terms[j]:
				i++
			default:
				j++
			}
		}
		if shared < 2 {
			continue
		}
		sim := dot / (dn * norm(c.terms))
		// An item may say the story in the words of several earlier
		// reports: compare it with their sum as well.
		cs, ok := centroids[c.story]
		if !ok {
			cs = g.centroidSim(d, c.story, idf, dn)
			centroids[c.story] = cs
		}
		sim = max(sim, cs)
		if sim > bestSim || (sim == bestSim && best != nil && c.id < best.id) {
			best, bestSim = c, sim
		}
	}
	return best
}

// centroidSim is the cosine similarity of d with the sum of its story's
// members; 0 for a story of one member, which the pairwise score covers.
func (g *Grouper) centroidSim(d *storyDoc, story int64, idf func(term) float64, dn float64) float64 {
	st := g.stories[story]
	if st == nil || st.counts == nil {
		return 0
	}
	dot, n2 := 0.0, 0.0
	for t, c := range st.counts {
		w := idf(t) * float64(c)
		n2 += w * w
		if _, ok := slices.BinarySearch(d.terms, t); ok {
			dot += w * idf(t)
		}
	}
	if n2 == 0 {
		return 0
	}
	return dot / (dn * math.Sqrt(n2))
}

// evict drops the items that arrived before cutoff (unix seconds).
func (g *Grouper) evict(cutoff int64) {
	n := 0
	for n < len(g.queue) && g.queue[n].arrived < cutoff {
		d := g.queue[n]
		d.evicted = true
		delete(g.docs, d.id)
		if st := g.stories[d.story]; st != nil {
			if st.members--; st.members <= 0 {
				delete(g.stories, d.story)
			} else if st.counts != nil {
				for _, t := range d.terms {
					if st.counts[t]--; st.counts[t] <= 0 {
						delete(st.counts, t)
					}
				}
			}
		}
		for _, t := range d.terms {
			ps := slices.DeleteFunc(g.postings[t], func(p *storyDoc) bool { return p == d })
			if len(ps) == 0 {
				delete(g.postings, t)
			} else {
				g.postings[t] = ps
			}
			if g.df[t]--; g.df[t] <= 0 {
				delete(g.df, t)
			}
		}
		n++
	}
	if n > 0 {
		g.queue = slices.Delete(g.queue, 0, n)
		if len(g.df) < len(g.termIDs)/2 {
			// Forget the words no item in the window uses any more.
			for w, id := range g.termIDs {
				if g.df[id] == 0 {
					delete(g.termIDs, w)
				}
			}
		}
	}
}

// storyTerms returns the sorted, unique terms of a headline, with those of
// the source's name removed.
func storyTerms(title, source string) []string {
	title = strings.TrimSpace(title)
	truncated := strings.HasSuffix(title, "...") || strings.HasSuffix(title, "…")
	terms := words(title)
	if truncated && len(terms) > 0 {
		terms = terms[:len(terms)-1] // the aggregator cut the last word
	}
	drop := map[string]bool{}
	for _, w := range words(source) {
		drop[w] = true
	}
	out := terms[:0]
	for _, t := range terms {
		if !drop[t] {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// words splits text into normalized terms without stop words: diacritics
// (Latin accents, Arabic harakat and hamza marks) are dropped after NFKD.
func words(s string) []string {
	s = norm.NFKD.String(strings.ToLower(s))
	var (
		out []string
		b   strings.Builder
	)
	flush := func() {
		if b.Len() == 0 {
			return
		}
		w := stem(b.String())
		b.Reset()
		if len(w) > 1 && !stopWords[w] {
			out = append(out, w)
		}
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		case (r == '\'' || r == '’') && b.Len() > 0:
			b.WriteByte('\'')
		default:
			flush()
		}
	}
	flush()
	return out
}

// stem takes the endings off a word that do not change what it names.
func stem(w string) string {
	if i := strings.IndexByte(w, '\''); i >= 0 {
		switch {
		case i <= 2 && i+1 < len(w): // French elision: l'état, d'abord, qu'il
			w = w[i+1:]
		default: // English possessive or contraction: gaza's, don't
			w = w[:i]
		}
	}
	for _, p := range []string{"وال", "بال", "لل", "ال"} {
		if strings.HasPrefix(w, p) && len([]rune(w))-len([]rune(p)) >= 3 {
			w = strings.TrimPrefix(w, p)
			break
		}
	}
	n := len(w)
	{
		switch {
		case n > 5 && strings.HasSuffix(w, "ing"):
			w = w[:n-3]
		case n > 4 && strings.HasSuffix(w, "ed") && !strings.HasSuffix(w, "eed"):
			w = w[:n-2]
		}
		n = len(w)
	}
	switch {
	case n > 4 && strings.HasSuffix(w, "ies"):
		w = w[:n-3] + "y"
	case n > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:n-1]
	}
	return w
}

// stopWords are function words of English, French and Arabic, and the
// words headlines use for every story. They are matched after stem.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, list := range []string{
		// English
		"a an and are as at be been but by can could do doe for from had ha have he her his how i if in into is it its " +
			"may more most new no not of on or our out over say said she so than that the their them then there they this " +
			"to up us wa we were what when where which while who why will with would you your after about against amid " +
			"all also back before between first get just last make man may now off one only other over set since some take " +
			"than two three under us vs via week year day report update updated live video photo watch news",
		// French
		"le la les un une de du des et en au aux pour par sur dan avec ce cette ces est sont qui que quoi pa plu ne se " +
			"son sa leur lui il elle nou vou on ou mai donc car selon apre avant",
		// Arabic
		"في من على إلى الى عن مع هذا هذه ذلك التي الذي و أو ثم قد لا لم لن ما هو هي بعد قبل بين حول عند كل",
	} {
		for _, w := range strings.Fields(list) {
			m[w] = true
		}
	}
	return m
}()
