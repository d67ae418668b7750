package feedmux

import (
	"golang.org/x/net/html"
	"net/url"
	"strings"
	"testing"
)

func TestSafeHTML(t *testing.T) {
	base, _ := url.Parse("https://news.example/2024/03/story.html")
	tests := []struct {
		name, in, want string
	}{
		{"plain text", "just text", "just text"},
		{"script removed", `<p>a<script>alert(1)</script>b</p>`, `<p>ab</p>`},
		{"style removed", `<style>p{}</style><p style="position:fixed">x</p>`, `<p>x</p>`},
		{"event handler removed", `<img src="/a.png" onerror="alert(1)">`, `<img src="https://news.example/a.png"/>`},
		{"javascript link dropped", `<a href="javascript:alert(1)">x</a>`, `x`},
		{"relative link resolved", `<a href="../other.html">x</a>`, `<a href="https://news.example/2024/other.html" rel="noopener noreferrer">x</a>`},
		{"rel replaced", `<a href="https://b.example/" rel="nofollow">x</a>`, `<a href="https://b.example/" rel="noopener noreferrer">x</a>`},
		{"protocol-relative image", `<img src="//cdn.example/i.jpg" alt="i">`, `<img src="https://cdn.example/i.jpg" alt="i"/>`},
		{"data png image kept", `<img src="data:image/png;base64,iVBORw0KGgo=">`, `<img src="data:image/png;base64,iVBORw0KGgo="/>`},
		{"data svg image dropped", `<img src="data:image/svg+xml;base64,PHN2Zz4=">`, ``},
		{"data link dropped", `<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>`, `x`},
		{"link without a host unwrapped", `<p><a href="//@">x <b>y</b></a> z</p>`, `<p>x <b>y</b> z</p>`},
		{"link without a host at the top unwrapped", `<A href=//@>x</A>`, `x`},
		{"youtube frame kept", `<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315" onload="x()"></iframe>`,
			`<iframe src="https://www.youtube.com/embed/dQw4w9WgXcQ" width="560" height="315"></iframe>`},
		{"other frame dropped", `<iframe src="https://evil.example/embed/x"></iframe>`, ``},
		{"form dropped", `<form action="/x"><input name="a"></form>after`, `after`},
		{"control characters removed", "a\x00b\x0bc", "abc"},
		{"entities kept", `<p>a &amp; b &lt; c</p>`, `<p>a &amp; b &lt; c</p>`},
		{"cdata end kept as text", `<p>a ]]> b</p>`, `<p>a ]]&gt; b</p>`},
		{"unclosed tags closed", `<p><b>bold<p>next`, `<p><b>bold</b></p><p><b>next</b></p>`},
		{"stray end tag dropped", `a</div>b`, `ab`},
		{"bdo becomes a span", `<bdo dir="rtl">نص</bdo>`, `<span dir="rtl">نص</span>`},
		{"svg keeps its text only", `<svg><script>alert(1)</script><a href="javascript:x">t</a><style>s</style></svg>`, `t`},
		{"math keeps its text only", `<math><mi><style><img src=x onerror=alert(1)></style>m</mi></math>`, `m`},
		{"noscript dropped whole", `<noscript><p>n</p></noscript>ok`, `ok`},
		{"noscript ends where a browser ends it", `<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>ok`, `<img src="https://news.example/2024/03/x"/>&#34;&gt;ok`},
		{"template dropped, as browsers do not show it", `<template><script>x</script><b>y</b></template>z`, `z`},
		{"textarea's markup is text", `<textarea><script>alert(1)</script></textarea>`, `&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"video frame loses its content", `<iframe src="https://www.youtube.com/embed/x"><script>alert(1)</script></iframe>`, `<iframe src="https://www.youtube.com/embed/x"></iframe>`},
		{"frame without a player dropped", `<iframe width="5" height="5">text</iframe>after`, `after`},
		{"only allowed attributes", `<p style="x" class="c" id="ok" onclick="y">t</p>`, `<p id="ok">t</p>`},
		{"srcset dropped", `<img src="x.png" srcset="https://evil.example/ 2x">`, `<img src="https://news.example/2024/03/x.png"/>`},
		{"attribute pattern", `<td colspan="2" rowspan="x">t</td>`, `t`},
		{"table cell attributes", `<table><tr><td colspan="2" rowspan="x">t</td></tr></table>`, `<table><tbody><tr><td colspan="2">t</td></tr></tbody></table>`},
		{"empty link unwrapped", `<a href="">x</a> <a href="#">y</a>`, `x y`},
		{"link with spaces unwrapped", `<a href="https://a.example/x y">x</a>`, `x`},
		{"unknown element unwrapped", `<center><font color="red">c</font></center>`, `c`},
		{"comment dropped", `a<!-- <script>x</script> -->b`, `ab`},
		{"blockquote kept", `<blockquote cite="/src">q</blockquote>`, `<blockquote cite="https://news.example/src">q</blockquote>`},
		{"control character from an entity removed", `<p>c&#2;d</p>`, `<p>cd</p>`},
		{"mailto kept", `<a href="mailto:ed@news.example">ed</a>`, `<a href="mailto:ed@news.example" rel="noopener noreferrer">ed</a>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SafeHTML(tc.in, base); got != tc.want {
				t.Errorf("SafeHTML(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestSafeHTML_NoBase(t *testing.T) {
	got := SafeHTML(`<a href="/x">x</a><img src="y.png">`, nil)
	if strings.Contains(got, "href") || strings.Contains(got, "src") {
		t.Errorf("relative URLs without a base kept: %q", got)
	}
}

func FuzzSafeHTML(f *testing.F) {
	for _, s := range []string{`<a href="x" onclick="y">z</a>`, `<script>x</script>`, `<iframe src="https://www.youtube.com/embed/x">`, "<p>\x00</p>", "plain \"quoted\" 'text'", "tab\tand\fform feed\vvertical", " spaced  out\n", "عربي ü\u00a0nbsp\u0085", "a > b",
		// Nesting, for the stream and the tree to agree on (streamMarkup).
		`<div><p>one<p>two</div>`, `<ul><li>a<ul><li>b</li></ul></li><li>c</ul>`, `<b><i>x</b></i>`,
		`<p>a <strong>b <em title=x id=y>c</em></strong> d`, `<dl><dt>t<dd>d</dl><h1>a<h2>b</h2>`,
		`<section><div><a href=/x title=t>l</a></section><script>s</script><hr>`,
		"<pre>\n\nx</pre><table><tr><td>a<p>b</td></tr></table><iframe src=x>y</iframe><img></img>"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://news.example/a/b")
	f.Fuzz(func(t *testing.T, s string) {
		out := SafeHTML(s, base)
		if err := checkSafe(out); err != "" {
			t.Fatalf("SafeHTML(%q) = %q: %s", s, out, err)
		}
		if again := SafeHTML(out, base); again != out {
			t.Fatalf("SafeHTML is not idempotent on %q:\n%q\n%q", s, out, again)
		}
		if trimmed := strings.TrimSpace(XMLText(s)); trimmed != "" {
			if slow := safeMarkup(trimmed, base); slow != out {
				t.Fatalf("SafeHTML(%q) = %q, but the sanitizer and the parser make %q", s, out, slow)
			}
			streamAgrees(t, trimmed, base)
		}
		if strict := bluemondaySafeHTML(out, base); strict != out {
			t.Fatalf("bluemonday's policy removes from SafeHTML(%q) = %q:\n%q", s, out, strict)
		}
	})
}

// checkSafe parses HTML as a browser would and says what in it is unsafe.
func checkSafe(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "style", "object", "embed", "form", "base", "meta", "link":
				return "element " + tok.Data
			}
			for _, a := range tok.Attr {
				v := strings.ToLower(strings.TrimSpace(a.Val))
				switch {
				case strings.HasPrefix(a.Key, "on"):
					return "attribute " + a.Key
				case a.Key == "style":
					return "style attribute"
				case urlAttrs[a.Key] && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") &&
					!strings.HasPrefix(v, "mailto:") && !(tok.Data == "img" && dataImage.MatchString(a.Val)):
					return a.Key + " URL " + a.Val
				}
			}
		}
	}
}

func TestFramesAsLinks(t *testing.T) {
	in := SafeHTML(`<p>Watch:</p><iframe src="https://player.vimeo.com/video/123" width="640"></iframe><p>end</p>`, nil)
	want := `<p>Watch:</p><a href="https://player.vimeo.com/video/123" rel="noopener noreferrer">Video: player.vimeo.com/video/123</a><p>end</p>`
	if got := FramesAsLinks(in); got != want {
		t.Errorf("FramesAsLinks(%q) =\n%q, want\n%q", in, got, want)
	}
	if got := FramesAsLinks("<p>no frames</p>"); got != "<p>no frames</p>" {
		t.Errorf("FramesAsLinks changed HTML without frames: %q", got)
	}
}
