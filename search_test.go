package feedmux

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// tokenizerText is HTMLText as x/net/html's tokenizer reads it: the oracle
// for what SafeHTML writes.
func tokenizerText(s string) string {
	var b strings.Builder
	z := html.NewTokenizer(strings.NewReader(s))
	skip := false
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if !skip {
				b.Write(z.Text())
			}
		case html.StartTagToken:
			name, _ := z.TagName()
			skip = string(name) == "script" || string(name) == "style"
			b.WriteByte(' ')
		case html.EndTagToken, html.SelfClosingTagToken:
			skip = false
			b.WriteByte(' ')
		}
	}
}

func TestHTMLText(t *testing.T) {
	base, _ := url.Parse("https://news.example/a/b")
	for _, src := range []string{
		"plain words",
		"Fish &amp; chips &lt;3 &eacute;t&#233; &nbsp;done",
		`<p class="lead">First <b>bold</b> and <i>italic</i></p><p>Second</p>`,
		`<a href="/x?a=1&b=2" title="a > b">link &gt; text</a> after`,
		`<img src="i.png" alt="1 < 2"><br/>line<BR>Line`,
		`<script>var x = "<p>no</p>";</script>visible<style>p { color: red }</style>too`,
		`<p>unclosed <b>tags <i>nest`,
		`3 < 4 and 5 > 2, x<y`,
		`<!-- a comment > with a bracket -->after the comment`,
		`<table><tr><td>cell</td><td>two</td></tr></table>`,
		`<ul><li>one<li>two</ul>`,
		"<pre>  spaced\n  text </pre>",
		`<p>عربي &amp; français</p>`,
	} {
		safe := SafeHTML(src, base)
		if got, want := HTMLText(safe), tokenizerText(safe); got != want {
			t.Errorf("HTMLText(SafeHTML(%q)) = %q, want %q as the tokenizer reads %q", src, got, want, safe)
		}
	}
	// What SafeHTML never writes, read as the tokenizer does all the same.
	for _, raw := range []string{
		`<script>var s = "</p>";</script>after`,
		`<STYLE>b{}</STYLE>after`,
		`a < b`,
		`<p>open`,
	} {
		if got, want := HTMLText(raw), tokenizerText(raw); got != want {
			t.Errorf("HTMLText(%q) = %q, want %q", raw, got, want)
		}
	}
}

func BenchmarkHTMLText(b *testing.B) {
	s := SafeHTML(strings.Repeat(`<p>Body text of the <a href="https://x.example/a">item</a> &amp; more. </p>`, 15), nil)
	for _, c := range []struct {
		name string
		text func(string) string
	}{{"scan", HTMLText}, {"tokenizer", tokenizerText}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				c.text(s)
			}
		})
	}
}
