package yamldoc_test

import (
	"testing"

	"github.com/sectwin/sectwin/internal/yamldoc"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name, in string
		root     bool
		kind     yamldoc.Kind
		line     int
		msg      string
	}{
		{"one document", "a: 1\n", true, 0, 0, ""},
		{"empty documents are skipped", "---\n# nothing\n---\na: 1\n---\n", true, 0, 0, ""},
		{"empty file", "", false, 0, 0, ""},
		{"a second document", "a: 1\n---\nb: 2\n", false, yamldoc.SecondDocument, 3, "a second YAML document"},
		// The parser reports this one on a 0-based line; Read makes it 1-based.
		{"parser problem", "a: 1\nb: {c: 1\n", false, yamldoc.Syntax, 2, "YAML syntax: did not find expected ',' or '}'"},
		{"scanner problem", "a: 1\nb: \"open\n", false, yamldoc.Syntax, 2, "YAML syntax: found unexpected end of stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := yamldoc.Read([]byte(tt.in))
			if (root != nil) != tt.root {
				t.Errorf("root %v, want present %v", root, tt.root)
			}
			switch {
			case tt.msg == "" && err != nil:
				t.Errorf("error %+v", err)
			case tt.msg != "" && (err == nil || err.Kind != tt.kind || err.Line != tt.line || err.Message != tt.msg):
				t.Errorf("error %+v, want kind %d line %d %q", err, tt.kind, tt.line, tt.msg)
			}
		})
	}
}
