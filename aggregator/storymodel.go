package aggregator

import (
	_ "embed"
	"encoding/json"
	"math"
	"slices"
	"time"
)

// The join decision is a logistic regression over what an item shares with
// a candidate story, learned from the labelled headlines of
// ../shared/corpus/stories/train.tsv (aggregator/testdata/stories) by
// TestStoryModel: go test ./aggregator -run TestStoryModel -update
// rewrites story_model.json.

// Features of joining an item to a candidate story.
const (
	fBias         = iota
	fPairSim      // the best cosine similarity with one of the story's items
	fStorySim     // the cosine similarity with the sum of the story's items
	fShared       // the terms shared with that best item
	fRarest       // the weight of the rarest term shared with any item, over the largest possible
	fCoverItem    // the share of the item's weight that the best item shares
	fCoverOther   // the share of the best item's weight that the item shares
	fSize         // log(1 + the story's items in the window)
	fGapDays      // days between the item and the story's newest item
	fSameSource   // 1 when the item's source already reported in the story
	fPairSim2     // fPairSim squared
	fStorySim2    // fStorySim squared
	fTerms        // log(1 + the item's terms)
	fSharedCapped // fShared, at most 6, over 6
	numFeatures
)

type joinFeatures [numFeatures]float64

// storyModel is the learned join decision.
type storyModel struct {
	Weights joinFeatures `json:"weights"`
	// Trained says what it was learned from, for the README.
	Trained string `json:"trained"`
}

//go:embed story_model.json
var storyModelJSON []byte

var defaultStoryModel = func() storyModel {
	var m storyModel
	if err := json.Unmarshal(storyModelJSON, &m); err != nil {
		panic("story_model.json: " + err.Error())
	}
	return m
}()

// probability is the model's probability that the item belongs to the
// story the features describe.
func (m *storyModel) probability(f joinFeatures) float64 {
	z := 0.0
	for k, w := range m.Weights {
		z += w * f[k]
	}
	return 1 / (1 + math.Exp(-z))
}

// features describes joining d to each candidate story: the stories of the
// items in the window that share one of d's rarer terms and are within the
// window of it in publication time.
func (g *Grouper) features(d *storyDoc) map[int64]joinFeatures {
	top := g.ln(len(g.docs) + 2)
	idf := func(t term) float64 { return top - g.ln(int(g.df[t])+1) }
	dIDF := make([]float64, len(d.terms))
	dw := 0.0
	for i, t := range d.terms {
		dIDF[i] = idf(t)
		dw += dIDF[i] * dIDF[i]
	}
	if dw == 0 {
		return nil
	}
	window := int64(g.cfg.Window / time.Second)
	out := g.joins
	clear(out)
	for _, c := range g.candidates(d) {
		if gap := d.published - c.published; gap > window || gap < -window {
			continue
		}
		dot, shared, rarest := sharedWeight(d.terms, dIDF, c.terms)
		cw := g.weight(c, idf)
		sim := dot / math.Sqrt(dw*cw)
		f := out[c.st.id]
		f[fBias] = 1
		if sim > f[fPairSim] {
			f[fPairSim], f[fShared], f[fCoverItem], f[fCoverOther] = sim, float64(shared), dot/dw, dot/cw
		}
		f[fRarest] = max(f[fRarest], rarest/top)
		out[c.st.id] = f
	}
	for s, f := range out {
		st := g.stories[s]
		f[fStorySim] = g.storySim(d, st, idf, math.Sqrt(dw))
		if f[fStorySim] == 0 {
			f[fStorySim] = f[fPairSim] // a story of one: its sum is its item
		}
		if st != nil {
			f[fSize] = math.Log1p(float64(st.members))
			f[fGapDays] = math.Abs(float64(d.published-st.newest)) / 86400
			if st.hasSource(d.source) {
				f[fSameSource] = 1
			}
		}
		f[fPairSim2], f[fStorySim2] = f[fPairSim]*f[fPairSim], f[fStorySim]*f[fStorySim]
		f[fTerms] = math.Log1p(float64(len(d.terms)))
		f[fSharedCapped] = min(f[fShared], 6) / 6
		out[s] = f
	}
	return out
}

