package main

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/pelletier/go-toml/v2"

	"github.com/feedmux/feedmux"
)

// opmlDoc is the part of an OPML file import-opml reads.
type opmlDoc struct {
	Outlines []opmlOutline `xml:"body>outline"`
}

type opmlOutline struct {
	Text     string        `xml:"text,attr"`
	Title    string        `xml:"title,attr"`
	XMLURL   string        `xml:"xmlUrl,attr"`
	Outlines []opmlOutline `xml:"outline"`
}

// importedFeed is one [[feed]] entry import-opml prints.
type importedFeed struct {
	URL   string   `toml:"url"`
	Title string   `toml:"title,omitempty"`
	Tags  []string `toml:"tags,omitempty"`
}

// runImportOPML prints a [[feed]] entry for every outline of an OPML file
// that has an xmlUrl: its title kept, its enclosing folders as tags.
func runImportOPML(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("import-opml", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: feedmux import-opml FILE.opml (or - for standard input)\n\n"+
			"Prints a [[feed]] entry for every feed of an OPML subscription list, ready to append to feeds.toml.\n"+
			"Folders become tags. Example: feedmux import-opml subscriptions.opml >> feeds.toml\n")
	}
	if err := fs.Parse(args); err != nil {
		return flagError(err)
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	in := stdin
	name := "standard input"
	if path := fs.Arg(0); path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		in, name = f, path
	}
	var doc opmlDoc
	if err := xml.NewDecoder(in).Decode(&doc); err != nil {
		return fmt.Errorf("%s is not an OPML file: %w", name, err)
	}
	var feeds []importedFeed
	seen := map[string]int{}
	var walk func(outlines []opmlOutline, tags []string)
	walk = func(outlines []opmlOutline, tags []string) {
		for _, o := range outlines {
			title := o.Title
			if title == "" {
				title = o.Text
			}
			if o.XMLURL == "" {
				folder := tags
				if s := feedmux.TagSlug(title); s != "" {
					folder = append(slices.Clone(tags), s)
				}
				walk(o.Outlines, folder)
				continue
			}
			if err := feedmux.ValidateFeedURL(o.XMLURL); err != nil {
				fmt.Fprintf(stderr, "skipped %q: %v\n", title, err)
				continue
			}
			if i, ok := seen[o.XMLURL]; ok {
				// The same feed in two folders: one entry with both tags.
				feeds[i].Tags = slices.Compact(slices.Sorted(slices.Values(append(feeds[i].Tags, tags...))))
				continue
			}
			seen[o.XMLURL] = len(feeds)
			feeds = append(feeds, importedFeed{URL: o.XMLURL, Title: title, Tags: slices.Clone(tags)})
			walk(o.Outlines, tags)
		}
	}
	walk(doc.Outlines, nil)
	if len(feeds) == 0 {
		return errors.New(name + " holds no feed (no outline with an xmlUrl)")
	}
	out, err := toml.Marshal(struct {
		Feeds []importedFeed `toml:"feed"`
	}{feeds})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "# %d feeds imported from %s by feedmux import-opml\n\n", len(feeds), name)
	_, err = stdout.Write(out)
	return err
}
