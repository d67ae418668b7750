package aggregator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/feedmux/feedmux"
)

// Rules say which tags an item carries beyond its feed's: aliases that turn
// raw categories into tags, and topic rules that tag items by what they say.
type Rules struct {
	// Aliases maps a tag to the raw categories that become it.
	Aliases map[string][]string
	Topics  []Topic
}

// Topic is a [[topic]] rule.
type Topic struct {
	Tag         string
	Match       []string // words or phrases, whole-word, case-insensitive
	Regex       []string // RE2
	Fields      []string // title, summary, content, categories; default title, summary, categories
	Exclude     []string // an item matching any of these is not tagged
	FeedsTagged []string // only items of feeds carrying one of these tags
}

// Fields a rule can look at.
const (
	FieldTitle      = "title"
	FieldSummary    = "summary"
	FieldContent    = "content"
	FieldCategories = "categories"
)

var defaultFields = []string{FieldTitle, FieldSummary, FieldCategories}

// Tagger applies compiled Rules. The zero value and nil apply none.
type Tagger struct {
	aliases     map[string]string // category slug: tag
	topics      []compiledTopic
	fingerprint string
}

type compiledTopic struct {
	tag         string
	match       []phrase
	regex       []*regexp.Regexp
	fields      []string
	exclude     []phrase
	feedsTagged []string
}

// NewTagger compiles rules; it reports every rule that does not compile.
func NewTagger(r Rules) (*Tagger, error) {
	t := &Tagger{aliases: map[string]string{}}
	var errs []string
	for _, tag := range sortedKeys(r.Aliases) {
		for _, raw := range r.Aliases[tag] {
			if s := feedmux.TagSlug(raw); s != "" {
				t.aliases[s] = tag
			}
		}
	}
	for i, tp := range r.Topics {
		ct := compiledTopic{tag: tp.Tag, fields: tp.Fields, feedsTagged: tp.FeedsTagged}
		if len(ct.fields) == 0 {
			ct.fields = defaultFields
		}
		for _, f := range ct.fields {
			if !slices.Contains([]string{FieldTitle, FieldSummary, FieldContent, FieldCategories}, f) {
				errs = append(errs, fmt.Sprintf("topic %d (%s): unknown field %q", i+1, tp.Tag, f))
			}
		}
		for _, m := range tp.Match {
			if p := newPhrase(m); len(p) > 0 {
				ct.match = append(ct.match, p)
			}
		}
		for _, m := range tp.Exclude {
			if p := newPhrase(m); len(p) > 0 {
				ct.exclude = append(ct.exclude, p)
			}
		}
		for _, re := range tp.Regex {
			c, err := regexp.Compile(re)
			if err != nil {
				errs = append(errs, fmt.Sprintf("topic %d (%s): regex %q: %v", i+1, tp.Tag, re, err))
				continue
			}
			ct.regex = append(ct.regex, c)
		}
		t.topics = append(t.topics, ct)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	sum, _ := json.Marshal(struct {
		Reading int
		Rules
	}{ruleReading, r})
	h := sha256.Sum256(sum)
	t.fingerprint = hex.EncodeToString(h[:8])
	return t, nil
}

// ruleReading is the version of how rules read an item. It is part of the
// fingerprint, so that stored items are re-tagged when it changes as when
// the rules do. 2: summaries and content read as the text they show, each
// tag a word break.
const ruleReading = 2

// Fingerprint changes when the rules do; stored items are re-tagged when
// it differs from the one they were tagged with.
func (t *Tagger) Fingerprint() string {
	if t == nil {
		return ""
	}
	return t.fingerprint
}

// Tags returns the tags of an item of feed: the feed's own, its aliased
// categories, its other categories' slugs when the feed allows it, and
// those of every topic rule it matches; sorted, without repeats.
func (t *Tagger) Tags(feed feedmux.Feed, it *feedmux.Item) []string {
	out := slices.Clone(feed.Tags)
	for _, c := range it.Categories {
		s := feedmux.TagSlug(c)
		if s == "" {
			continue
		}
		if t != nil {
			if tag, ok := t.aliases[s]; ok {
				out = append(out, tag)
				continue
			}
		}
		if feed.Categories {
			out = append(out, s)
		}
	}
	if t != nil && len(t.topics) > 0 {
		text := itemText(it)
		for i := range t.topics {
			if t.topics[i].matches(feed, text) {
				out = append(out, t.topics[i].tag)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Keep reports whether an item passes its feed's include and exclude
// filters, which match like topic rules over title, summary and categories.
func Keep(feed feedmux.Feed, it *feedmux.Item) bool {
	if len(feed.Include) == 0 && len(feed.Exclude) == 0 {
		return true
	}
	text := itemText(it)
	toks := text.tokens(defaultFields)
	for _, m := range feed.Exclude {
		if newPhrase(m).in(toks) {
			return false
		}
	}
	if len(feed.Include) == 0 {
		return true
	}
	for _, m := range feed.Include {
		if newPhrase(m).in(toks) {
			return true
		}
	}
	return false
}

func (ct *compiledTopic) matches(feed feedmux.Feed, text *fields) bool {
	if len(ct.feedsTagged) > 0 && !slices.ContainsFunc(ct.feedsTagged, func(t string) bool { return slices.Contains(feed.Tags, t) }) {
		return false
	}
	toks := text.tokens(ct.fields)
	for _, p := range ct.exclude {
		if p.in(toks) {
			return false
		}
	}
	for _, p := range ct.match {
		if p.in(toks) {
			return true
		}
	}
	for _, re := range ct.regex {
		for _, f := range ct.fields {
			for _, s := range text.raw[f] {
				if re.MatchString(s) {
					return true
				}
			}
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
