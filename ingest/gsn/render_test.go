package gsn

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// requireDot skips a test when Graphviz is not installed.
func requireDot(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz dot is not installed")
	}
}

// svgDoc is what the tests read from an SVG: all text, and every class and fill attribute.
type svgDoc struct {
	text    string   // character data, one text element a line
	classes []string // class attributes
	fills   []string // fill and stroke attributes
}

// parseSVG reads an SVG with encoding/xml, failing the test when it is not well-formed.
func parseSVG(t *testing.T, svg []byte) svgDoc {
	t.Helper()
	d := xml.NewDecoder(bytes.NewReader(svg))
	d.Strict = true
	var doc svgDoc
	var text strings.Builder
	root := ""
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "class":
					doc.classes = append(doc.classes, a.Value)
				case "fill", "stroke":
					doc.fills = append(doc.fills, a.Value)
				}
			}
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			if tok.Name.Local == "text" || tok.Name.Local == "title" {
				text.WriteByte('\n')
			}
		}
	}
	if root != "svg" {
		t.Fatalf("root element is %q, want svg", root)
	}
	doc.text = text.String()
	return doc
}
