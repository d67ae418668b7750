package feedmux

import "testing"

func TestXMLText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"clean ascii", "Hello, world", "Hello, world"},
		{"clean unicode", "غزة — Ελλάδα", "غزة — Ελλάδα"},
		{"controls dropped", "a\x00b\x01c\x1fd", "abcd"},
		{"whitespace kept", "a\tb\nc\rd", "a\tb\nc\rd"},
		{"invalid utf-8 replaced", "a\xffb", "a\uFFFDb"},
		{"real replacement char kept", "a\uFFFDb", "a\uFFFDb"},
		{"non-characters dropped", "a\uFFFEb\uFFFF", "ab"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := XMLText(tc.in); got != tc.want {
				t.Errorf("XMLText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
