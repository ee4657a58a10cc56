package assurance

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// byteReader hands out bytes, then zeros.
type byteReader []byte

func (r *byteReader) next() int {
	if len(*r) == 0 {
		return 0
	}
	b := (*r)[0]
	*r = (*r)[1:]
	return int(b)
}

// id returns one of ten ids, or (for 10 and 11) an id that is never defined.
func (r *byteReader) id() string {
	n := r.next() % 12
	if n >= 10 {
		return fmt.Sprintf("x%d", n)
	}
	return fmt.Sprintf("a%d", n)
}

// fuzzBuilder decodes builder calls over a small id space: elements (kind, flags, k,
// module, away target), links, then defeaters. Invalid kinds, modes, states, levels,
// probabilities and dangling ids are kept on purpose.
//
//	elements: count, then per element: id, kind (0..8), flags (bit 0 undeveloped, 1
//	  predicate, 2 hash, 3 away, 4-5 mode), k, module, [away module, away id]
//	links: count, then per link: type (0 SUPPORTED_BY, 1 reviewed, 2 IN_CONTEXT_OF), from,
//	  to, [reviewed hash]
//	defeaters: count, then per defeater: id, kind (0..3), #challenges, ids, #refuters, ids,
//	  state (0..4), level (0..5), flags (bit 0 KEV, 1 acceptance), probability/200
func fuzzBuilder(r *byteReader) *Builder {
	b := &Builder{}
	for range r.next() % 12 {
		e := Element{ID: r.id(), Kind: Kind(r.next() % 9)}
		flags := r.next()
		e.Undeveloped = flags&1 != 0
		e.Predicate = flags&2 != 0
		if flags&4 != 0 {
			e.Hash = fmt.Sprintf("h%d", flags>>6)
		}
		e.Mode = Mode(flags >> 4 & 3)
		e.K = r.next()%5 - 1
		e.Module = fmt.Sprintf("m%d", r.next()%3)
		if flags&8 != 0 {
			e.Away = &Ref{Module: fmt.Sprintf("m%d", r.next()%3), ID: r.id()}
		}
		b.AddElement(e)
	}
	for range r.next() % 24 {
		switch t, from, to := r.next()%3, r.id(), r.id(); t {
		case 0:
			b.SupportedBy(from, to)
		case 1:
			b.SupportedByReviewed(from, to, fmt.Sprintf("h%d", r.next()%4))
		default:
			b.InContextOf(from, to)
		}
	}
	for range r.next() % 5 {
		d := Defeater{ID: r.id(), Kind: DefeaterKind(r.next() % 4)}
		for range r.next() % 3 {
			d.Challenges = append(d.Challenges, r.id())
		}
		for range r.next() % 3 {
			d.RefutedBy = append(d.RefutedBy, r.id())
		}
		d.Assessment.State = DefeaterState(r.next() % 5)
		d.Assessment.Severity.Level = Level(r.next() % 6)
		flags := r.next()
		d.Assessment.Severity.KEV = flags&1 != 0
		if flags&2 != 0 {
			d.Assessment.Acceptance = Acceptance{Approver: "a", Rationale: "r", Expires: t0.Add(time.Duration(flags>>2) * time.Hour)}
		}
		d.Assessment.Probability = float64(r.next()) / 200
		b.AddDefeater(d)
	}
	return b
}

// fuzzChanges decodes inputs for every element of m, one byte each.
func fuzzChanges(r *byteReader, m *Model) Changes {
	ch := Changes{Leaves: map[string]LeafResult{}, Predicates: map[string]PredicateValue{}, Defeaters: map[string]Assessment{}}
	for _, id := range m.IDs() {
		v := r.next()
		x := m.index[id]
		n := &m.nodes[x]
		switch {
		case n.kind == KindSolution && n.away < 0:
			lr := LeafResult{Reason: leafCodes[v%len(leafCodes)], Confidence: float64(v>>4) / 15}
			if v&8 != 0 {
				lr.Expires = t0.Add(time.Duration(v>>4) * time.Hour)
			}
			ch.Leaves[id] = lr
		case n.predicate && n.away < 0:
			ch.Predicates[id] = PredicateValue{Value: Truth(v % 3), Expires: t0.Add(time.Duration(v>>2) * time.Hour)}
		case n.kind == KindDefeater && v&1 != 0:
			a := Assessment{State: DefeaterState(v >> 1 % 4), Severity: Severity{Level: Level(v >> 3 % 5), KEV: v&64 != 0}}
			if a.State == AcceptedResidual {
				a.Acceptance = Acceptance{Approver: "a", Rationale: "r", Expires: t0.Add(time.Duration(v>>4) * time.Hour)}
			}
			ch.Defeaters[id] = a
		}
	}
	return ch
}

// FuzzBuild decodes random builder calls. Build must not panic; its errors must name an
// element and a rule, sorted; a model it accepts must evaluate (fully and incrementally,
// with the same results) with well-formed results.
func FuzzBuild(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		r := byteReader(data)
		m, err := fuzzBuilder(&r).Build()
		if err != nil {
			var ves ValidationErrors
			if m != nil || !errors.As(err, &ves) || len(ves) == 0 {
				t.Fatalf("Build: model %v, error %v", m != nil, err)
			}
			for i, ve := range ves {
				if ve.Element == "" || ve.Rule == "" || ve.Message == "" || !strings.Contains(ve.Error(), ve.Element) {
					t.Fatalf("malformed error %+v", ve)
				}
				if i > 0 && ves[i-1].Element > ve.Element {
					t.Fatalf("errors not sorted: %v", err)
				}
			}
			return
		}
		opts := Options{Strict: len(data)%2 == 1}
		e := mustEvaluator(t, m, opts)
		if cs := e.Evaluate(t0); len(cs) != m.Len() {
			t.Fatalf("first evaluation reported %d of %d elements", len(cs), m.Len())
		}
		checkInvariants(t, m, e)
		ch := fuzzChanges(&r, m)
		if _, err := e.Update(ch, t0.Add(time.Hour)); err != nil {
			t.Fatalf("Update: %v", err)
		}
		if _, err := e.Update(Changes{}, t0.Add(3*time.Hour)); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		checkInvariants(t, m, e)
		full := mustEvaluator(t, m, opts)
		if err := full.Set(ch); err != nil {
			t.Fatal(err)
		}
		full.Evaluate(t0.Add(3 * time.Hour))
		want := full.Results()
		for i, got := range e.Results() {
			if !got.Equal(want[i].Result) {
				t.Fatalf("%s: incremental %s, full %s", got.ID, summary(got.Result), summary(want[i].Result))
			}
		}
		if !slices.Equal(e.up, full.up) {
			t.Fatal("upper bounds differ")
		}
	})
}
