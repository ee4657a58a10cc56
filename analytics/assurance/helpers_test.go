package assurance

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// parseCase builds a Builder from a compact text, one element per line:
//
//	KIND ID [ATTR ...] [> CHILD[#REVIEWED] ...] [@ CONTEXT ...]
//	def ID DKIND [ATTR ...] on TARGET ... [by REFUTER ...]
//
// KIND is goal, str, sol, ctx, asm or just; DKIND rebutting, undercutting or undermining.
// Element attributes: any, k=N, undeveloped, pred, hash=H, module=M, away=M:ID. Defeater
// attributes: sustained, refuted, residual=HOURS (accepted until t0+HOURS), low, medium,
// high, critical, kev, p=P.
func parseCase(text string) (*Builder, error) {
	b := &Builder{}
	kinds := map[string]Kind{"goal": KindGoal, "str": KindStrategy, "sol": KindSolution,
		"ctx": KindContext, "asm": KindAssumption, "just": KindJustification}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if f[0] == "def" {
			if len(f) < 3 {
				return nil, fmt.Errorf("short defeater line %q", line)
			}
			d := Defeater{ID: f[1]}
			switch f[2] {
			case "rebutting":
				d.Kind = Rebutting
			case "undercutting":
				d.Kind = Undercutting
			case "undermining":
				d.Kind = Undermining
			default:
				return nil, fmt.Errorf("defeater kind %q", f[2])
			}
			mode := ""
			for _, w := range f[3:] {
				switch {
				case w == "on" || w == "by":
					mode = w
				case defeaterAttr(&d.Assessment, w) == nil:
				case mode == "on":
					d.Challenges = append(d.Challenges, w)
				case mode == "by":
					d.RefutedBy = append(d.RefutedBy, w)
				default:
					return nil, fmt.Errorf("defeater attribute %q", w)
				}
			}
			b.AddDefeater(d)
			continue
		}
		k, ok := kinds[f[0]]
		if !ok || len(f) < 2 {
			return nil, fmt.Errorf("bad line %q", line)
		}
		e := Element{ID: f[1], Kind: k}
		mode := ""
		for _, w := range f[2:] {
			switch {
			case w == ">" || w == "@":
				mode = w
			case mode == ">":
				child, hash, _ := strings.Cut(w, "#")
				b.SupportedByReviewed(e.ID, child, hash)
			case mode == "@":
				b.InContextOf(e.ID, w)
			case w == "any":
				e.Mode = ModeAny
			case w == "undeveloped":
				e.Undeveloped = true
			case w == "pred":
				e.Predicate = true
			case strings.HasPrefix(w, "k="):
				e.Mode = ModeKOfN
				e.K, _ = strconv.Atoi(w[2:])
			case strings.HasPrefix(w, "hash="):
				e.Hash = w[5:]
			case strings.HasPrefix(w, "module="):
				e.Module = w[7:]
			case strings.HasPrefix(w, "away="):
				mod, id, _ := strings.Cut(w[5:], ":")
				e.Away = &Ref{Module: mod, ID: id}
			default:
				return nil, fmt.Errorf("attribute %q", w)
			}
		}
		b.AddElement(e)
	}
	return b, nil
}

func defeaterAttr(a *Assessment, w string) error {
	switch {
	case w == "sustained":
		a.State = Sustained
	case w == "refuted":
		a.State = Refuted
	case strings.HasPrefix(w, "residual="):
		h, err := strconv.Atoi(w[9:])
		if err != nil {
			return err
		}
		a.State = AcceptedResidual
		a.Acceptance = Acceptance{Approver: "ciso", Rationale: "compensating control", Expires: t0.Add(time.Duration(h) * time.Hour)}
	case w == "low":
		a.Severity.Level = LevelLow
	case w == "medium":
		a.Severity.Level = LevelMedium
	case w == "high":
		a.Severity.Level = LevelHigh
	case w == "critical":
		a.Severity.Level = LevelCritical
	case w == "kev":
		a.Severity.KEV = true
	case strings.HasPrefix(w, "p="):
		p, err := strconv.ParseFloat(w[2:], 64)
		if err != nil {
			return err
		}
		a.Probability = p
	default:
		return fmt.Errorf("defeater attribute %q", w)
	}
	return nil
}

func mustModel(t testing.TB, text string) *Model {
	t.Helper()
	b, err := parseCase(text)
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.Build()
	if err != nil {
		t.Fatalf("build: %v", err)
	}
	return m
}

func mustEvaluator(t testing.TB, m *Model, opts Options) *Evaluator {
	t.Helper()
	e, err := NewEvaluator(m, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// summary renders a result compactly: [LABEL ]STATUS[ CODE(culprit,...)]...
func summary(r Result) string {
	var b strings.Builder
	if r.Label != 0 {
		b.WriteString(r.Label.String())
		b.WriteByte(' ')
	}
	b.WriteString(r.Status.String())
	for _, rs := range r.Reasons {
		fmt.Fprintf(&b, " %s(%s)", rs.Code, strings.Join(rs.Culprits, ","))
	}
	return b.String()
}

// pass is a PASS leaf result with confidence 1.
var pass = LeafResult{Confidence: 1}

func leaf(c Code) LeafResult { return LeafResult{Reason: c, Confidence: 1} }

// leaves maps every given id to the same leaf result.
func leaves(r LeafResult, ids ...string) map[string]LeafResult {
	out := map[string]LeafResult{}
	for _, id := range ids {
		out[id] = r
	}
	return out
}

// merge returns the union of leaf maps (later maps win).
func merge(ms ...map[string]LeafResult) map[string]LeafResult {
	out := map[string]LeafResult{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
