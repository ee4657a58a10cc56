package gsn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrNoGraphviz is returned by RenderSVG when Graphviz's dot program cannot be found.
var ErrNoGraphviz = errors.New("gsn: Graphviz 'dot' was not found: install graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz) or set RenderOptions.DotPath")

// DefaultRenderTimeout bounds one run of dot when RenderOptions.Timeout is zero.
const DefaultRenderTimeout = 30 * time.Second

// maxSVGSize bounds the SVG read back from dot.
const maxSVGSize = 64 << 20

// RenderOptions say what to draw and how to run dot.
type RenderOptions struct {
	// Module selects one module's view: its elements, and the elements of other modules it refers
	// to as away elements. Empty draws the complete case.
	Module string
	// Annotations colour elements by status and print their reasons.
	Annotations Annotations
	// Legend adds a legend of shapes, links and status colours.
	Legend bool
	// DotPath is the dot program; empty looks for "dot" on PATH.
	DotPath string
	// Timeout bounds the dot run; zero means DefaultRenderTimeout.
	Timeout time.Duration
}

// Colours of the statuses: fill and border.
var statusColours = map[Status][2]string{
	StatusSupported:   {"#c8e6c9", "#2e7d32"}, // green
	StatusUndermined:  {"#ffcdd2", "#c62828"}, // red
	StatusUnknown:     {"#ffe0b2", "#ef6c00"}, // amber
	StatusUndeveloped: {"#e0e0e0", "#616161"}, // grey
}

// statusOrder is the order of the legend.
var statusOrder = []Status{StatusSupported, StatusUndermined, StatusUnknown, StatusUndeveloped}

