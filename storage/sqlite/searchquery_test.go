package sqlite

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/feedmux/feedmux"
)

func TestParseSearch(t *testing.T) {
	for _, tc := range []struct {
		name, q       string
		match, normal string
		err           string // a part of the error's message
	}{
		{name: "words", q: "Haniyeh  Tehran", match: `(("haniyeh") AND ("tehran"))`, normal: "haniyeh tehran"},
		{name: "phrase", q: `"Ceasefire   talks"`, match: `(("ceasefire talks"))`, normal: `"ceasefire talks"`},
		{name: "or binds two terms", q: "a b OR c", match: `(("a") AND ("b" OR "c"))`, normal: "a b OR c"},
		{name: "or chain", q: `a OR "b c" OR d`, match: `(("a" OR "b c" OR "d"))`, normal: `a OR "b c" OR d`},
		{name: "lower-case or is a word", q: "war or peace", match: `(("war") AND ("or") AND ("peace"))`, normal: "war or peace"},
		{name: "exclusions go last", q: `-Haniyeh "ceasefire talks" -"gaza city"`,
			match: `(((("ceasefire talks")) NOT "haniyeh") NOT "gaza city")`, normal: `"ceasefire talks" -haniyeh -"gaza city"`},
		{name: "fts5 syntax is only text", q: `NEAR(a b) title:x ^y z* {a}`,
			match: `(("near(a") AND ("b)") AND ("title:x") AND ("^y") AND ("z*") AND ("{a}"))`, normal: "near(a b) title:x ^y z* {a}"},
		{name: "quote inside a word starts a phrase", q: `ab"cd ef"`, match: `(("ab") AND ("cd ef"))`, normal: `ab "cd ef"`},
		{name: "hyphenated word", q: "middle-east", match: `(("middle-east"))`, normal: "middle-east"},
		{name: "non-latin", q: "Тегеран हिन्दी", match: `(("тегеран") AND ("हिन्दी"))`, normal: "тегеран हिन्दी"},
		{name: "control characters are spaces", q: "a\x00b", match: `(("a") AND ("b"))`, normal: "a b"},
		{name: "unbalanced quote", q: `"unbalanced`, err: "not closed"},
		{name: "empty", q: "  ", err: "empty"},
		{name: "only exclusions", q: "-a -\"b c\"", err: "only excludes"},
		{name: "or at the start", q: "OR a", err: "both sides"},
		{name: "or at the end", q: "a OR", err: "both sides"},
		{name: "or twice", q: "a OR OR b", err: "both sides"},
		{name: "or with an exclusion after", q: "a OR -b", err: "cannot join an exclusion (-b)"},
		{name: "or with an exclusion before", q: "-a OR b", err: "cannot join an exclusion (-a)"},
		{name: "lone minus", q: "a - b", err: "'-' must be followed"},
		{name: "punctuation only", q: "a ...", err: "... has no letters"},
		{name: "empty phrase", q: `a ""`, err: `"" has no letters`},
		{name: "too many terms", q: strings.Repeat("a ", 16+1), err: "at most 16 words"},
		{name: "too long", q: strings.Repeat("a", 256+1), err: "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := feedmux.ParseSearch(tc.q)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseSearch(%q) = %+v, %v, want an error saying %q", tc.q, s, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSearch(%q): %v", tc.q, err)
			}
			if match := fts5Match(&s); match != tc.match || s.Normal != tc.normal {
				t.Errorf("ParseSearch(%q) = %q, %q, want %q, %q", tc.q, match, s.Normal, tc.match, tc.normal)
			}
		})
	}
}

// FuzzParseSearch checks that ParseSearch never panics, that every query
// it accepts is one FTS5 accepts, and that its normal form means the same.
func FuzzParseSearch(f *testing.F) {
	for _, q := range []string{`Haniyeh Tehran`, `"ceasefire talks" -Haniyeh`, `a b OR c`, `"unbalanced`,
		`-"x y" z OR "w"`, `NEAR(a b, 2)`, `title:x`, `a AND b`, `"a""b"`, `-`, `a OR`, "\xff\xfe", `é ü ß`} {
		f.Add(q)
	}
	db, err := Open(f.Context(), filepath.Join(f.TempDir(), "fuzz.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })
	f.Fuzz(func(t *testing.T, q string) {
		s, err := feedmux.ParseSearch(q)
		if err != nil {
			return
		}
		var n int
		match := fts5Match(&s)
		if err := db.read.QueryRow(`SELECT count(*) FROM items_search WHERE items_search MATCH ?`, match).Scan(&n); err != nil {
			t.Fatalf("ParseSearch(%q) in FTS5 is %q, which FTS5 rejects: %v", q, match, err)
		}
		again, err := feedmux.ParseSearch(s.Normal)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("ParseSearch(%q) = %+v, but its normal form parses to %+v, %v", q, s, again, err)
		}
	})
}
