package feedmux

import "testing"

func TestTagSlug(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"words", "Middle East News", "middle-east-news"},
		{"hyphen kept as one dash", "Israel-Gaza War Updates", "israel-gaza-war-updates"},
		{"runs collapse", "  Tech -- & Science!! ", "tech-science"},
		{"digits", "COVID 19", "covid-19"},
		{"already a slug", "middle-east", "middle-east"},
		{"arabic", "الشرق الأوسط", "الشرق-الأوسط"},
		{"arabic with shadda", "غزّة", "غزّة"},
		{"cyrillic upper case", "Ближний Восток", "ближний-восток"},
		{"greek", "Ελλάδα", "ελλάδα"},
		{"nfkc fullwidth", "ＴＥＣＨ", "tech"},
		{"accents", "Économie Française", "économie-française"},
		{"leading mark dropped", "\u0301abc", "abc"},
		{"only punctuation", "--!!--", ""},
		{"empty", "", ""},
		{"underscore separates", "world_news", "world-news"},
		{"cjk", "中国 新闻", "中国-新闻"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := TagSlug(tc.in); got != tc.want {
				t.Errorf("TagSlug(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if got := TagSlug(TagSlug(tc.in)); got != tc.want {
				t.Errorf("TagSlug is not idempotent on %q: %q", tc.in, got)
			}
		})
	}
}

func TestValidTag(t *testing.T) {
	for _, s := range []string{"middle-east", "iran", "الشرق-الأوسط", "covid-19"} {
		if !ValidTag(s) {
			t.Errorf("ValidTag(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", "Middle East", "-x", "x-", "a--b", "a b", "-", "a_b", "A", "a.b", "é-x-"} {
		if ValidTag(s) {
			t.Errorf("ValidTag(%q) = true, want false", s)
		}
	}
}

func FuzzTagSlug(f *testing.F) {
	for _, s := range []string{"Middle East News", "الشرق الأوسط", "\u0301x", "a\x00b", "ＴＥＣＨ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := TagSlug(s)
		if got != "" && !ValidTag(got) {
			t.Fatalf("TagSlug(%q) = %q, which is not a valid tag", s, got)
		}
		// ASCII takes a shortcut: it must say what TagSlug says.
		if slow := s != "" && got == s; ValidTag(s) != slow {
			t.Fatalf("ValidTag(%q) = %v, but TagSlug says %v", s, !slow, slow)
		}
	})
}
