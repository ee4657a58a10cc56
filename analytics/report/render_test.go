package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func renderer(t testing.TB) *Renderer {
	t.Helper()
	rd, err := NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func mustRender(t testing.TB, rd *Renderer, r *Report, f Format) string {
	t.Helper()
	b, err := rd.Bytes(r, f)
	if err != nil {
		t.Fatalf("render %s: %v", f, err)
	}
	if !utf8.Valid(b) {
		t.Fatalf("%s rendering is not valid UTF-8", f)
	}
	return string(b)
}

func TestGolden(t *testing.T) {
	rd := renderer(t)
	reports := map[string]*Report{"fixed": fixedReport(), "empty": emptyReport()}
	for name, r := range reports {
		for _, f := range Formats() {
			t.Run(name+"."+string(f), func(t *testing.T) {
				var buf bytes.Buffer
				if err := rd.Render(&buf, r, f); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name+"."+f.Ext()+".golden")
				if *update {
					if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(buf.Bytes(), want) {
					t.Errorf("%s differs from %s (run go test -update and review the diff)", f, path)
				}
			})
		}
	}
}

func TestRenderPackageFunc(t *testing.T) {
	var a, b bytes.Buffer
	if err := Render(&a, fixedReport(), Markdown); err != nil {
		t.Fatal(err)
	}
	if err := renderer(t).Render(&b, fixedReport(), Markdown); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Error("Render and Renderer.Render differ")
	}
}

