package feedmux

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// trackingParams are query parameters that say who sent a reader, not which
// article: removed from canonical URLs. Names ending in "*" are prefixes.
var trackingParams = []string{"utm_*", "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
	"mc_cid", "mc_eid", "igshid", "_ga", "_gl", "ocid", "cmpid", "ncid", "spm", "mkt_tok", "oly_anon_id", "oly_enc_id",
	"__twitter_impression", "at_medium", "at_campaign", "rss", "ref_src"}

// CanonicalURL is the form of an article link under which the same article
// from two feeds is recognized: scheme and host lower-cased, default ports,
// the fragment and tracking parameters (utm_*, fbclid, gclid, …) removed,
// the remaining parameters sorted. It returns "" for what is not an
// absolute http or https URL.
func CanonicalURL(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return ""
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	u.Host = host
	if port != "" {
		u.Host = host + ":" + port
	}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	if u.Path == "" {
		u.Path = "/"
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if tracking(strings.ToLower(k)) {
				q.Del(k)
			}
		}
		u.RawQuery = q.Encode() // sorted by key
	}
	u.ForceQuery = false
	return u.String()
}

func tracking(param string) bool {
	return slices.ContainsFunc(trackingParams, func(t string) bool {
		if p, ok := strings.CutSuffix(t, "*"); ok {
			return strings.HasPrefix(param, p)
		}
		return param == t
	})
}

// CopyKey is the form under which an aggregator's copy of an article (a
// Google News or Bing News item naming its publisher) is recognized as the
// publisher's own item: the publisher's host without "www.", then the
// headline's words lower-cased, punctuation dropped. publisher is any
// absolute URL of the publisher (its home page, or the article). It returns
// "" when there is no host or the headline has fewer than three words, too
// little to tell two articles apart.
func CopyKey(publisher, headline string) string {
	u, err := url.Parse(strings.TrimSpace(publisher))
	if err != nil || u.Hostname() == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	words := strings.FieldsFunc(strings.ToLower(headline), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	if len(words) < 3 {
		return ""
	}
	return host + " " + strings.Join(words, " ")
}