// RenderSVG draws the case (or one module of it) as SVG by running Graphviz's dot on the DOT that
// DOT writes: dot does the layout, this package only describes the graph. It returns
// ErrNoGraphviz (wrapped) when dot is not installed.
func RenderSVG(ctx context.Context, c *Case, opts RenderOptions) ([]byte, error) {
	src, err := DOT(c, opts)
	if err != nil {
		return nil, err
	}
	dot := opts.DotPath
	if dot == "" {
		dot = "dot"
	}
	path, err := exec.LookPath(dot)
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNoGraphviz, err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultRenderTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "-Tsvg")
	cmd.Stdin = bytes.NewReader(src)
	stdout := &limitedBuffer{limit: maxSVGSize}
	stderr := &limitedBuffer{limit: 16 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (%v)", ErrNoGraphviz, err)
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("gsn: dot did not finish: %w", ctx.Err())
		}
		return nil, fmt.Errorf("gsn: dot failed: %v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if stdout.over {
		return nil, fmt.Errorf("gsn: dot wrote more than %d bytes of SVG", maxSVGSize)
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps at most limit bytes and notes that more came.
type limitedBuffer struct {
	bytes.Buffer
	limit int
	over  bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.limit - b.Len(); len(p) > room {
		b.over = true
		if room > 0 {
			b.Buffer.Write(p[:room])
		}
		return len(p), nil
	}
	return b.Buffer.Write(p)
}

// DOT writes the Graphviz description RenderSVG lays out: GSN shapes (Goal box, Strategy
// parallelogram, Solution circle, Context rounded box, Assumption and Justification ellipses
// marked A and J, counter elements with a double border, away elements with their module in a
// band), an undeveloped diamond, SUPPORTED_BY as solid lines with filled heads, IN_CONTEXT_OF
// with hollow heads, challenges in red, defeated elements and relations dashed, status colours
// and classes, and a legend. Every text from the case goes into HTML-like labels, XML-escaped;
// node names are generated, so no id or text reaches DOT syntax.
func DOT(c *Case, opts RenderOptions) ([]byte, error) {
	r := &renderer{c: c, opts: opts, names: map[string]string{}, away: map[string]bool{}}
	var title string
	if opts.Module != "" {
		m := c.Module(opts.Module)
		if m == nil {
			return nil, fmt.Errorf("gsn: render: no module %q in the case", opts.Module)
		}
		r.view(m)
		title = "Module " + m.Name
		if m.Brief != "" {
			title += ": " + m.Brief
		}
	} else {
		for _, e := range c.Elements() {
			r.include(e.ID, false)
		}
		if len(c.Modules) == 1 {
			title = c.Modules[0].Name
		} else {
			title = "Complete view"
		}
	}
	r.b.WriteString("digraph gsn {\n")
	fmt.Fprintf(&r.b, "  graph [rankdir=TB, nodesep=0.35, ranksep=0.45, charset=\"UTF-8\", fontname=\"Helvetica\", fontsize=12, labelloc=t, label=<%s>];\n", htmlText(title, 0))
	r.b.WriteString("  node [fontname=\"Helvetica\", fontsize=10, margin=\"0.12,0.06\", penwidth=1.2];\n")
	r.b.WriteString("  edge [color=\"#333333\", penwidth=1.1];\n")
	for _, id := range r.order {
		r.node(c.Element(id))
	}
	for _, id := range r.order {
		if !r.away[id] {
			r.edges(c.Element(id))
		}
	}
	for _, id := range r.order {
		r.developEdges(id)
	}
	r.sameRanks()
	if opts.Legend {
		r.legend()
	}
	r.b.WriteString("}\n")
	return r.b.Bytes(), nil
}

type renderer struct {
	c     *Case
	opts  RenderOptions
	b     bytes.Buffer
	order []string          // element ids drawn, in order
	names map[string]string // element id → DOT node name
	away  map[string]bool   // drawn as away elements
	ctx   map[string][]string
}

// include adds an element to the drawing.
func (r *renderer) include(id string, away bool) {
	if _, ok := r.names[id]; ok || r.c.Element(id) == nil {
		return
	}
	r.names[id] = fmt.Sprintf("n%d", len(r.order))
	r.order = append(r.order, id)
	r.away[id] = away
}

// view selects one module's elements and, as away elements, what they refer to elsewhere.
func (r *renderer) view(m *Module) {
	for _, e := range m.Elements {
		r.include(e.ID, false)
	}
	for _, e := range m.Elements {
		refs := slices.Concat(r.c.support(e), e.InContextOf)
		if ch := e.Challenges; ch != nil {
			refs = append(refs, ch.Target)
			if ch.Relation {
				refs = append(refs, ch.To)
			}
		}
		for _, id := range refs {
			r.include(id, true)
		}
	}
	for _, x := range m.Extends { // the foreign elements this module develops
		for _, d := range x.Develops {
			r.include(d.Element, true)
		}
	}
}

var typeShapes = map[Type]string{
	Goal:            `shape=box`,
	Strategy:        `shape=parallelogram`,
	Solution:        `shape=circle, margin=0.01`,
	Context:         `shape=box`,
	Assumption:      `shape=ellipse`,
	Justification:   `shape=ellipse`,
	CounterGoal:     `shape=box, peripheries=2`,
	CounterSolution: `shape=circle, margin=0.01, peripheries=2`,
}

// gsn2x's CSS class names for the element types.
var typeClasses = map[Type]string{
	Goal: "gsngoal", Strategy: "gsnstrategy", Solution: "gsnsolution", Context: "gsncontext",
	Assumption: "gsnassumption", Justification: "gsnjustification", CounterGoal: "gsncountergoal",
	CounterSolution: "gsncountersolution",
}

// node writes one element.
func (r *renderer) node(e *Element) {
	away := r.away[e.ID]
	ann := r.opts.Annotations[e.ID]
	classes := []string{"gsnelement", typeClasses[e.Type]}
	if away {
		classes = append(classes, "gsnaway")
	}
	undeveloped := e.Undeveloped && !r.c.Developed(e.ID)
	if undeveloped {
		classes = append(classes, "gsn_undeveloped")
	}
	if e.Defeated {
		classes = append(classes, "gsn_defeated")
	}
	if cls := ann.Status.Class(); cls != "" {
		classes = append(classes, cls)
	}
	for _, cl := range e.Classes {
		if s := cssClass(cl); s != "" && !slices.Contains(classes, s) {
			classes = append(classes, s)
		}
	}
	fill, border := "#ffffff", "#000000"
	if col, ok := statusColours[ann.Status]; ok {
		fill, border = col[0], col[1]
	}
	shape := typeShapes[e.Type]
	if shape == "" {
		shape = `shape=box`
	}
	style := "filled"
	if e.Type == Context {
		style = "rounded,filled"
	}
	if e.Defeated {
		style += ",dashed"
	}

	// The label: id, text, markers, status, module band for away elements.
	var l strings.Builder
	l.WriteString(`<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">`)
	fmt.Fprintf(&l, `<TR><TD ALIGN="LEFT"><B>%s</B></TD></TR>`, htmlText(e.ID, 0))
	if e.Text != "" {
		wrap := 40 // boxes; circles and parallelograms grow in both directions, so narrower
		switch e.Type {
		case Solution, CounterSolution:
			wrap = 20
		case Strategy:
			wrap = 30
		}
		if e.CharWrap != nil && *e.CharWrap > 0 {
			wrap = *e.CharWrap
		} else if m := r.c.modOf[e.ID]; m != nil && m.CharWrap != nil && *m.CharWrap > 0 {
			wrap = *m.CharWrap
		}
		fmt.Fprintf(&l, `<TR><TD ALIGN="LEFT" BALIGN="LEFT">%s</TD></TR>`, htmlText(e.Text, wrap))
	}
	var own []string
	for _, a := range e.ACP {
		if slices.Contains(a.Targets, e.ID) {
			own = append(own, a.Name)
		}
	}
	if len(own) > 0 {
		fmt.Fprintf(&l, `<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="8">■ %s</FONT></TD></TR>`, htmlText(strings.Join(own, ", "), 0))
	}
	if e.Defeated {
		l.WriteString(`<TR><TD><FONT POINT-SIZE="8" COLOR="#c62828">✗ defeated</FONT></TD></TR>`)
	}
	if ann.Status != "" || len(ann.Reasons) > 0 {
		s := string(ann.Status)
		if len(ann.Reasons) > 0 {
			if s != "" {
				s += ": "
			}
			s += strings.Join(ann.Reasons, ", ")
		}
		fmt.Fprintf(&l, `<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="8">%s</FONT></TD></TR>`, htmlText(s, 48))
	}
	switch e.Type {
	case Assumption:
		l.WriteString(`<TR><TD ALIGN="RIGHT"><B>A</B></TD></TR>`)
	case Justification:
		l.WriteString(`<TR><TD ALIGN="RIGHT"><B>J</B></TD></TR>`)
	}
	if undeveloped {
		l.WriteString(`<TR><TD><FONT POINT-SIZE="12">◇</FONT></TD></TR>`)
	}
	if away {
		mod := ""
		if m := r.c.modOf[e.ID]; m != nil {
			mod = m.Name
		}
		fmt.Fprintf(&l, `<TR><TD BORDER="1" SIDES="T" ALIGN="LEFT"><FONT POINT-SIZE="8">▭ %s</FONT></TD></TR>`, htmlText(mod, 0))
	}
	l.WriteString(`</TABLE>`)

	fmt.Fprintf(&r.b, "  %s [%s, style=%q, fillcolor=%q, color=%q, class=%q", r.names[e.ID], shape, style, fill, border, strings.Join(classes, " "))
	if u := safeURL(e.URL); u != "" {
		fmt.Fprintf(&r.b, ", URL=%s, target=\"_blank\", tooltip=%s", dotString(u), dotString(tooltip(e)))
	}
	fmt.Fprintf(&r.b, ", label=<%s>];\n", l.String())
}

// edges writes an element's relations.
func (r *renderer) edges(e *Element) {
	from := r.names[e.ID]
	acpOn := func(target string) string {
		var names []string
		for _, a := range e.ACP {
			if slices.Contains(a.Targets, target) && target != e.ID {
				names = append(names, a.Name)
			}
		}
		if len(names) == 0 {
			return ""
		}
		return fmt.Sprintf(", xlabel=<<FONT POINT-SIZE=\"8\">■ %s</FONT>>", htmlText(strings.Join(names, ", "), 0))
	}
	defeated := func(target string) string {
		if slices.Contains(e.DefeatedRelation, target) {
			return `, style=dashed, color="#c62828", label=<<FONT COLOR="#c62828">✗</FONT>>`
		}
		return ""
	}
	for _, s := range e.SupportedBy {
		if to, ok := r.names[s]; ok {
			fmt.Fprintf(&r.b, "  %s -> %s [class=\"gsnedge gsn_supportedby\", arrowhead=normal%s%s];\n", from, to, acpOn(s), defeated(s))
		}
	}
	for _, s := range e.InContextOf {
		if to, ok := r.names[s]; ok {
			fmt.Fprintf(&r.b, "  %s -> %s [class=\"gsnedge gsn_incontextof\", arrowhead=empty%s%s];\n", from, to, acpOn(s), defeated(s))
			if r.ctx == nil {
				r.ctx = map[string][]string{}
			}
			r.ctx[s] = append(r.ctx[s], e.ID)
		}
	}
	if ch := e.Challenges; ch != nil {
		// Drawn from the challenged element to the challenger with the arrow reversed, so that dot
		// places challengers below what they challenge, as gsn2x does.
		target := ch.Target
		label := ""
		if ch.Relation {
			target = ch.To
			label = fmt.Sprintf(", label=<<FONT POINT-SIZE=\"8\" COLOR=\"#c62828\">%s</FONT>>", htmlText(ch.Target+" → "+ch.To, 0))
		}
		if to, ok := r.names[target]; ok {
			fmt.Fprintf(&r.b, "  %s -> %s [class=\"gsnedge gsn_challenges\", dir=back, arrowtail=normal, color=\"#c62828\"%s%s];\n", to, from, label, defeated(ch.Target))
		}
	}
}

// developEdges draws module.extends: the developed element supported by its developers.
func (r *renderer) developEdges(id string) {
	from, ok := r.names[id]
	if !ok {
		return
	}
	for _, d := range r.c.develops[id] {
		if to, ok := r.names[d]; ok && (!r.away[id] || !r.away[d]) {
			fmt.Fprintf(&r.b, "  %s -> %s [class=\"gsnedge gsn_supportedby gsn_develops\", arrowhead=normal];\n", from, to)
		}
	}
}

// sameRanks puts a context used by one element beside it, as GSN draws contexts.
func (r *renderer) sameRanks() {
	for _, id := range r.order {
		users := r.ctx[id]
		if len(users) == 1 && users[0] != id {
			fmt.Fprintf(&r.b, "  { rank=same; %s; %s; }\n", r.names[users[0]], r.names[id])
		}
	}
}

// legend writes the legend as one table.
func (r *renderer) legend() {
	var l strings.Builder
	l.WriteString(`<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" CELLPADDING="2" COLOR="#999999">`)
	l.WriteString(`<TR><TD COLSPAN="2" ALIGN="LEFT"><B>Legend</B></TD></TR>`)
	for _, s := range statusOrder {
		col := statusColours[s]
		fmt.Fprintf(&l, `<TR><TD BGCOLOR="%s" BORDER="1" COLOR="%s" WIDTH="24"> </TD><TD ALIGN="LEFT">%s</TD></TR>`, col[0], col[1], s)
	}
	rows := [][2]string{
		{"▭", "Goal (▭ band: away element of another module)"},
		{"▱", "Strategy"},
		{"○", "Solution"},
		{"▢", "Context"},
		{"◯ A / J", "Assumption / Justification"},
		{"◇", "undeveloped"},
		{"──▶", "supported by"},
		{"──▷", "in context of"},
		{`<FONT COLOR="#c62828">──▶</FONT>`, "challenges (counter element, double border)"},
		{"╌╌ ✗", "defeated"},
		{"■", "assurance claim point"},
	}
	for _, row := range rows {
		fmt.Fprintf(&l, `<TR><TD ALIGN="CENTER">%s</TD><TD ALIGN="LEFT">%s</TD></TR>`, row[0], row[1])
	}
	l.WriteString(`</TABLE>`)
	fmt.Fprintf(&r.b, "  legend [shape=plain, class=\"gsnlegend\", label=<%s>];\n", l.String())
}

// htmlText escapes text for a Graphviz HTML-like label (and so for XML): markup characters become
// entities, characters XML cannot hold become U+FFFD, tabs spaces, and line breaks (and words
// wrapped at wrap runes, when wrap > 0) become left-aligned <BR/>.
func htmlText(s string, wrap int) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	var b strings.Builder
	first := true
	for _, line := range lines {
		for _, w := range wrapLine(line, wrap) {
			if !first {
				b.WriteString(`<BR ALIGN="LEFT"/>`)
			}
			first = false
			if w == "" {
				w = " " // an empty line still takes its height
			}
			for _, r := range w {
				switch {
				case r == '&':
					b.WriteString("&amp;")
				case r == '<':
					b.WriteString("&lt;")
				case r == '>':
					b.WriteString("&gt;")
				case r == '"':
					b.WriteString("&quot;")
				case r == '\'':
					b.WriteString("&#39;")
				case r == '\\':
					// dot expands \N, \G, \L... in HTML labels too (entities are decoded first),
					// and reads \\ as one backslash.
					b.WriteString(`\\`)
				case r == '\t' || r == '\r':
					b.WriteByte(' ')
				case !xmlChar(r):
					b.WriteRune(utf8.RuneError)
				default:
					b.WriteRune(r)
				}
			}
		}
	}
	return b.String()
}

