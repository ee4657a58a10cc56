package report

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	texttemplate "text/template"
	"time"
)

// Format is a rendering of a Report.
type Format string

// The formats.
const (
	HTML     Format = "html" // one self-contained file: inline CSS and SVG, no scripts
	Markdown Format = "md"   // GitHub-flavoured, with mermaid diagrams
	JSON     Format = "json" // the Report, indented
)

// Formats lists every Format.
func Formats() []Format { return []Format{HTML, Markdown, JSON} }

// ErrUnknownFormat is returned for a format other than html, md (markdown) or json.
var ErrUnknownFormat = errors.New("unknown report format (allowed: html, md, markdown, json)")

// ParseFormat parses html, md, markdown or json, ignoring case and surrounding space.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "html":
		return HTML, nil
	case "md", "markdown":
		return Markdown, nil
	case "json":
		return JSON, nil
	}
	return "", fmt.Errorf("format %q: %w", s, ErrUnknownFormat)
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseFormat.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Ext is the file extension of the format, without the dot.
func (f Format) Ext() string { return string(f) }

// ContentType is the media type of the format.
func (f Format) ContentType() string {
	switch f {
	case HTML:
		return "text/html; charset=utf-8"
	case Markdown:
		return "text/markdown; charset=utf-8"
	case JSON:
		return "application/json"
	}
	return "application/octet-stream"
}

func (f Format) valid() bool { return f == HTML || f == Markdown || f == JSON }

// DiagramPaths is how many of the top paths get a diagram (SVG in HTML, mermaid in Markdown).
const DiagramPaths = 3

//go:embed templates/*.tmpl
var templateFS embed.FS

// Renderer renders reports with its compiled templates. It is safe for concurrent use.
type Renderer struct {
	html *htmltemplate.Template
	md   *texttemplate.Template
}

// NewRenderer compiles the embedded templates.
func NewRenderer() (*Renderer, error) {
	h, err := htmltemplate.New("report.html.tmpl").Funcs(htmltemplate.FuncMap(funcs())).
		ParseFS(templateFS, "templates/report.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("compile HTML report template: %w", err)
	}
	mdFuncs := funcs()
	mdFuncs["md"] = mdText
	mdFuncs["cell"] = mdCell
	mdFuncs["mermaid"] = mermaidText
	m, err := texttemplate.New("report.md.tmpl").Funcs(mdFuncs).
		ParseFS(templateFS, "templates/report.md.tmpl")
	if err != nil {
		return nil, fmt.Errorf("compile Markdown report template: %w", err)
	}
	return &Renderer{html: h, md: m}, nil
}

// Render writes r to w in format with a fresh Renderer. Callers rendering many reports should
// keep one Renderer instead.
func Render(w io.Writer, r *Report, format Format) error {
	rd, err := NewRenderer()
	if err != nil {
		return err
	}
	return rd.Render(w, r, format)
}

// Render writes r to w in format. It renders into memory first, so w receives either the
// whole report or nothing.
func (rd *Renderer) Render(w io.Writer, r *Report, format Format) error {
	b, err := rd.Bytes(r, format)
	if err != nil {
		return err
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

// Bytes returns r rendered in format.
func (rd *Renderer) Bytes(r *Report, format Format) ([]byte, error) {
	if r == nil {
		return nil, errors.New("render report: nil report")
	}
	var buf bytes.Buffer
	var err error
	switch format {
	case JSON:
		return encodeJSON(r)
	case HTML:
		err = rd.html.Execute(&buf, newView(r))
	case Markdown:
		err = rd.md.Execute(&buf, newView(r))
	default:
		return nil, fmt.Errorf("render report: format %q: %w", format, ErrUnknownFormat)
	}
	if err != nil {
		return nil, fmt.Errorf("render %s report %s: %w", format, r.ID, err)
	}
	return buf.Bytes(), nil
}

// encodeJSON returns r as indented JSON, its lists never null. encoding/json escapes <, > and &
// in strings, so the JSON is safe to embed in HTML too.
func encodeJSON(r *Report) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	if err := enc.Encode(normalized(r)); err != nil {
		return nil, fmt.Errorf("render json report %s: %w", r.ID, err)
	}
	return buf.Bytes(), nil
}

// normalized returns a copy of r whose lists are empty rather than nil, so the JSON shape does
// not depend on how the caller built r.
func normalized(r *Report) *Report {
	c := *r
	c.Paths = nonNil(c.Paths)
	for i := range c.Paths {
		p := &c.Paths[i]
		p.Hops = nonNil(p.Hops)
		for j := range p.Hops {
			p.Hops[j].Evidence = nonNil(p.Hops[j].Evidence)
		}
		p.Techniques = nonNil(p.Techniques)
		p.ImpactedAssets = nonNil(p.ImpactedAssets)
		p.Trace = nonNil(p.Trace)
	}
	c.ChokePoints = nonNil(c.ChokePoints)
	c.FixPlan.Actions = nonNil(c.FixPlan.Actions)
	c.Delta.New = nonNil(c.Delta.New)
	for i := range c.Delta.New {
		c.Delta.New[i].Techniques = nonNil(c.Delta.New[i].Techniques)
	}
	c.Delta.Resolved = nonNil(c.Delta.Resolved)
	for i := range c.Delta.Resolved {
		c.Delta.Resolved[i].Techniques = nonNil(c.Delta.Resolved[i].Techniques)
	}
	c.Delta.Changed = nonNil(c.Delta.Changed)
	return &c
}

// nonNil returns a copy of s, empty rather than nil.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return slices.Clone(s)
}

