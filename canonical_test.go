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
