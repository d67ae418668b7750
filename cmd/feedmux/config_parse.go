package main

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
	"github.com/pelletier/go-toml/v2/unstable"
)

// LoadConfig reads the configuration file at path over DefaultConfig. It
// reports every problem it finds at once, each a *ConfigError, joined.
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return ParseConfig(path, data)
}

// ParseConfig parses a configuration document; name is used in errors.
// Every problem is reported at once, sorted by line: a value of the wrong
// form is reported and then left out, so that the rest is still decoded and
// checked. Only a TOML syntax error stops the decoding; the tables before it
// are still checked.
func ParseConfig(name string, data []byte) (Config, error) {
	doc := parseDocument(data)
	if doc.syntax != nil {
		se := syntaxError(name, data)
		errs := []error{se}
		if prefix := data[:doc.complete(data, se.Line)]; len(bytes.TrimSpace(prefix)) > 0 {
			if _, err := ParseConfig(name, prefix); err != nil {
				errs = append(errs, err.(interface{ Unwrap() []error }).Unwrap()...)
			}
		}
		return Config{}, sortedErrors(errs)
	}
	cfg, errs := decodeConfig(name, data, doc)
	errs = append(errs, cfg.validate(name, doc.pos)...)
	if len(errs) > 0 {
		return Config{}, sortedErrors(errs)
	}
	return cfg, nil
}

// decodeConfig decodes data over DefaultConfig. A value the decoder rejects
// (a bad duration, a string for a number) is reported, blanked out of the
// document, and the decoding starts again without it, until nothing is
// rejected; unknown keys are reported last, since the decoder finds them
// only once everything else was decoded.
func decodeConfig(name string, data []byte, doc document) (Config, []error) {
	var errs []error
	work := bytes.Clone(data)
	for range len(doc.exprs) + 1 {
		cfg := DefaultConfig()
		dec := toml.NewDecoder(bytes.NewReader(work))
		dec.DisallowUnknownFields()
		err := dec.Decode(&cfg)
		var (
			strict *toml.StrictMissingError
			de     *toml.DecodeError
		)
		switch {
		case err == nil:
			return cfg, errs
		case errors.As(err, &strict):
			for _, de := range strict.Errors {
				line, col := de.Position()
				errs = append(errs, &ConfigError{File: name, Line: line, Column: col,
					Msg: fmt.Sprintf("unknown key %q", strings.Join(de.Key(), "."))})
			}
			return cfg, errs
		case errors.As(err, &de):
			line, col := de.Position()
			msg := plainDecodeMessage(strings.TrimPrefix(de.Error(), "toml: "))
			if k := de.Key(); len(k) > 0 {
				msg = strings.Join(k, ".") + ": " + msg
			}
			errs = append(errs, &ConfigError{File: name, Line: line, Column: col, Msg: msg})
			if !doc.blankValueAt(work, line) {
				return cfg, errs // not a key's value: nothing to leave out
			}
		default:
			return cfg, append(errs, &ConfigError{File: name, Msg: err.Error()})
		}
	}
	return DefaultConfig(), errs
}

// decodeTypeMessage is go-toml's message for a value of the wrong type.
var decodeTypeMessage = regexp.MustCompile(`^cannot decode TOML (\w+) into struct field \S+ of type (\S+)$`)

// plainDecodeMessage says a decoder's complaint in the operator's terms:
// "a string, where an integer is expected", not Go's struct field types.
func plainDecodeMessage(msg string) string {
	m := decodeTypeMessage.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := map[string]string{
		"int": "an integer", "int64": "an integer", "float64": "a number", "string": "a string",
		"bool": "true or false", "*bool": "true or false", "[]string": "a list of strings",
		"main.Duration": `a duration such as "15m"`,
	}[m[2]]
	if want == "" {
		return msg
	}
	return fmt.Sprintf("a TOML %s, where %s is expected", m[1], want)
}

// syntaxError is the first syntax error of data, with its position.
func syntaxError(name string, data []byte) *ConfigError {
	var v map[string]any
	err := toml.Unmarshal(data, &v)
	var de *toml.DecodeError
	if !errors.As(err, &de) {
		return &ConfigError{File: name, Msg: fmt.Sprintf("TOML syntax error: %v", err)}
	}
	line, col := de.Position()
	return &ConfigError{File: name, Line: line, Column: col,
		Msg: "TOML syntax error: " + strings.TrimPrefix(de.Error(), "toml: ") + " (the rest of the file is checked once this is fixed)"}
}