// view is what the HTML and Markdown templates see.
type view struct {
	*Report
	Generated     string
	Took          string
	SeverityClass string
	Diagrams      []diagram
	// Undiagrammed counts the paths beyond DiagramPaths.
	Undiagrammed int
	FirstRun     bool
}

func newView(r *Report) view {
	v := view{
		Report:        r,
		Generated:     r.GeneratedAt.UTC().Format("2006-01-02 15:04:05 UTC"),
		Took:          r.Duration.Round(time.Millisecond).String(),
		SeverityClass: severityClass(r.Exposure.Severity),
		FirstRun:      r.PreviousID == "",
	}
	for i := range r.Paths {
		if i == DiagramPaths {
			v.Undiagrammed = len(r.Paths) - DiagramPaths
			break
		}
		v.Diagrams = append(v.Diagrams, layout(i, &r.Paths[i]))
	}
	return v
}

// severityClass maps a severity to a fixed CSS class, never to the caller's text.
func severityClass(s string) string {
	switch s {
	case SeverityCritical:
		return "sev-critical"
	case SeverityHigh:
		return "sev-high"
	case SeverityModerate:
		return "sev-moderate"
	case SeverityLow:
		return "sev-low"
	}
	return "sev-unknown"
}

// funcs are the template functions both formats share; none of them escapes.
func funcs() map[string]any {
	return map[string]any{
		"pct":    pct,
		"prob":   prob,
		"ppct":   func(p float64) string { return pct(100 * p) },
		"join":   strings.Join,
		"add":    func(a, b int) int { return a + b },
		"change": relChange,
		"name":   func(n NodeRef) string { return n.DisplayName() },
		"when":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	}
}

// pct formats a percentage.
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// prob formats a probability in [0, 1]: three decimals, or scientific when tiny.
func prob(p float64) string {
	switch {
	case math.IsNaN(p) || math.IsInf(p, 0):
		return "n/a"
	case p != 0 && math.Abs(p) < 0.001:
		return strconv.FormatFloat(p, 'e', 2, 64)
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// relChange formats the relative change from before to after, e.g. "+12.5%".
func relChange(before, after float64) string {
	if before == 0 {
		return "new"
	}
	c := 100 * (after - before) / before
	s := strconv.FormatFloat(c, 'f', 1, 64) + "%"
	if c > 0 {
		s = "+" + s
	}
	return s
}

// mdReplacer escapes text for Markdown: HTML is neutralised with entities, and the characters
// that start emphasis, code, links, tables or strikethrough are backslash-escaped.
var mdReplacer = strings.NewReplacer(
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"|", `\|`, "~", `\~`, "#", `\#`, "!", `\!`,
	"\r\n", " ", "\n", " ", "\r", " ",
)

// mdText escapes text for a Markdown paragraph or heading.
func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCell escapes text for a Markdown table cell: like mdText (which escapes | and turns
// newlines into spaces), and never empty, so the table keeps its shape.
func mdCell(s string) string {
	if strings.TrimSpace(s) == "" {
		return "–"
	}
	return mdReplacer.Replace(s)
}

// mermaidText escapes text for a quoted mermaid label: characters mermaid or HTML would read
// become mermaid's numeric entity codes (#34; and so on), and newlines become spaces.
func mermaidText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '"', '#', '&', '<', '>', '|', '`', ';', '{', '}', '[', ']', '(', ')', '\\':
			b.WriteString("#" + strconv.Itoa(int(r)) + ";")
		case '\n', '\r', '\t':
			b.WriteByte(' ')
		default:
			if r < 0x20 || r == 0x7f {
				continue
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}
