// Package yamldoc reads the one YAML document a sectwin file holds (a twin manifest, an edge
// config, a gsn2x module) with yaml.v3, and turns the library's errors into 1-based lines a
// user can find. Each caller words its own problems; this package only says what went wrong
// where.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind says what went wrong.
type Kind int

const (
	// Syntax is malformed YAML; Message is the parser's words, prefixed "YAML syntax: ".
	Syntax Kind = iota
	// SecondDocument is a second non-empty document; Line and Column say where it starts.
	SecondDocument
	// ParserFailed is a panic of the YAML library, reported rather than crashing the caller
	// (a server handling an upload).
	ParserFailed
)

// Error is one problem reading a document.
type Error struct {
	Kind         Kind
	Line, Column int // 1-based; 0 when the library does not say
	Message      string
}

func (e *Error) Error() string { return e.Message }

var syntaxLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser (not its scanner). For them it reports a
// 0-based line, the line where the enclosing construct starts (or, without one, where the
// problem is), and no line at all for line 1.
var parserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

// Read returns the root node of the single document in data. Empty documents (a lone "---",
// comments) are skipped; a file with none gives a nil root and a nil error.
func Read(data []byte) (root *yaml.Node, err *Error) {
	defer func() {
		if r := recover(); r != nil {
			root, err = nil, &Error{Kind: ParserFailed, Message: fmt.Sprintf("YAML parser failed: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		derr := dec.Decode(&doc)
		if errors.Is(derr, io.EOF) {
			return root, nil
		}
		if derr != nil {
			return nil, syntaxError(derr)
		}
		n := &doc
		if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
			n = n.Content[0]
		}
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == "" {
			continue // an empty document
		}
		if root != nil {
			return nil, &Error{Kind: SecondDocument, Line: n.Line, Column: n.Column, Message: "a second YAML document"}
		}
		root = n
	}
}

// syntaxError turns a parse error into a Syntax error with a 1-based line.
func syntaxError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := syntaxLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if slices.Contains(parserProblems, msg) {
		line++
	}
	return &Error{Kind: Syntax, Line: line, Message: "YAML syntax: " + msg}
}

// DecodeStrict decodes the decoder's next document into v, turning a panic of the YAML library
// into an error.
func DecodeStrict(dec *yaml.Decoder, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("YAML decoder failed: %v", r)
		}
	}()
	return dec.Decode(v)
}

// Child is the value of key in mapping n, or nil.
func Child(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}
