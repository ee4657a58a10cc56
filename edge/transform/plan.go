package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sectwin/sectwin/edge/decode"
)

// class is what the config says about a field name.
type class uint8

// field is what a plan does to one field: its class and, for special fields, the
// generalizer (nil if none) and whether it is pseudonymised. Fields of a lat/lon pair are
// handled together, after the other fields.
type field struct {
	c      class
	gen    *generalizer
	pseudo bool
	pair   bool
}

const (
	cAllowed    class = 1 << iota // kept
	cIgnored                      // kept untouched
	cSpecial                      // generalised or pseudonymised: not masked
	cKeyBlocked                   // its name matches blocked_key_patterns
)

// Plan is a compiled pipeline config. Apply is safe for concurrent use.
type Plan struct {
	now      func() time.Time
	allowAll bool
	prefixes []string // "alert." for allow_fields "alert.*"

	blockedKeys, blockedValues, allowedValues *regexp.Regexp
	redactAll, summary                        bool

	gens   []*generalizer // all, for String
	pairs  []*generalizer // those with a lon_field
	pseudo *pseudonymizer
	drops  []dropRule
	bound  *bounder
	unit   string

	// fields maps field names to what to do with them: every name the config lists, and
	// names learned from records (up to maxLearned). It is copied on write, so reads take no
	// lock.
	fields  atomic.Pointer[map[string]field]
	learnMu sync.Mutex
	learned int

	st counters
}

// maxLearned bounds the field names a plan remembers beyond those its config lists, so that
// hostile input cannot grow it; other names are classified on every record.
const maxLearned = 2048

func (p *Plan) classify(k string) field {
	m := *p.fields.Load()
	if f, ok := m[k]; ok {
		return f
	}
	var c class
	if p.allowAll {
		c = cAllowed
	} else {
		for _, pre := range p.prefixes {
			if strings.HasPrefix(k, pre) {
				c = cAllowed
				break
			}
		}
	}
	if c&cAllowed != 0 && p.blockedKeys != nil && p.blockedKeys.MatchString(k) {
		c |= cKeyBlocked
	}
	p.learn(k, field{c: c})
	return field{c: c}
}

// learn remembers a field name's plan.
func (p *Plan) learn(k string, f field) {
	p.learnMu.Lock()
	defer p.learnMu.Unlock()
	old := *p.fields.Load()
	if _, ok := old[k]; ok || p.learned >= maxLearned {
		return
	}
	m := make(map[string]field, len(old)+1)
	for name, f := range old {
		m[name] = f
	}
	m[k] = f
	p.fields.Store(&m)
	p.learned++
}

// ErrUnsupportedValue: a record holds a Go value that transforms cannot inspect, so it cannot
// be shown to be safe.
var ErrUnsupportedValue = errors.New("unsupported value type")

// tally counts one record's transforms.
type tally struct {
	removed, keysMasked, valuesMasked, ignored, generalized, genFailed, pseudonymized int64
}

// Apply minimises rec and returns it. It works in place: out is rec, changed; the caller must
// not keep using rec's old contents. dropped reports a record removed by a drop rule or by
// contribution bounding (out is then nil). err reports a record that holds a value transforms
// cannot handle; it must not be emitted.
func (p *Plan) Apply(rec decode.Record) (out decode.Record, dropped bool, err error) {
	p.st.records.Add(1)
	for i := range p.drops {
		if p.drops[i].match(rec) {
			p.st.dropped.Add(1)
			return nil, true, nil
		}
	}
	now := p.now()
	if p.bound != nil && !p.bound.admit(rec[p.unit], now) {
		p.st.bounded.Add(1)
		return nil, true, nil
	}
	var t tally
	var ek *epochKey // this record's pseudonym key, fetched on first use
	for k, v := range rec {
		f := p.classify(k)
		switch {
		case f.c&cAllowed == 0:
			delete(rec, k)
			t.removed++
		case f.c&cIgnored != 0:
			t.ignored++
		case f.c&cSpecial != 0:
			if f.pair || v == nil {
				continue
			}
			if f.gen != nil {
				nv, ok := f.gen.value(v)
				if !ok {
					rec[k] = mask
					t.genFailed++
					continue
				}
				v = nv
				t.generalized++
			}
			if f.pseudo {
				if ek == nil {
					ek = p.pseudo.key(now)
				}
				v = ek.apply(v)
				t.pseudonymized++
			}
			rec[k] = v
		case f.c&cKeyBlocked != 0:
			if v != nil {
				rec[k] = mask
				t.keysMasked++
			}
		case p.blockedValues != nil || p.blockedKeys != nil:
			nv, n, err := p.maskValue(v, 0)
			if err != nil {
				p.st.errors.Add(1)
				return nil, false, fmt.Errorf("field %q: %w", k, err)
			}
			if n > 0 {
				rec[k] = nv
				t.valuesMasked += int64(n)
			}
		}
	}
	for _, g := range p.pairs {
		if g.applyPair(rec, &t) && p.pseudo != nil && (*p.fields.Load())[g.field].pseudo {
			if ek == nil {
				ek = p.pseudo.key(now)
			}
			rec[g.field] = ek.apply(rec[g.field])
			t.pseudonymized++
		}
	}
	if p.summary {
		rec["redaction.redacted.count"] = t.removed
		rec["redaction.masked.count"] = t.keysMasked + t.valuesMasked + t.genFailed
		rec["redaction.ignored.count"] = t.ignored
		rec["redaction.generalized.count"] = t.generalized
		rec["redaction.pseudonymized.count"] = t.pseudonymized
	}
	p.st.add(&t)
	return rec, false, nil
}

