package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOPML_RoundTrip: /feeds.opml of a running daemon, read back by
// import-opml, gives the same feeds with the same tags and titles.
func TestOPML_RoundTrip(t *testing.T) {
	feeds := newFeedServer(t)
	m := startMain(t, writeConfig(t, feeds.URL), filepath.Join(t.TempDir(), "feedmux.db"))
	resp, opml := get(t, "http://"+m.Server.Addr().String()+"/feeds.opml")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/x-opml") {
		t.Fatalf("/feeds.opml: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	var stdout, stderr strings.Builder
	if err := runImportOPML([]string{"-"}, strings.NewReader(string(opml)), &stdout, &stderr); err != nil {
		t.Fatalf("import-opml: %v\n%s", err, stderr.String())
	}
	cfg, err := ParseConfig("imported.toml", []byte(stdout.String()))
	if err != nil {
		t.Fatalf("imported entries do not parse: %v\n%s", err, stdout.String())
	}
	got := map[string][]string{}
	titles := map[string]string{}
	for _, f := range cfg.Feeds {
		got[f.URL] = f.Tags
		titles[f.URL] = f.Title
	}
	for _, f := range m.Config.Feeds {
		if tags := slices.Sorted(slices.Values(f.Tags)); !slices.Equal(got[f.URL], tags) {
			t.Errorf("%s: imported tags %v, want %v", f.URL, got[f.URL], tags)
		}
		if f.Title != "" && titles[f.URL] != f.Title {
			t.Errorf("%s: imported title %q, want %q", f.URL, titles[f.URL], f.Title)
		}
	}
	if len(cfg.Feeds) != len(m.Config.Feeds) {
		t.Errorf("%d feeds imported, want %d:\n%s", len(cfg.Feeds), len(m.Config.Feeds), stdout.String())
	}
}

func TestImportOPML_Folders(t *testing.T) {
	path := filepath.Join(t.TempDir(), "subs.opml")
	doc := `<?xml version="1.0"?><opml version="2.0"><head><title>Subs</title></head><body>
<outline text="Middle East"><outline text="Al Jazeera" xmlUrl="https://www.aljazeera.com/xml/rss/all.xml"/>
<outline text="Nested"><outline text="Deep" xmlUrl="https://deep.example/rss"/></outline></outline>
<outline text="Tech"><outline text="AJ again" xmlUrl="https://www.aljazeera.com/xml/rss/all.xml"/></outline>
<outline text="Bad" xmlUrl="ftp://example.com/feed"/></body></opml>`
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if err := run(t.Context(), []string{"import-opml", path}, &stdout, &stderr, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseConfig("x.toml", []byte(stdout.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, stdout.String())
	}
	want := map[string][]string{
		"https://www.aljazeera.com/xml/rss/all.xml": {"middle-east", "tech"},
		"https://deep.example/rss":                  {"middle-east", "nested"},
	}
	if len(cfg.Feeds) != 2 {
		t.Fatalf("%d feeds, want 2:\n%s", len(cfg.Feeds), stdout.String())
	}
	for _, f := range cfg.Feeds {
		if !slices.Equal(f.Tags, want[f.URL]) {
			t.Errorf("%s tags %v, want %v", f.URL, f.Tags, want[f.URL])
		}
	}
	if !strings.Contains(stderr.String(), `skipped "Bad"`) {
		t.Errorf("the ftp feed was not reported: %q", stderr.String())
	}
}
