package gsn

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

// normalizeSpace collapses runs of white space, as line breaks in a drawing do not matter.
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// hostile is a case whose ids, texts, classes and links are built to break DOT, XML and SVG.
const hostile = `G1:
  text: "Quotes \" and ' , <tags> & entities &amp; ]]> -- \\N \\l \\G backslash\\"
  supportedBy: ["Sn<1>", "G\"2\\"]
  inContextOf: ["C&1"]
  url: "javascript:alert(1)"
"C&1":
  text: "<!-- comment --> <![CDATA[ x ]]> <?pi?>"
  url: "https://example.org/?q=\"a\"&b=<c>"
"Sn<1>":
  text: "line one\nline two\n\ttabbed\n\u00e9\u4e2d\u6587 \U0001F512 \u05e9\u05dc\u05d5\u05dd"
"G\"2\\":
  text: "control\x01char\x7f"
  undeveloped: true
  classes: ["bad class\"><script>", ok-class]
`

// TestRenderEscapes: whatever the texts, dot gets valid input and the SVG is well-formed XML that
// shows every id and text as written.
func TestRenderEscapes(t *testing.T) {
	requireDot(t)
	c, err := ParseSet(map[string][]byte{"hostile.yaml": []byte(hostile)})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := RenderSVG(context.Background(), c, RenderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	text := normalizeSpace(doc.text)
	for _, e := range c.Elements() {
		if !strings.Contains(doc.text, e.ID) {
			t.Errorf("SVG lacks id %q", e.ID)
		}
		want := strings.NewReplacer("\t", " ", "\x01", "\uFFFD", "\x7f", "\x7f").Replace(e.Text)
		if !strings.Contains(text, normalizeSpace(want)) {
			t.Errorf("SVG lacks the text of %s: %q\nin\n%s", e.ID, want, doc.text)
		}
	}
	if bytes.Contains(svg, []byte("javascript:")) {
		t.Error("a javascript: link reached the SVG")
	}
	if !bytes.Contains(svg, []byte(`https://example.org/?q=&quot;a&quot;&amp;b=&lt;c&gt;`)) &&
		!bytes.Contains(svg, []byte(`https://example.org/?q=%22a%22&amp;b=%3Cc%3E`)) {
		t.Errorf("the context's link is missing or unescaped:\n%s", svg)
	}
	if bytes.Contains(svg, []byte("<script")) || bytes.Contains(svg, []byte("<!-- comment")) {
		t.Error("markup from a text reached the SVG")
	}
	if !slices.ContainsFunc(doc.classes, func(s string) bool { return strings.Contains(s, "ok-class") }) {
		t.Error("a user class is missing")
	}
	if slices.ContainsFunc(doc.classes, func(s string) bool { return strings.Contains(s, "bad") }) {
		t.Error("an unsafe user class reached the SVG")
	}
}

// TestRenderStatus: status classes and colours, GSN shapes and links, and the legend.
func TestRenderStatus(t *testing.T) {
	requireDot(t)
	c, err := ParseSet(map[string][]byte{"full.gsn.yaml": fixture(t, "full.gsn.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	ann := Annotations{
		"G1":  {Status: StatusUndermined, Reasons: []string{"DEFEATED", "EVIDENCE_FAIL"}},
		"S1":  {Status: StatusUnknown, Reasons: []string{"EVIDENCE_STALE"}},
		"G2":  {Status: StatusSupported},
		"G3":  {Status: StatusUndeveloped, Reasons: []string{"NOT_DEVELOPED"}},
		"Sn1": {Status: StatusSupported},
	}
	svg, err := RenderSVG(context.Background(), c, RenderOptions{Annotations: ann, Legend: true})
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	for _, e := range c.Elements() {
		if !strings.Contains(doc.text, e.ID) {
			t.Errorf("SVG lacks element %s", e.ID)
		}
		if !strings.Contains(normalizeSpace(doc.text), normalizeSpace(e.Text)) {
			t.Errorf("SVG lacks the text of %s: %q", e.ID, e.Text)
		}
	}
	classOf := func(want ...string) bool {
		return slices.ContainsFunc(doc.classes, func(s string) bool {
			f := strings.Fields(s)
			for _, w := range want {
				if !slices.Contains(f, w) {
					return false
				}
			}
			return true
		})
	}
	for _, want := range [][]string{
		{"gsngoal", "st-undermined"}, {"gsnstrategy", "st-unknown"}, {"gsngoal", "st-supported"},
		{"gsngoal", "gsn_undeveloped", "st-undeveloped"}, {"gsnsolution", "st-supported"},
		{"gsncontext"}, {"gsnassumption"}, {"gsnjustification"}, {"gsncountergoal"}, {"gsncountersolution"},
		{"gsn_defeated"}, {"gsn_supportedby"}, {"gsn_incontextof"}, {"gsn_challenges"}, {"gsnlegend"},
		{"top", "critical"},
	} {
		if !classOf(want...) {
			t.Errorf("no SVG element with classes %v", want)
		}
	}
	for _, s := range statusOrder {
		col := statusColours[s]
		if !slices.Contains(doc.fills, col[0]) || !slices.Contains(doc.fills, col[1]) {
			t.Errorf("colours of %s (%v) missing", s, col)
		}
		if !strings.Contains(doc.text, string(s)) {
			t.Errorf("legend or label lacks %s", s)
		}
	}
	for _, want := range []string{"Legend", "DEFEATED, EVIDENCE_FAIL", "EVIDENCE_STALE", "ACP1", "ACP2", "✗ defeated", "◇"} {
		if !strings.Contains(doc.text, want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	// The shapes and arrowheads dot was asked for.
	src, _ := DOT(c, RenderOptions{Annotations: ann})
	for _, want := range []string{"shape=box", "shape=parallelogram", "shape=circle", `style="rounded,filled"`, "shape=ellipse", "peripheries=2", "arrowhead=normal", "arrowhead=empty", "dir=back", "URL=\"https://example.org/context?a=1&amp;b=2\""} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("DOT lacks %s", want)
		}
	}
}

// TestRenderModuleView: a module's view shows what it refers to in other modules as away elements.
func TestRenderModuleView(t *testing.T) {
	requireDot(t)
	c, err := ParseSet(fixtureSet(t, "modular"))
	if err != nil {
		t.Fatal(err)
	}
	svg, err := RenderSVG(context.Background(), c, RenderOptions{Module: "Main"})
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	for _, want := range []string{"G1", "S1", "G2", "G10", "Sub", "Template", "Module Main"} {
		if !strings.Contains(doc.text, want) {
			t.Errorf("Main's view lacks %q", want)
		}
	}
	if strings.Contains(doc.text, "Sn2") || strings.Contains(doc.text, "G11") {
		t.Error("Main's view shows elements it does not refer to")
	}
	if !slices.ContainsFunc(doc.classes, func(s string) bool { return strings.Contains(s, "gsnaway") }) {
		t.Error("no away element")
	}
	// The extending module shows the element it develops.
	svg, err = RenderSVG(context.Background(), c, RenderOptions{Module: "Instance"})
	if err != nil {
		t.Fatal(err)
	}
	if doc := parseSVG(t, svg); !strings.Contains(doc.text, "G10") || !slices.ContainsFunc(doc.classes, func(s string) bool { return strings.Contains(s, "gsn_develops") }) {
		t.Errorf("Instance's view lacks the developed G10:\n%s", doc.text)
	}
	if _, err := DOT(c, RenderOptions{Module: "Nope"}); err == nil {
		t.Error("an unknown module renders")
	}
}

// TestRenderDot: dot missing, slow or failing.
func TestRenderDot(t *testing.T) {
	c, err := ParseSet(map[string][]byte{"a.yaml": []byte("G1:\n  undeveloped: true\n")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, p := range []string{"/nonexistent/bin/dot", "sectwin-no-such-dot"} {
		_, err := RenderSVG(ctx, c, RenderOptions{DotPath: p})
		if !errors.Is(err, ErrNoGraphviz) || !strings.Contains(err.Error(), "install graphviz") {
			t.Errorf("DotPath %s: err = %v, want ErrNoGraphviz", p, err)
		}
	}
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	start := time.Now()
	_, err = RenderSVG(ctx, c, RenderOptions{DotPath: script("slow", "exec sleep 30"), Timeout: 200 * time.Millisecond})
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow dot: err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("slow dot took %v to give up", d)
	}
	_, err = RenderSVG(ctx, c, RenderOptions{DotPath: script("failing", "echo 'Error: syntax error in line 1' >&2; exit 1")})
	if err == nil || !strings.Contains(err.Error(), "syntax error in line 1") {
		t.Errorf("failing dot: err = %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := RenderSVG(cctx, c, RenderOptions{DotPath: script("slow2", "exec sleep 30")}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err = %v", err)
	}
}

func TestHTMLText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		wrap int
		want string
	}{
		{`a<b>&"c'`, 0, `a&lt;b&gt;&amp;&quot;c&#39;`},
		{"one\ntwo\n", 0, `one<BR ALIGN="LEFT"/>two`},
		{"one\n\nthree", 0, `one<BR ALIGN="LEFT"/> <BR ALIGN="LEFT"/>three`},
		{"the quick brown fox", 9, `the quick<BR ALIGN="LEFT"/>brown fox`},
		{"x\x00y\ufffez", 0, "x\uFFFDy\uFFFDz"},
		{"tab\there", 0, "tab here"},
	} {
		if got := htmlText(tc.in, tc.wrap); got != tc.want {
			t.Errorf("htmlText(%q, %d) = %q, want %q", tc.in, tc.wrap, got, tc.want)
		}
	}
}

// TestRenderEveryCharacter: every ASCII character and a sample of Unicode, in ids and texts, gives
// well-formed SVG that shows them.
func TestRenderEveryCharacter(t *testing.T) {
	requireDot(t)
	var ascii strings.Builder
	for r := rune(0x20); r < 0x7f; r++ {
		ascii.WriteRune(r)
	}
	texts := []string{
		ascii.String(),
		"\x00\x01\x02\x07\x08\x0b\x0c\x1b\x1f\x7f tabs\tand\r\nCRLF",
		"Ünïcödé ß ø ĳ Ω Ж ع ש 中文 日本語 한국어 ∀∃∈ ≤≥ → ⇒ 🔒🚀 \u200b\u200e\ufeff \ufffe\uffff",
		`\N \G \E \H \T \L \n \l \r \\ \`,
		"&lt; &amp; &#60; &#x3C; &bogus; & ; <b>bold</b> <BR/> </TABLE> ]]> <![CDATA[",
	}
	m := &Module{File: "chars", Name: "chars <&> \\N"}
	root := &Element{ID: "G0", Type: Goal}
	m.Elements = append(m.Elements, root)
	for i, s := range texts {
		id := fmt.Sprintf("Sn%d %s", i, s[:min(len(s), 12)])
		root.SupportedBy = append(root.SupportedBy, id)
		m.Elements = append(m.Elements, &Element{ID: id, Type: Solution, Text: s, URL: "https://example.org/" + s})
	}
	c, err := NewCase([]*Module{m}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := RenderSVG(context.Background(), c, RenderOptions{Legend: true})
	if err != nil {
		t.Fatal(err)
	}
	doc := parseSVG(t, svg)
	visible := func(s string) string {
		return normalizeSpace(strings.Map(func(r rune) rune {
			switch {
			case r == '\t' || r == '\r' || r == '\n':
				return ' '
			case !xmlChar(r):
				return '\uFFFD'
			}
			return r
		}, s))
	}
	text := normalizeSpace(doc.text)
	for _, e := range m.Elements[1:] {
		if !strings.Contains(text, visible(e.Text)) {
			t.Errorf("SVG lacks %q\nin\n%s", visible(e.Text), doc.text)
		}
		if !strings.Contains(text, visible(e.ID)) {
			t.Errorf("SVG lacks id %q", e.ID)
		}
	}
}
