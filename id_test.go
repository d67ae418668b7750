package feedmux

import (
	"strings"
	"testing"
	"time"
)

func TestItemKey(t *testing.T) {
	date := time.Date(2024, 3, 26, 11, 25, 0, 0, time.UTC)
	tests := []struct {
		name                string
		guid, link, title   string
		published           time.Time
		want                string
		wantHashed, wantNot bool
	}{
		{name: "guid wins", guid: " abc-1 ", link: "https://x.org/1", want: "abc-1"},
		{name: "link without guid", link: "https://x.org/1", want: "https://x.org/1"},
		{name: "hash of title and date", title: "Hello", published: date, wantHashed: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := ItemKey(tc.guid, tc.link, tc.title, tc.published)
			if tc.wantHashed {
				if !strings.HasPrefix(got, "sha256:") || len(got) != len("sha256:")+64 {
					t.Fatalf("ItemKey = %q, want a sha256 key", got)
				}
				return
			}
			if got != tc.want {
				t.Errorf("ItemKey = %q, want %q", got, tc.want)
			}
		})
	}
	a := ItemKey("", "", "Hello", date)
	if b := ItemKey("", "", "Hello", date.Add(time.Hour)); a == b {
		t.Errorf("hash key ignores the date: %q", a)
	}
	if b := ItemKey("", "", "Hello!", date); a == b {
		t.Errorf("hash key ignores the title: %q", a)
	}
	if b := ItemKey("", "", "Hello", date.In(time.FixedZone("x", 3600))); a != b {
		t.Errorf("hash key depends on the zone: %q != %q", a, b)
	}
}

func TestItemID(t *testing.T) {
	id := ItemID("https://a.example/rss", "k1")
	if !strings.HasPrefix(id, "urn:uuid:") || len(id) != len("urn:uuid:")+36 {
		t.Fatalf("ItemID = %q, want a urn:uuid", id)
	}
	if again := ItemID("https://a.example/rss", "k1"); again != id {
		t.Errorf("ItemID not stable: %q then %q", id, again)
	}
	for _, other := range []string{
		ItemID("https://b.example/rss", "k1"),
		ItemID("https://a.example/rss", "k2"),
		ItemID("https://a.example/rssk", "1"), // no ambiguity at the join
		FeedID("https://a.example/rss"),
	} {
		if other == id {
			t.Errorf("distinct inputs share the id %q", id)
		}
	}
	// Pinned: changing the scheme would re-publish every item under a new id.
	if got, want := ItemID("https://a.example/rss", "k1"), "urn:uuid:475b7051-ba8a-5079-a830-5ce5547e4ac9"; got != want {
		t.Errorf("ItemID changed: got %q, want %q", got, want)
	}
}
