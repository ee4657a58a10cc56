package assurance

import (
	"cmp"
	"slices"
	"strings"
)

// Rule names a validation rule of Builder.Build, or of the inputs of Evaluator.Set and
// Evaluator.Update.
type Rule string

// The validation rules.
const (
	// RuleID: an id is empty or used twice.
	RuleID Rule = "id"
	// RuleKind: an element or defeater kind, mode, state or severity is not one of the
	// defined values, or a field is set that the kind does not allow.
	RuleKind Rule = "kind"
	// RuleDangling: a link or reference names an element that does not exist.
	RuleDangling Rule = "dangling-reference"
	// RuleLinkType: a link joins elements of kinds it cannot join, joins an element to
	// itself, or is given twice.
	RuleLinkType Rule = "link-type"
	// RuleCycle: SUPPORTED_BY links (with away references) form a cycle.
	RuleCycle Rule = "cycle"
	// RuleMode: K_OF_N with k outside 1..n, or k given for another mode.
	RuleMode Rule = "mode"
	// RuleUndeveloped: an element marked undeveloped has support.
	RuleUndeveloped Rule = "undeveloped"
	// RuleAway: an away reference is malformed (module mismatch, wrong kind, or an away
	// element developed locally).
	RuleAway Rule = "away"
	// RuleDefeater: a defeater challenges nothing, or its assessment is invalid (for
	// instance an accepted residual risk without approver, rationale or expiry).
	RuleDefeater Rule = "defeater"
	// RuleInput: an input given to Set or Update is invalid or names the wrong element.
	RuleInput Rule = "input"
)

// ValidationError is one violated rule. Element names the element at fault; Related names
// the other elements involved, if any (the rest of a cycle, a dangling target).
type ValidationError struct {
	Element string
	Related []string
	Rule    Rule
	Message string
}

// Error returns "assurance: ELEMENT: RULE: MESSAGE".
func (e *ValidationError) Error() string {
	return "assurance: " + e.Element + ": " + string(e.Rule) + ": " + e.Message
}

// ValidationErrors is every rule a model or an input violates, sorted by element, rule and
// message. errors.As finds it, and each *ValidationError in it.
type ValidationErrors []*ValidationError

// Error joins the errors' messages, one per line.
func (es ValidationErrors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap returns the errors, for errors.Is and errors.As.
func (es ValidationErrors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// errs accumulates validation errors.
type errs []*ValidationError

func (l *errs) add(element string, rule Rule, msg string, related ...string) {
	*l = append(*l, &ValidationError{Element: element, Related: related, Rule: rule, Message: msg})
}

// err returns nil or the sorted, deduplicated ValidationErrors.
func (l errs) err() error {
	if len(l) == 0 {
		return nil
	}
	out := ValidationErrors(slices.Clone(l))
	slices.SortFunc(out, func(a, b *ValidationError) int {
		return cmp.Or(cmp.Compare(a.Element, b.Element), cmp.Compare(a.Rule, b.Rule), cmp.Compare(a.Message, b.Message))
	})
	out = slices.CompactFunc(out, func(a, b *ValidationError) bool {
		return a.Element == b.Element && a.Rule == b.Rule && a.Message == b.Message
	})
	return out
}
