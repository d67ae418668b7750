package feedmux

import (
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mmcdole/gofeed"
)

// streamAgrees checks that where streamMarkup does not give up on s, it
// makes what the tree makes of it, and tells whether it gave up.
func streamAgrees(t *testing.T, s string, base *url.URL) (streamed bool) {
	t.Helper()
	out, ok := streamMarkup(s, base)
	if !ok {
		return false
	}
	if got, want := strings.TrimSpace(XMLText(out)), treeMarkup(s, base); got != want {
		t.Errorf("the stream and the tree disagree on\n%q:\nstream %q\ntree   %q", s, got, want)
	}
	return true
}

func TestSafeHTML_Stream(t *testing.T) {
	base, _ := url.Parse("https://news.example/a/b")
	for _, s := range []string{
		`<p>Hello <a href="/x" title="t" onclick="evil()">world</a> &amp; <b>you</b></p><img src="i.png" alt="A">`,
		`<div><p>one<p>two</div>`, // the second p closes the first: the tree
		`<ul><li>a<ul><li>b</li></ul></li><li>c</ul>`,
		`<p>a</p><script>alert(1)</script><style>p{}</style>after`,
		`<h2>Title</h2><p>text<br>more<br/>lines</p><hr>`,
		`<blockquote cite="/q"><p>quoted</blockquote>`,
		`<span><em>x</span>`, `<b><i>misnested</b></i>`, `<a href="/1">one<a href="/2">two</a>`,
		`<dl><dt>term<dd>def<dt>term2</dl>`, `<p>unclosed <em>formatting`,
		`<table><tr><td>cell</td></tr></table>`, `<pre>` + "\n" + `code</pre>`,
		`<h1>a<h2>b</h2>`, `<div><b>bold</div>`, `<o:p>word</o:p> <custom-el x="1">c</custom-el>`,
		`<p>a</p></p>`, `</div>stray`, `<svg><text>t</text></svg>`, `<!-- c --><bdo dir="rtl">x</bdo>`,
		`<a name="anchor">no href</a>`, `<li>outside a list<li>again`, `<p><div>block in p</div></p>`,
		`<font color="red">red</font><center>c</center>`, `<img src="javascript:alert(1)">`,
		`<iframe src="https://www.youtube.com/embed/abc"></iframe>`, `<noscript><p>x</p></noscript>`,
		`<p>` + "\r\n" + `crlf &#13; &#0; ' " &lt;</p>`, `<h3>unclosed<p>then p`,
		`<section><div>x</section>`, `<li><p>a</li>`, `<ol><li>x</ol>`,
		"<pre>\n\nx</pre><pre><b>\nb</b></pre><pre><span>\ns</span></pre><pre><!--c-->\nx</pre>",
		"<pre><script>x</script>\ny</pre><pre>&#10;z</pre><pre></pre><p>a<pre>b</pre>",
		`<table><tr><td>a</td><td>b<p>c</td></tr></table>`, `<table> <thead><tr><th>h</th></tr></thead><tbody><tr><td>x</td></tr></tbody></table>`,
		`<table>text</table>`, `<table><tr><td>a<td>b</table>`, `<div><table><tr><td></div>x</td></tr></table></div>`,
		`<table><td>implied row</td></table>`, `<table><tr><td><table><tr><td>nested</td></tr></table></td></tr></table>`,
		`<p>a<table><tr><td><p>in cell</p></td></tr></table>`, `<table><tr><td><b>b</td></tr></table>`,
		`<table><script>s</script><tr><td>x</td></tr></table>`, `<table><tr></tbody><td>x</table>`,
		`<iframe src="https://www.youtube.com/embed/abc" width="560" onload="x">inner</iframe>after`,
		`<iframe src="https://evil.example/">x</iframe><iframe>`, `<img src="a.png"></img><br></br>`,
		`<html><head></head><body><p>doc</p></body></html>`, `<p>one<p>two<hr><p>three<ul><li>a<li>b</ul>`,
		`<li>a<div><li>b</div>`, `<dd>a<dt>b<dd>c`, `<h1>a<p>b</h1>`, `<p><span>x<div>y</div>`,
	} {
		streamAgrees(t, s, base)
	}
	// The common shapes of item HTML must take the stream, or it saves
	// nothing.
	for _, s := range []string{
		`<p>Hello <a href="/x">world</a></p><p><img src="i.png"></p>`,
		`<div><p>one</p><p>two</p></div><ul><li>a</li><li>b</li></ul>`,
		`<p>a<br>b</p><script src="x.js"></script><figure><img src="a"><figcaption>c</figcaption></figure>`,
		`<p>a <strong>b <em>c</em></strong> d`, `<div><p>unclosed</div>`,
		`<p>one<p>two`, `<ul><li>a<li>b</ul>`, "<pre>\ncode</pre>", `<img src="a"></img>`,
		`<table><tr><td>a</td></tr></table>`, `<iframe src="https://www.youtube.com/embed/x"></iframe>`,
	} {
		if !streamAgrees(t, s, base) {
			t.Errorf("the stream gives up on %q", s)
		}
	}
}

// TestSafeHTML_StreamCorpus checks the stream against the tree on every
// item's HTML in the feed corpus, and that it takes most of it.
func TestSafeHTML_StreamCorpus(t *testing.T) {
	base, _ := url.Parse("https://news.example/a/b")
	var all, streamed int
	for _, f := range corpusHTML(t) {
		if s := strings.TrimSpace(XMLText(f.html)); strings.ContainsAny(s, "<&\r") {
			all++
			if streamAgrees(t, s, base) {
				streamed++
			}
		}
	}
	t.Logf("the stream took %d of %d fragments of HTML", streamed, all)
	if streamed*2 < all {
		t.Errorf("the stream took only %d of %d fragments of HTML", streamed, all)
	}
}

// BenchmarkSafeHTML sanitizes the HTML of the feed corpus's items, as
// SafeHTML does (the stream, else the tree) and through the tree alone.
func BenchmarkSafeHTML(b *testing.B) {
	base, _ := url.Parse("https://news.example/a/b")
	var frags []string
	for _, f := range corpusHTML(b) {
		if s := strings.TrimSpace(XMLText(f.html)); strings.ContainsAny(s, "<&\r") {
			frags = append(frags, s)
		}
	}
	for _, c := range []struct {
		name string
		fn   func(string, *url.URL) string
	}{{"SafeHTML", safeMarkup}, {"tree", treeMarkup}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, s := range frags {
					c.fn(s, base)
				}
			}
		})
	}
}

// corpusFragment is the HTML of one item's summary or content in the
// feed corpus, with the file it is from.
type corpusFragment struct{ file, html string }

// corpusHTML is every non-empty fragment of item HTML in the feed corpus
// (aggregator/testdata/corpus) that gofeed parses.
func corpusHTML(tb testing.TB) []corpusFragment {
	files, err := filepath.Glob(filepath.Join("aggregator", "testdata", "corpus", "*"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("no corpus feeds (%v)", err)
	}
	var out []corpusFragment
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		doc, err := gofeed.NewParser().Parse(bytes.NewReader(body))
		if err != nil {
			continue // the corpus has broken feeds on purpose
		}
		for _, it := range doc.Items {
			for _, s := range []string{it.Description, it.Content} {
				if s != "" {
					out = append(out, corpusFragment{f, s})
				}
			}
		}
	}
	return out
}