// sharedWeight compares the sorted terms of an item, weighing w, with those
// of another item: the sum of the squared weights of the terms they share,
// how many they share, and the largest weight among them.
func sharedWeight(terms []term, w []float64, other []term) (dot float64, shared int, rarest float64) {
	for i, j := 0, 0; i < len(terms) && j < len(other); {
		switch {
		case terms[i] == other[j]:
			dot += w[i] * w[i]
			rarest = max(rarest, w[i])
			shared++
			i++
			j++
		case terms[i] < other[j]:
			i++
		default:
			j++
		}
	}
	return dot, shared, rarest
}

// ln is the natural logarithm of k ≥ 1, from a table: weights are logs of
// counts, and a table lookup is many times faster than math.Log.
func (g *Grouper) ln(k int) float64 {
	for len(g.logs) <= k {
		g.logs = append(g.logs, math.Log(float64(max(len(g.logs), 1))))
	}
	return g.logs[k]
}

// weight is the squared norm of an item of the window. Like a story's
// norm (storySim), it is computed again only when the window grew or
// shrank by a tenth since.
func (g *Grouper) weight(c *storyDoc, idf func(term) float64) float64 {
	n := len(g.docs)
	if c.w2 == 0 || 10*abs(n-c.w2Docs) > c.w2Docs {
		c.w2, c.w2Docs = 0, n
		for _, t := range c.terms {
			c.w2 += idf(t) * idf(t)
		}
	}
	return c.w2
}

// maxCandidates bounds the items an item is compared with, so that the
// cost of grouping an item does not grow with the window: when one wire
// story fills it, thousands of items share every word.
const maxCandidates = 50

// candidates are the items of the window that share one of d's rarer
// terms (in at most 1 in 20 items of the window): those that share its
// rarest terms first, and of those the newest, at most maxCandidates.
// The slice returned is reused by the next call.
func (g *Grouper) candidates(d *storyDoc) []*storyDoc {
	maxDF := int32(max(3, (len(g.docs)+1)/20))
	type rare struct {
		df int32
		t  term
	}
	terms := make([]rare, 0, len(d.terms))
	for _, t := range d.terms {
		if df := g.df[t]; df <= maxDF {
			terms = append(terms, rare{df, t})
		}
	}
	slices.SortFunc(terms, func(a, b rare) int { return int(a.df - b.df) })
	g.stamp++
	out := g.candidate[:0]
	for _, r := range terms {
		ps := g.postings[r.t]
		for i := len(ps) - 1; i >= 0 && len(out) < maxCandidates; i-- {
			if c := ps[i]; !c.evicted && c.seen != g.stamp {
				c.seen = g.stamp
				out = append(out, c)
			}
		}
		if len(out) >= maxCandidates {
			break
		}
	}
	g.candidate = out
	return out
}

// storySim is the cosine similarity of d with the sum of the story's
// items; 0 for a story of one item.
func (g *Grouper) storySim(d *storyDoc, st *storyState, idf func(term) float64, dn float64) float64 {
	if st == nil || st.counts == nil {
		return 0
	}
	// The story's norm moves slowly with the window's frequencies: it is
	// computed again when the story changed or the window grew or shrank
	// by a tenth, not for every item, so that a large story costs an item
	// its shared terms only.
	n := len(g.docs)
	if st.norm == 0 || st.normMembers != st.members || 10*abs(n-st.normDocs) > st.normDocs {
		n2 := 0.0
		for _, e := range st.counts.list {
			w := idf(e.t) * float64(e.c)
			n2 += w * w
		}
		st.norm, st.normMembers, st.normDocs = math.Sqrt(n2), st.members, n
	}
	if st.norm == 0 {
		return 0
	}
	dot := 0.0
	for _, t := range d.terms {
		if c := st.counts.get(t); c > 0 {
			dot += idf(t) * idf(t) * float64(c)
		}
	}
	return dot / (dn * st.norm)
}

func abs(n int) int { return max(n, -n) }
