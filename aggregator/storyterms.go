package aggregator

import (
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// storyTerms returns the sorted, unique terms of a headline and of the
// slug of its link, without the words of the source's name (drop, as words
// gives them). Most news URLs carry the headline as written first, which
// holds the words an aggregator cut from a truncated title.
func storyTerms(title, link string, drop []string) []string {
	title = strings.TrimSpace(title)
	truncated := strings.HasSuffix(title, "...") || strings.HasSuffix(title, "…")
	terms := words(title)
	if truncated && len(terms) > 0 {
		terms = terms[:len(terms)-1] // the aggregator cut the last word
	}
	terms = append(terms, slugWords(link)...)
	out := terms[:0]
	for _, t := range terms {
		if !slices.Contains(drop, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// slugWords are the words of the segment of a link's path that names the
// article ("/2014/04/15/heartbleed-bug-hits-yahoo.html"): the longest one
// of three words or more, without its file extension and without numbers.
func slugWords(link string) []string {
	u, err := url.Parse(link)
	if err != nil {
		return nil
	}
	slug := ""
	for _, seg := range strings.Split(u.Path, "/") {
		seg = strings.TrimSuffix(seg, path.Ext(seg))
		if strings.Count(seg, "-")+strings.Count(seg, "_") >= 2 && len(seg) > len(slug) {
			slug = seg
		}
	}
	var out []string
	for _, w := range words(slugSeparators.Replace(slug)) {
		if strings.IndexFunc(w, unicode.IsLetter) >= 0 {
			out = append(out, w)
		}
	}
	return out
}

var slugSeparators = strings.NewReplacer("-", " ", "_", " ", "+", " ")

// words splits text into normalized terms without stop words: diacritics
// (Latin accents, Arabic harakat and hamza marks) are dropped after NFKD.
func words(s string) []string {
	ascii := isASCII(s)
	if !ascii { // ASCII has nothing to decompose
		s = norm.NFKD.String(strings.ToLower(s))
	}
	var (
		out = make([]string, 0, 16)
		buf [64]byte
		tok = buf[:0]
	)
	flush := func() {
		if len(tok) == 0 {
			return
		}
		w := stem(string(tok))
		tok = tok[:0]
		if len(w) > 1 && !stopWords[w] {
			out = append(out, w)
		}
	}
	if ascii {
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case 'A' <= c && c <= 'Z':
				tok = append(tok, c+'a'-'A')
			case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
				tok = append(tok, c)
			case c == '\'' && len(tok) > 0:
				tok = append(tok, c)
			default:
				flush()
			}
		}
		flush()
		return out
	}
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			tok = utf8.AppendRune(tok, r)
		case (r == '\'' || r == '’') && len(tok) > 0:
			tok = append(tok, '\'')
		default:
			flush()
		}
	}
	flush()
	return out
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
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