func TestParseFormat(t *testing.T) {
	tests := []struct {
		in      string
		want    Format
		wantErr bool
	}{
		{"html", HTML, false},
		{"HTML", HTML, false},
		{"md", Markdown, false},
		{"markdown", Markdown, false},
		{" Markdown ", Markdown, false},
		{"json", JSON, false},
		{"pdf", "", true},
		{"", "", true},
	}
	for _, tt := range tests {
		got, err := ParseFormat(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFormat(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil {
			if !errors.Is(err, ErrUnknownFormat) {
				t.Errorf("ParseFormat(%q): %v is not ErrUnknownFormat", tt.in, err)
			}
			for _, allowed := range []string{"html", "md", "markdown", "json"} {
				if !strings.Contains(err.Error(), allowed) {
					t.Errorf("ParseFormat(%q): %q does not list %s", tt.in, err, allowed)
				}
			}
		}
	}
}

func TestRenderErrors(t *testing.T) {
	rd := renderer(t)
	if _, err := rd.Bytes(fixedReport(), Format("pdf")); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := rd.Bytes(nil, HTML); err == nil {
		t.Error("nil report rendered")
	}
	errWrite := errors.New("disk full")
	if err := rd.Render(failingWriter{errWrite}, fixedReport(), HTML); !errors.Is(err, errWrite) {
		t.Errorf("write error: %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }

// TestEscaping renders a report whose user-supplied strings hold a script tag, pipes, quotes
// and newlines, and checks every format neutralises them.
func TestEscaping(t *testing.T) {
	rd := renderer(t)
	r := fixedReport()
	r.Twin = evil
	r.Schedule = evil
	r.ID = evil
	r.PreviousID = evil
	r.Exposure.Severity = evil

	t.Run("html", func(t *testing.T) {
		out := mustRender(t, rd, r, HTML)
		if strings.Contains(out, "<script") {
			t.Error("HTML holds a raw <script")
		}
		if !strings.Contains(out, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Error("HTML lost the escaped name")
		}
		if !strings.Contains(out, `class="badge sev-unknown"`) {
			t.Error("an unknown severity must map to a fixed class")
		}
		checkSelfContained(t, out)
		checkSVG(t, out, DiagramPaths)
	})
	t.Run("markdown", func(t *testing.T) {
		out := mustRender(t, rd, r, Markdown)
		if strings.Contains(out, "<script") || strings.Contains(out, "</script") {
			t.Error("Markdown holds raw HTML")
		}
		checkMarkdownTables(t, out)
		checkMermaid(t, out)
	})
	t.Run("json", func(t *testing.T) {
		out := mustRender(t, rd, r, JSON)
		if strings.Contains(out, "<script") {
			t.Error("JSON holds a raw <script (it must escape <, > and &)")
		}
		var back Report
		if err := json.Unmarshal([]byte(out), &back); err != nil {
			t.Fatal(err)
		}
		if back.Twin != evil || back.Paths[1].Hops[0].To.Name != evil {
			t.Error("JSON does not round-trip the names")
		}
	})
}

// checkSelfContained fails on anything that would load from elsewhere.
func checkSelfContained(t *testing.T, html string) {
	t.Helper()
	for _, bad := range []string{"<script", "<link", "<img", "<iframe", "src=", "@import", "url(http", `href="http`, "//fonts."} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML is not self-contained: holds %q", bad)
		}
	}
}

var svgRE = regexp.MustCompile(`(?s)<svg .*?</svg>`)

// checkSVG checks the HTML has n inline SVG diagrams, each well-formed XML.
func checkSVG(t *testing.T, html string, n int) {
	t.Helper()
	svgs := svgRE.FindAllString(html, -1)
	if len(svgs) != n {
		t.Errorf("%d diagrams, want %d", len(svgs), n)
	}
	for _, s := range svgs {
		d := xml.NewDecoder(strings.NewReader(s))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("SVG is not well-formed: %v\n%s", err, s)
			}
		}
	}
}

var unescapedPipe = regexp.MustCompile(`(^|[^\\])\|`)

// checkMarkdownTables checks every row of a table has as many cells as its header.
func checkMarkdownTables(t *testing.T, md string) {
	t.Helper()
	cols := -1
	for line := range strings.SplitSeq(md, "\n") {
		if !strings.HasPrefix(line, "|") {
			cols = -1
			continue
		}
		n := len(unescapedPipe.FindAllString(line, -1))
		if cols < 0 {
			cols = n
			continue
		}
		if n != cols {
			t.Errorf("table row has %d separators, header has %d: %s", n, cols, line)
		}
	}
}

var mermaidLine = regexp.MustCompile(`^  (p\d+n\d+\["[^"]*"\]|p\d+n\d+ -->\|"[^"|]*"\| p\d+n\d+|style p\d+n\d+ [a-z:#0-9,-]+)$`)

// checkMermaid checks every line of every mermaid block is one of the shapes the template
// writes, with no quote, pipe or angle bracket leaking out of a label.
func checkMermaid(t *testing.T, md string) {
	t.Helper()
	in := false
	blocks := 0
	for line := range strings.SplitSeq(md, "\n") {
		switch {
		case line == "```mermaid":
			in = true
			blocks++
		case in && line == "```":
			in = false
		case in && line == "flowchart LR":
		case in:
			if !mermaidLine.MatchString(line) || strings.ContainsAny(strings.Replace(line, " -->|", "", 1), "<>`") {
				t.Errorf("unexpected mermaid line: %s", line)
			}
		}
	}
	if blocks == 0 {
		t.Error("no mermaid block")
	}
}

func TestEmptyReport(t *testing.T) {
	rd := renderer(t)
	for _, r := range []*Report{emptyReport(), {}} {
		for _, f := range Formats() {
			out := mustRender(t, rd, r, f)
			switch f {
			case HTML, Markdown:
				if !strings.Contains(out, "No attack paths found") {
					t.Errorf("%s of an empty report does not say no attack paths were found", f)
				}
				if strings.Contains(out, "mermaid") || strings.Contains(out, "<svg") {
					t.Errorf("%s of an empty report draws a diagram", f)
				}
			case JSON:
				for _, want := range []string{`"paths": []`, `"chokePoints": []`, `"actions": []`, `"new": []`} {
					if !strings.Contains(out, want) {
						t.Errorf("JSON of an empty report lacks %s", want)
					}
				}
			}
		}
	}
}

func TestUnicode(t *testing.T) {
	rd := renderer(t)
	r := fixedReport()
	names := []string{
		"数据库-生产环境-客户数据-非常长的名字", // wide characters, longer than a box
		"🔑 vault 🗝️",         // emoji, variation selector
		"ملف العملاء",        // right to left
		"café-naïve-e\u0301", // combining accent
	}
	r.Paths[0].Hops[0].To.Name = names[0]
	r.Paths[0].Hops[1].To.Name = names[1]
	r.Paths[0].Hops[2].To.Name = names[2]
	r.Paths[1].Hops[0].To.Name = names[3]
	r.Twin = "zürich"
	for _, f := range Formats() {
		out := mustRender(t, rd, r, f)
		if f == JSON {
			var back Report
			if err := json.Unmarshal([]byte(out), &back); err != nil {
				t.Fatal(err)
			}
			for i, n := range names {
				got := back.Paths[0].Hops[min(i, 2)].To.Name
				if i == 3 {
					got = back.Paths[1].Hops[0].To.Name
				}
				if got != n {
					t.Errorf("JSON round trip: %q, want %q", got, n)
				}
			}
			continue
		}
		for _, n := range append(names, "zürich") {
			if !strings.Contains(out, n) {
				t.Errorf("%s lost %q", f, n)
			}
		}
	}
	// A wide name is shortened on a rune boundary, to fit the box.
	if s := shorten(names[0], nameChars); !utf8.ValidString(s) || runeWidthOf(s) > nameChars+1 || !strings.HasSuffix(s, "…") {
		t.Errorf("shorten(%q) = %q", names[0], s)
	}
	checkSVG(t, mustRender(t, rd, r, HTML), DiagramPaths)
}

func runeWidthOf(s string) int {
	w := 0
	for _, r := range s {
		w += runeWidth(r)
	}
	return w
}

func TestHugeReport(t *testing.T) {
	rd := renderer(t)
	r := hugeReport(1000)
	html := mustRender(t, rd, r, HTML)
	checkSVG(t, html, DiagramPaths)
	if got := strings.Count(html, "<details id=\"path-"); got != 1000 {
		t.Errorf("%d path details in HTML, want 1000", got)
	}
	if !strings.Contains(html, "997 more are in the table") {
		t.Error("HTML does not say how many paths are not drawn")
	}
	md := mustRender(t, rd, r, Markdown)
	if got := strings.Count(md, "```mermaid"); got != DiagramPaths {
		t.Errorf("%d mermaid blocks, want %d", got, DiagramPaths)
	}
	if got := strings.Count(md, "#### Path "); got != 1000 {
		t.Errorf("%d path sections in Markdown, want 1000", got)
	}
	checkMarkdownTables(t, md)
	js := mustRender(t, rd, r, JSON)
	var back Report
	if err := json.Unmarshal([]byte(js), &back); err != nil || len(back.Paths) != 1000 {
		t.Errorf("JSON: %d paths, %v", len(back.Paths), err)
	}
}

func TestJSONStable(t *testing.T) {
	rd := renderer(t)
	a := mustRender(t, rd, fixedReport(), JSON)
	var back Report
	if err := json.Unmarshal([]byte(a), &back); err != nil {
		t.Fatal(err)
	}
	if b := mustRender(t, rd, &back, JSON); a != b {
		t.Error("JSON does not survive a round trip byte for byte")
	}
	// The field order is the struct's: id first, previousId last.
	if !strings.HasPrefix(a, "{\n  \"id\": ") || !strings.HasSuffix(a, "\"previousId\": \"run-41\"\n}\n") {
		t.Errorf("unexpected field order:\n%.200s", a)
	}
}

func TestLayout(t *testing.T) {
	r := fixedReport()
	for i := range r.Paths {
		p := &r.Paths[i]
		d := layout(i, p)
		if len(d.Nodes) != len(p.Hops)+1 || len(d.Edges) != len(p.Hops) {
			t.Fatalf("path %d: %d nodes, %d edges", p.Rank, len(d.Nodes), len(d.Edges))
		}
		for j, n := range d.Nodes {
			if n.X+n.W > d.Width || n.Y+n.H > d.Height {
				t.Errorf("path %d: node %d outside the canvas", p.Rank, j)
			}
			if j > 0 {
				prev := d.Nodes[j-1]
				e := d.Edges[j-1]
				if n.X <= prev.X+prev.W || e.X1 < prev.X+prev.W || e.X2 > n.X {
					t.Errorf("path %d: node %d overlaps or its arrow does not join the boxes", p.Rank, j)
				}
			}
		}
		if d.Nodes[0].Class != "entry" {
			t.Errorf("path %d: first box is %s", p.Rank, d.Nodes[0].Class)
		}
		if last := d.Nodes[len(d.Nodes)-1]; p.Target.CrownJewel && last.Class != "jewel" {
			t.Errorf("path %d: last box is %s", p.Rank, last.Class)
		}
	}
}

func TestMarkdownEscapers(t *testing.T) {
	tests := []struct {
		fn   func(string) string
		in   string
		want string
	}{
		{mdCell, "a|b", `a\|b`},
		{mdCell, "line\nbreak", "line break"},
		{mdCell, "", "–"},
		{mdCell, "<b>&", "&lt;b&gt;&amp;"},
		{mdText, "*x* _y_ `z` [l](u)", `\*x\* \_y\_ \` + "`z\\`" + ` \[l\](u)`},
		{mermaidText, `a"b`, "a#34;b"},
		{mermaidText, "<x>|y", "#60;x#62;#124;y"},
		{mermaidText, "two\nlines", "two lines"},
	}
	for _, tt := range tests {
		if got := tt.fn(tt.in); got != tt.want {
			t.Errorf("escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
