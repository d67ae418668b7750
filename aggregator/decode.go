package aggregator

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/feedmux/feedmux"
	"github.com/saintfish/chardet"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// gunzipStray decompresses a body that is gzip data although the server
// did not say so (no Content-Encoding), capped at max bytes.
func gunzipStray(body []byte, max int64) ([]byte, error) {
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return body, nil // not gzip after all
	}
	out, err := io.ReadAll(io.LimitReader(zr, max+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if int64(len(out)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes after gunzip", ErrBodyTooLarge, max)
	}
	return out, nil
}

var xmlDecl = regexp.MustCompile(`^\s*<\?xml\s[^>]*?\?>`)
var xmlEncoding = regexp.MustCompile(`encoding\s*=\s*["']\s*([A-Za-z0-9._:\-]+)\s*["']`)

// toUTF8 turns a feed body into UTF-8 that XML 1.0 accepts, without its XML
// declaration, so the parser sees no encoding to convert again. The
// encoding is, in order: a byte order mark; a UTF-16 or UTF-32 byte
// pattern; UTF-8 when the bytes are valid UTF-8, whatever the declaration
// says (a CMS that declares ISO-8859-1 and writes UTF-8 is common; legacy
// text that is valid UTF-8 by accident is not); the XML declaration's
// label; the HTTP charset (used only when the document declares none, or
// one nobody knows); else a guess from the bytes, as browsers and
// feedparser make for undeclared legacy pages. Labels resolve as browsers
// do (WHATWG: ISO-8859-1 is windows-1252). Bytes that are not valid in the
// encoding become U+FFFD, and characters XML forbids go.
func toUTF8(body []byte, contentType string) []byte {
	enc, bomLen := sniffUnicode(body)
	body = body[bomLen:]
	if enc == nil && !utf8.Valid(body) {
		label := ""
		if m := xmlEncoding.FindSubmatch(declaration(body)); m != nil {
			label = string(m[1])
		}
		var name string
		enc, name = charset.Lookup(label)
		if enc == nil {
			enc, name = charset.Lookup(httpCharset(contentType))
		}
		if enc == nil || name == "utf-8" {
			enc = guessCharset(body)
		}
	}
	if enc != nil {
		if out, err := enc.NewDecoder().Bytes(body); err == nil {
			body = out
		}
	}
	if loc := xmlDecl.FindIndex(body); loc != nil {
		body = body[loc[1]:]
	}
	return feedmux.XMLBytes(body)
}

// guessCharset guesses the encoding of bytes that are not UTF-8 and say
// nothing of their encoding, with ICU's detector (saintfish/chardet), from
// their first 64 KB; windows-1252, as browsers default to, when it has no
// answer that x/text can decode.
func guessCharset(body []byte) encoding.Encoding {
	res, err := chardet.NewTextDetector().DetectBest(body[:min(len(body), 64<<10)])
	if err == nil {
		// ICU's names that are not WHATWG labels.
		name := strings.NewReplacer("GB-18030", "gb18030", "ISO-8859-8-I", "iso-8859-8-i").Replace(res.Charset)
		if e, canonical := charset.Lookup(name); e != nil && canonical != "utf-8" {
			return e
		}
	}
	return charmap.Windows1252
}

// declaration returns the XML declaration at the start of body, if any.
func declaration(body []byte) []byte {
	if len(body) > 512 {
		body = body[:512]
	}
	return xmlDecl.Find(body)
}

// sniffUnicode recognizes UTF-8, UTF-16 and UTF-32 by a byte order mark, or
// UTF-16 and UTF-32 by the pattern of a leading '<'. It returns the
// encoding (nil for plain UTF-8 or unknown) and the length of the mark.
func sniffUnicode(b []byte) (encoding.Encoding, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return nil, 3
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0, 0}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(b, []byte{0, 0, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 2
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 2
	case bytes.HasPrefix(b, []byte{'<', 0, 0, 0}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), 0
	case bytes.HasPrefix(b, []byte{0, 0, 0, '<'}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), 0
	case bytes.HasPrefix(b, []byte{'<', 0}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), 0
	case bytes.HasPrefix(b, []byte{0, '<'}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), 0
	}
	return nil, 0
}

// httpCharset returns the charset parameter of a Content-Type value.
func httpCharset(contentType string) string {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}