// sortedErrors joins errs sorted by line and column.
func sortedErrors(errs []error) error {
	slices.SortStableFunc(errs, func(a, b error) int {
		var ca, cb *ConfigError
		errors.As(a, &ca)
		errors.As(b, &cb)
		if ca == nil || cb == nil {
			return 0
		}
		return cmp.Or(cmp.Compare(ca.Line, cb.Line), cmp.Compare(ca.Column, cb.Column))
	})
	return errors.Join(errs...)
}

// document is what the TOML parser tells of a configuration document
// before it is decoded.
type document struct {
	// pos maps keys to where their values start: "poll.interval",
	// "feed.0" (the table header), "feed.0.url".
	pos map[string]unstable.Position
	// exprs are the document's expressions in order, up to the first
	// syntax error, if any.
	exprs  []expression
	syntax error
}

// complete is the length of the part of data before the table that holds
// line: the tables in it are whole.
func (doc document) complete(data []byte, line int) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	if line >= 1 && line <= len(lines) && bytes.HasPrefix(bytes.TrimSpace(lines[line-1]), []byte("[")) {
		return len(bytes.Join(lines[:line-1], nil)) // a broken table header ends the table before it
	}
	for _, e := range slices.Backward(doc.exprs) {
		if e.table && e.line <= line {
			return e.offset
		}
	}
	return 0
}

// expression is one key-value pair or table header, from the line it
// starts on.
type expression struct {
	line   int
	offset int
	table  bool
}

// inArrayTable places a table inside the array table it belongs to:
// [feed.scrape] after the third [[feed]] is "feed.2.scrape".
func inArrayTable(path string, arrays map[string]int) string {
	for name, n := range arrays {
		if strings.HasPrefix(path, name+".") {
			return name + "." + strconv.Itoa(n-1) + path[len(name):]
		}
	}
	return path
}

// parseDocument reads the expressions of data with go-toml's parser.
func parseDocument(data []byte) document {
	doc := document{pos: map[string]unstable.Position{}}
	var (
		p      unstable.Parser
		prefix string
		arrays = map[string]int{}
	)
	p.Reset(data)
	for p.NextExpression() {
		e := p.Expression()
		it := e.Key()
		it.Next()
		keyStart := p.Shape(it.Node().Raw).Start
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			prefix = inArrayTable(keyPath(e), arrays)
			if e.Kind == unstable.ArrayTable {
				n := arrays[prefix]
				arrays[prefix] = n + 1
				prefix += "." + strconv.Itoa(n)
			}
			doc.pos[prefix] = keyStart
			doc.exprs = append(doc.exprs, expression{line: keyStart.Line, offset: lineStart(data, keyStart.Offset), table: true})
		case unstable.KeyValue:
			k := keyPath(e)
			if prefix != "" {
				k = prefix + "." + k
			}
			start := keyStart
			if r := e.Value().Raw; r.Length > 0 { // arrays and inline tables: point at the key
				start = p.Shape(r).Start
			}
			doc.pos[k] = start
			doc.exprs = append(doc.exprs, expression{line: keyStart.Line, offset: lineStart(data, keyStart.Offset)})
		}
	}
	doc.syntax = p.Error()
	return doc
}

// blankValueAt replaces the key-value pair that holds line with spaces in
// work (newlines stay, so every other position holds), and reports whether
// there was one.
func (doc document) blankValueAt(work []byte, line int) bool {
	i, found := slices.BinarySearchFunc(doc.exprs, line, func(e expression, line int) int { return cmp.Compare(e.line, line) })
	if !found {
		i--
	}
	if i < 0 || doc.exprs[i].table {
		return false
	}
	end := len(work)
	if i+1 < len(doc.exprs) {
		end = doc.exprs[i+1].offset
	}
	blank := false
	for k := doc.exprs[i].offset; k < end; k++ {
		if work[k] != '\n' && work[k] != '\r' {
			blank = blank || work[k] != ' '
			work[k] = ' '
		}
	}
	return blank
}

// lineStart is the offset of the start of the line that holds offset.
func lineStart(data []byte, offset int) int {
	return bytes.LastIndexByte(data[:offset], '\n') + 1
}

func keyPath(n *unstable.Node) string {
	var parts []string
	for it := n.Key(); it.Next(); {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}
