package transform

import (
	"regexp"
	"slices"

	"github.com/sectwin/sectwin/edge/decode"
)

type dropKind int

const (
	dropEquals dropKind = iota + 1
	dropIn
	dropMatches
	dropExists
)

// dropRule tests one field of a record as decoded.
type dropRule struct {
	field  string
	kind   dropKind
	values []string // equals (one) or in
	re     *regexp.Regexp
	exists bool
}

func (r *dropRule) match(rec decode.Record) bool {
	v, present := rec[r.field]
	if r.kind == dropExists {
		return present == r.exists
	}
	text, ok := decode.ScalarText(v)
	if !ok {
		return false
	}
	switch r.kind {
	case dropEquals, dropIn:
		return slices.ContainsFunc(r.values, func(want string) bool { return sameValue(text, want) })
	case dropMatches:
		return r.re.MatchString(text)
	}
	return false
}

// sameValue compares texts, and numbers by value ("53" and "53.0").
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	x, err1 := parseFloat(a)
	y, err2 := parseFloat(b)
	return err1 == nil && err2 == nil && x == y
}