const maxMaskDepth = 1000

// maskValue masks blocked values inside v (strings; numbers and booleans too with
// redact_all_types; arrays and objects recursively, where blocked key names mask whole values).
// It returns the new value and how many matches it masked.
func (p *Plan) maskValue(v any, depth int) (any, int, error) {
	if depth > maxMaskDepth {
		return nil, 0, fmt.Errorf("%w: nested deeper than %d", ErrUnsupportedValue, maxMaskDepth)
	}
	switch x := v.(type) {
	case nil:
		return v, 0, nil
	case string:
		s, n := p.maskString(x)
		return s, n, nil
	case bool, float64, int, int64, json.Number:
		if !p.redactAll || p.blockedValues == nil {
			return v, 0, nil
		}
		text, _ := decode.ScalarText(x)
		if s, n := p.maskString(text); n > 0 {
			return s, n, nil
		}
		return v, 0, nil
	case []any:
		total := 0
		for i, e := range x {
			ne, n, err := p.maskValue(e, depth+1)
			if err != nil {
				return nil, 0, err
			}
			if n > 0 {
				x[i] = ne
				total += n
			}
		}
		return x, total, nil
	case map[string]any:
		total := 0
		for k, e := range x {
			if p.blockedKeys != nil && p.blockedKeys.MatchString(k) {
				if e != nil {
					x[k] = mask
					total++
				}
				continue
			}
			ne, n, err := p.maskValue(e, depth+1)
			if err != nil {
				return nil, 0, err
			}
			if n > 0 {
				x[k] = ne
				total += n
			}
		}
		return x, total, nil
	}
	return nil, 0, fmt.Errorf("%w %T", ErrUnsupportedValue, v)
}

// maskString replaces each blocked match that is not an allowed value.
func (p *Plan) maskString(s string) (string, int) {
	if p.blockedValues == nil {
		return s, 0
	}
	locs := p.blockedValues.FindAllStringIndex(s, -1)
	if locs == nil {
		return s, 0
	}
	var b strings.Builder
	n, last := 0, 0
	for _, l := range locs {
		if l[0] == l[1] {
			continue // an empty match masks nothing
		}
		if p.allowedValues != nil && p.allowedValues.MatchString(s[l[0]:l[1]]) {
			continue
		}
		b.WriteString(s[last:l[0]])
		b.WriteString(mask)
		last = l[1]
		n++
	}
	if n == 0 {
		return s, 0
	}
	b.WriteString(s[last:])
	return b.String(), n
}

// Stats are a plan's counters since it was compiled. They are counts only: never which
// fields were redacted.
type Stats struct {
	Records          int64 // records given to Apply
	Dropped          int64 // dropped by a drop rule
	Bounded          int64 // dropped by contribution bounding
	Errors           int64 // refused with an error
	FieldsRemoved    int64 // fields removed by the allowlist
	KeysMasked       int64 // values masked whole for their key name
	ValuesMasked     int64 // blocked value matches masked
	Ignored          int64 // ignored fields passed untouched
	Generalized      int64 // values generalised
	GeneralizeFailed int64 // values masked because they could not be generalised
	Pseudonymized    int64 // values pseudonymised
}

type counters struct {
	records, dropped, bounded, errors                                             atomic.Int64
	removed, keysMasked, valuesMasked, ignored, generalized, genFailed, pseudonym atomic.Int64
}

func (c *counters) add(t *tally) {
	for _, x := range []struct {
		c *atomic.Int64
		n int64
	}{
		{&c.removed, t.removed}, {&c.keysMasked, t.keysMasked}, {&c.valuesMasked, t.valuesMasked},
		{&c.ignored, t.ignored}, {&c.generalized, t.generalized}, {&c.genFailed, t.genFailed},
		{&c.pseudonym, t.pseudonymized},
	} {
		if x.n != 0 {
			x.c.Add(x.n)
		}
	}
}

// Stats returns the counters.
func (p *Plan) Stats() Stats {
	c := &p.st
	return Stats{
		Records: c.records.Load(), Dropped: c.dropped.Load(), Bounded: c.bounded.Load(), Errors: c.errors.Load(),
		FieldsRemoved: c.removed.Load(), KeysMasked: c.keysMasked.Load(), ValuesMasked: c.valuesMasked.Load(),
		Ignored: c.ignored.Load(), Generalized: c.generalized.Load(), GeneralizeFailed: c.genFailed.Load(),
		Pseudonymized: c.pseudonym.Load(),
	}
}

// number reads a numeric value (json.Number, float64, int, int64, or a numeric string).
func number(v any) (float64, bool) {
	if n, ok := v.(json.Number); ok { // the common case, without ScalarText's switch
		f, err := strconv.ParseFloat(string(n), 64)
		return f, err == nil && !math.IsInf(f, 0)
	}
	text, ok := decode.ScalarText(v)
	if !ok {
		return 0, false
	}
	if _, isBool := v.(bool); isBool {
		return 0, false
	}
	f, err := parseFloat(text)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// String describes the plan by what it does, never by its keys.
func (p *Plan) String() string {
	if p == nil {
		return "transform.Plan(nil)"
	}
	allow := "allowlist"
	if p.allowAll {
		allow = "all fields"
	}
	pseudo := 0
	if p.pseudo != nil {
		pseudo = len(p.pseudo.fields)
	}
	return fmt.Sprintf("transform.Plan{%s, %d generalized, %d pseudonymized, %d drop rules, bound %v}", allow, len(p.gens), pseudo, len(p.drops), p.bound != nil)
}

// GoString is String, so that %#v shows no internals either.
func (p *Plan) GoString() string { return p.String() }
