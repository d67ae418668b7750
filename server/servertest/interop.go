package servertest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// Reader is a feed reader of the interoperability test: the formats it
// reads, the fields it shows, and its documented behaviours, which are
// its own and not differences of ours.
type Reader struct {
	Name    string
	Version string
	Formats []string // "atom", "rss", "json"
	Fields  []string // of "title", "link", "id", "published", "updated", "author", "source"
	// ByID matches entries by id rather than by position: the reader does
	// not keep the document's order.
	ByID bool
	// FromURLs: the reader fetches feeds itself (ReadWithNewsboat) rather
	// than reading files (ReadFiles).
	FromURLs bool
	Quirks   []Quirk
}

// Quirk is a documented behaviour of a reader: for the field, a function
// that says whether what the reader shows is what it does with what was
// served, and where in the reader's source that behaviour comes from.
type Quirk struct {
	Field  string
	Source string // the reader's source file that causes it
	What   string
	Accept func(served, read string, entry Entry) bool
}

// ReadFiles has r read each file, for a reader that reads files.
func (r Reader) ReadFiles(tb testing.TB, files []string) map[string]Read {
	tb.Helper()
	switch r.Name {
	case "rss-parser", "feedparser":
		return ReadWithNode(tb, r.Name, files)
	case "rome":
		return ReadWithROME(tb, files)
	}
	tb.Fatalf("%s does not read files", r.Name)
	return nil
}

// Reads reports whether r reads format.
func (r Reader) Reads(format string) bool { return slices.Contains(r.Formats, format) }

// Differences compares what a reader made of a document with what feedmux
// served in it, entry by entry and field by field, and returns each
// difference that is not one of the reader's quirks. servedAt is when the
// document was served: no date the reader shows may be later.
func Differences(r Reader, served []Entry, read Read, servedAt time.Time) []string {
	if read.Error != "" {
		return []string{fmt.Sprintf("%s could not read it: %s", r.Name, read.Error)}
	}
	var diffs []string
	got := read.Entries
	if r.ByID {
		byID := map[string]Entry{}
		for _, e := range read.Entries {
			byID[e.ID] = e
		}
		got = make([]Entry, 0, len(served))
		for _, s := range served {
			if e, ok := byID[s.ID]; ok {
				got = append(got, e)
			}
		}
	}
	if len(got) != len(served) || len(read.Entries) != len(served) {
		diffs = append(diffs, fmt.Sprintf("%d entries read, %d served", len(read.Entries), len(served)))
		if len(got) != len(served) {
			return diffs
		}
	}
	for i := range served {
		for _, field := range r.Fields {
			s, g := field1(served[i], field), field1(got[i], field)
			if same(field, s, g) || r.quirk(field, s, g, served[i]) {
				continue
			}
			diffs = append(diffs, fmt.Sprintf("entry %d (%s) %s: served %q, %s shows %q", i+1, served[i].ID, field, s, r.Name, g))
		}
		for _, field := range []string{"published", "updated"} {
			if t, err := time.Parse(time.RFC3339, field1(got[i], field)); err == nil && t.After(servedAt) {
				diffs = append(diffs, fmt.Sprintf("entry %d (%s) %s: %s shows %s, later than the document was served (%s)",
					i+1, served[i].ID, field, r.Name, t.Format(time.RFC3339), servedAt.UTC().Format(time.RFC3339)))
			}
		}
	}
	return diffs
}

func (r Reader) quirk(field, served, read string, entry Entry) bool {
	for _, q := range r.Quirks {
		if q.Field == field && q.Accept(served, read, entry) {
			return true
		}
	}
	return false
}

func field1(e Entry, field string) string {
	switch field {
	case "title":
		return e.Title
	case "link":
		return e.Link
	case "id":
		return e.ID
	case "published":
		return e.Published
	case "updated":
		return e.Updated
	case "author":
		return e.Author
	case "source":
		return e.Source
	}
	panic("unknown field " + field)
}

// same compares a field as every reader shows it: text with its runs of
// white space as one space, dates as instants.
func same(field, served, read string) bool {
	switch field {
	case "published", "updated":
		a, errA := time.Parse(time.RFC3339, served)
		b, errB := time.Parse(time.RFC3339, read)
		return (errA != nil && errB != nil && served == read) || (errA == nil && errB == nil && a.Equal(b))
	}
	return oneLine(served) == oneLine(read)
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Readers are the readers of the interoperability test, at the versions
// readers/package-lock.json and Debian bookworm pin, with the behaviours of
// their own that a subscriber may notice (the README's Readers section
// lists them too).
var Readers = []Reader{
	{Name: "rss-parser", Version: "3.13.0", Formats: []string{"atom", "rss"},
		Fields: []string{"title", "link", "id", "published", "author"},
		Quirks: []Quirk{rssAuthorAsWritten("lib/parser.js"), publishedFromUpdated("lib/parser.js"),
			{Field: "link", Source: "lib/parser.js", What: "an entry without a link gets its enclosure's URL as its link",
				Accept: func(served, read string, e Entry) bool { return served == "" && read == e.Enclosure }}}},
	{Name: "feedparser", Version: "2.6.0 (Node.js)", Formats: []string{"atom", "rss"},
		Fields: []string{"title", "link", "id", "published", "updated", "author", "source"},
		Quirks: []Quirk{publishedFromUpdated("lib/feedparser/index.js"), slashAfterHost("lib/utils.js"),
			{Field: "updated", Source: "lib/feedparser/index.js", What: "an RSS item's date is its pubDate (RSS has no update time)",
				Accept: func(served, read string, e Entry) bool { return served == "" && same("published", e.Published, read) }}}},
	{Name: "rome", Version: "1.12.2 (Debian librome-java)", Formats: []string{"atom", "rss"},
		Fields: []string{"title", "link", "id", "published", "updated", "author", "source"},
		Quirks: []Quirk{rssAuthorAsWritten("rome/src/main/java/com/rometools/rome/feed/synd/impl/ConverterForRSS094.java")}},
	{Name: "newsboat", Version: "2.21 (Debian)", Formats: []string{"atom", "rss"}, ByID: true, FromURLs: true,
		Fields: []string{"title", "link", "id", "published", "author"},
		Quirks: []Quirk{slashAfterHost("src/utils.cpp (absolute_url)"), publishedFromUpdated("rss/atomparser.cpp")}},
}

// rssAuthorAsWritten: the reader shows an RSS <author> as written, the
// e-mail address before the name ("ed@example.org (Ed)"), where feedmux
// serves the name.
func rssAuthorAsWritten(source string) Quirk {
	return Quirk{Field: "author", Source: source, What: `an RSS <author> is shown as written, "e-mail (Name)"`,
		Accept: func(served, read string, _ Entry) bool {
			return served != "" && strings.HasSuffix(read, " ("+served+")") && strings.Contains(read, "@")
		}}
}

// publishedFromUpdated: an Atom entry without <published> is shown as
// published at its <updated> time.
func publishedFromUpdated(source string) Quirk {
	return Quirk{Field: "published", Source: source, What: "an Atom entry without <published> is shown as published when it was updated",
		Accept: func(served, read string, e Entry) bool { return served == "" && same("updated", e.Updated, read) }}
}

// slashAfterHost: the reader resolves links, which writes the empty path
// of "https://example.com" as "/": the same URL.
func slashAfterHost(source string) Quirk {
	return Quirk{Field: "link", Source: source, What: `a link to a site's root gains its "/" ("https://example.com/")`,
		Accept: func(served, read string, _ Entry) bool { return read == served+"/" && strings.Count(served, "/") == 2 }}
}