// xmlChar reports whether XML 1.0 allows r in text.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF && r != utf8.RuneError || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

// wrapLine breaks a line at spaces so that parts stay within wrap runes where words allow.
func wrapLine(line string, wrap int) []string {
	if wrap <= 0 || utf8.RuneCountInString(line) <= wrap {
		return []string{line}
	}
	var out []string
	var cur []rune
	for _, word := range strings.Fields(line) {
		w := []rune(word)
		if len(cur) > 0 && len(cur)+1+len(w) > wrap {
			out = append(out, string(cur))
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, w...)
	}
	if len(cur) > 0 || len(out) == 0 {
		out = append(out, string(cur))
	}
	return out
}

// cssClass keeps a user's class name if it is a plain CSS identifier.
func cssClass(s string) string {
	if s == "" || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return ""
		}
	}
	return s
}

// safeURL keeps http, https and mailto links and relative references; anything else (javascript:,
// data:) is dropped, since the SVG may be shown in a browser. dot copies a link into the SVG
// without escaping it (Graphviz 2.43 leaves & " < > as they are, later versions escape & unless it
// starts an entity), so the link is returned with & as &amp; and the other characters that XML
// or DOT treat specially percent-encoded: both kinds of dot then write well-formed XML.
func safeURL(s string) string {
	if s == "" || strings.ContainsAny(s, "\x00\n\r") {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto", "":
	default:
		return ""
	}
	return urlEscaper.Replace(u.String())
}

var urlEscaper = strings.NewReplacer("&", "&amp;", `"`, "%22", "<", "%3C", ">", "%3E", "'", "%27", `\`, "%5C", " ", "%20")

// tooltip is the title dot gives a link: the element's id and the start of its text, on one line.
func tooltip(e *Element) string {
	t := e.ID
	if text := strings.Join(strings.Fields(e.Text), " "); text != "" {
		if r := []rune(text); len(r) > 80 {
			text = string(r[:80]) + "…"
		}
		t += ": " + text
	}
	return strings.Map(func(r rune) rune {
		if !xmlChar(r) || r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		return r
	}, t)
}

// dotString quotes s as a DOT string whose escString reading gives back s: dot reads \" as " and
// \\ as \ (so \N and the like are not expanded).
func dotString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
