package report

import (
	"strings"
	"unicode"
)

// Diagram geometry, in SVG user units (pixels at 100 %).
const (
	boxW       = 176 // node box
	boxH       = 52
	gapW       = 136 // arrow between two boxes
	margin     = 8
	nameChars  = 24 // width budget of a node's name, in narrow characters
	labelChars = 26 // of its label line
	edgeChars  = 20 // of an arrow's label
)

// diagram is the layout of one path, drawn left to right: one box per node, arrows between
// them labelled with the hop's probability and technique. Coordinates are computed here, so the
// template only places them.
type diagram struct {
	ID         int // unique within the document, for the SVG marker
	Rank       int
	Likelihood float64
	Width      int
	Height     int
	Nodes      []diagNode
	Edges      []diagEdge
}

type diagNode struct {
	X, Y, W, H  int
	CX          int // horizontal centre, where the text is anchored
	NameY, SubY int
	Name, Sub   string // shortened to fit
	Title       string // the full text, shown as a tooltip
	Class       string // fixed CSS class: entry, jewel or node
	CrownJewel  bool
	Criticality string
}

type diagEdge struct {
	X1, X2, Y      int
	LabelX         int
	ProbY, TechY   int
	Prob           string
	Technique      string // shortened to fit
	TechniqueTitle string
}

// layout places path p (the i-th of the report) left to right.
func layout(i int, p *Path) diagram {
	nodes := make([]NodeRef, 0, len(p.Hops)+1)
	nodes = append(nodes, p.Entry)
	for _, h := range p.Hops {
		nodes = append(nodes, h.To)
	}
	if len(p.Hops) == 0 && p.Target.ID != "" && p.Target.ID != p.Entry.ID {
		nodes = append(nodes, p.Target)
	}
	d := diagram{
		ID:         i + 1,
		Rank:       p.Rank,
		Likelihood: p.Likelihood,
		Width:      2*margin + len(nodes)*boxW + (len(nodes)-1)*gapW,
		Height:     2*margin + boxH + 4,
	}
	midY := margin + boxH/2
	for j, n := range nodes {
		x := margin + j*(boxW+gapW)
		class := "node"
		switch {
		case j == 0:
			class = "entry"
		case n.CrownJewel:
			class = "jewel"
		}
		sub := n.Label
		if n.Criticality != "" {
			sub += " · " + n.Criticality
		}
		if n.CrownJewel {
			sub = "★ " + sub
		}
		d.Nodes = append(d.Nodes, diagNode{
			X: x, Y: margin, W: boxW, H: boxH, CX: x + boxW/2,
			NameY: margin + 22, SubY: margin + 40,
			Name: shorten(oneLine(n.DisplayName()), nameChars), Sub: shorten(oneLine(sub), labelChars),
			Title: oneLine(n.DisplayName()) + " (" + n.Label + ")", Class: class,
			CrownJewel: n.CrownJewel, Criticality: n.Criticality,
		})
		if j == 0 {
			continue
		}
		var probText, tech string
		if j-1 < len(p.Hops) {
			h := p.Hops[j-1]
			probText, tech = "p="+prob(h.Probability), h.Technique
		}
		x1 := x - gapW
		d.Edges = append(d.Edges, diagEdge{
			X1: x1 + 2, X2: x - 4, Y: midY,
			LabelX: x1 + gapW/2, ProbY: midY - 7, TechY: midY + 15,
			Prob: probText, Technique: shorten(oneLine(tech), edgeChars), TechniqueTitle: oneLine(tech),
		})
	}
	return d
}

// oneLine replaces control characters (newlines included) with spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

// shorten cuts s to about width narrow characters (wide ones count double), ending it with an
// ellipsis when it cut.
func shorten(s string, width int) string {
	w := 0
	for i, r := range s {
		w += runeWidth(r)
		if w > width {
			return s[:i] + "…"
		}
	}
	return s
}

// runeWidth estimates how many narrow columns r takes: 2 for East Asian wide characters and
// emoji, 0 for combining marks, 1 otherwise.
func runeWidth(r rune) int {
	switch {
	case unicode.Is(unicode.Mn, r):
		return 0
	case r >= 0x1100 && r <= 0x115F, r >= 0x2E80 && r <= 0xA4CF, r >= 0xAC00 && r <= 0xD7A3,
		r >= 0xF900 && r <= 0xFAFF, r >= 0xFE30 && r <= 0xFE4F, r >= 0xFF00 && r <= 0xFF60,
		r >= 0xFFE0 && r <= 0xFFE6, r >= 0x1F300 && r <= 0x1FAFF, r >= 0x20000 && r <= 0x3FFFD:
		return 2
	}
	return 1
}
