package feedmux

import "testing"

func TestCanonicalURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://News.Example.COM/a/b?utm_source=rss&utm_medium=feed", "https://news.example.com/a/b"},
		{"https://news.example.com:443/a#comments", "https://news.example.com/a"},
		{"http://news.example.com:80/a", "http://news.example.com/a"},
		{"http://news.example.com:8080/a", "http://news.example.com:8080/a"},
		{"https://news.example.com/a?id=2&fbclid=x&gclid=y&page=1", "https://news.example.com/a?id=2&page=1"},
		{"https://news.example.com/a?page=1&id=2", "https://news.example.com/a?id=2&page=1"},
		{"https://news.example.com", "https://news.example.com/"},
		{"https://news.example.com/Path/Case", "https://news.example.com/Path/Case"},
		{"https://user:pw@news.example.com/a", "https://news.example.com/a"},
		{"https://news.example.com/a?", "https://news.example.com/a"},
		{"/relative", ""},
		{"mailto:ed@example.com", ""},
		{"", ""},
	}
	for _, tc := range tests {
		if got := CanonicalURL(tc.in); got != tc.want {
			t.Errorf("CanonicalURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCopyKey(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ publisher, headline, want string }{
		{"https://www.aljazeera.com", "Security Council demands ceasefire", "aljazeera.com security council demands ceasefire"},
		{"https://WWW.AlJazeera.com/news/2024/3/25/x", "Security Council demands  ceasefire!", "aljazeera.com security council demands ceasefire"},
		{"https://www.bbc.com/", "Gaza’s hospitals: what we know", "bbc.com gaza s hospitals what we know"},
		{"https://www.bbc.com/", "Live updates", ""},
		{"", "Security Council demands ceasefire", ""},
		{"not a url", "Security Council demands ceasefire", ""},
	} {
		if got := CopyKey(c.publisher, c.headline); got != c.want {
			t.Errorf("CopyKey(%q, %q) = %q, want %q", c.publisher, c.headline, got, c.want)
		}
	}
}
