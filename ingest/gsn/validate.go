package gsn

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Validate applies gsn2x's per-module rules to one module on its own: references to elements of
// other modules are taken as resolvable (NewCase checks them). It returns every diagnostic; any of
// severity Error means gsn2x would refuse the file.
//
//	V01 error   an element's type is unknown: no known id prefix and no nodeType
//	V02 warning a Goal or Strategy is neither supported nor marked undeveloped
//	V03 error   an element marked undeveloped has supporting elements
//	V04 error   a reference of the wrong type: supportedBy of a Goal or Strategy lists Goals,
//	            Strategies, Solutions (and their counter forms), of a CounterGoal CounterGoals and
//	            CounterSolutions; inContextOf of a Goal or Strategy lists Contexts, Assumptions
//	            and Justifications; other elements support nothing and have no context
//	V05 warning a reference is listed twice
//	V06 error   an element references itself
//	V07 error   module.extends: an element developing another is missing or not a Goal,
//	            Strategy or Solution
//	V08 warning nodeType contradicts the id's prefix (only with Options.ExtendedCheck)
//	V09 error   an assurance claim point names neither the element nor a connected element
//	V10 error   an element marked defeated is challenged by no element
//	V11 warning the Dialectic Extension is used (only with Options.WarnDialectic)
//	V12 error   an element that is not a CounterGoal or CounterSolution challenges something
//	V13 error   defeatedRelation names an element the element has no relation to
func (m *Module) Validate(opts Options) []Diagnostic {
	ds := &diagnostics{}
	all := make(map[string]*Element, len(m.Elements))
	for _, e := range m.Elements {
		if _, dup := all[e.ID]; !dup {
			all[e.ID] = e
		}
	}
	validateModule(ds, m, all, opts, true)
	return ds.list
}

// diag adds a diagnostic about element e at the key written.
func diag(ds *diagnostics, sev Severity, rule string, m *Module, e *Element, key, format string, args ...any) {
	ds.add(Diagnostic{Severity: sev, Rule: rule, Module: m.Name, File: m.File, Pos: e.posOf(key), Element: e.ID,
		Message: fmt.Sprintf(format, args...)})
}

// moduleDiag adds a diagnostic about module m, naming element id.
func moduleDiag(ds *diagnostics, sev Severity, rule string, m *Module, id, format string, args ...any) {
	ds.add(Diagnostic{Severity: sev, Rule: rule, Module: m.Name, File: m.File, Pos: m.HeaderPos, Element: id,
		Message: fmt.Sprintf(format, args...)})
}

func isGoalOrStrategy(t Type) bool { return t == Goal || t == Strategy }

// validateModule applies the V rules to m; all holds every element of the case, for the types of
// referenced elements. alone says m is validated without the other modules of its case, so that a
// reference to an element not in all may be to one of them.
func validateModule(ds *diagnostics, m *Module, all map[string]*Element, opts Options, alone bool) {
	challenged := map[string]bool{} // elements some element challenges (not relations)
	for _, e := range all {
		if e.Challenges != nil && !e.Challenges.Relation {
			challenged[e.Challenges.Target] = true
		}
	}
	for _, e := range m.Elements {
		id := e.ID
		if e.Type == "" {
			diag(ds, SeverityError, "V01", m, e, "", "Element %s is of unknown type. Please see documentation for supported types", id)
		}
		if opts.ExtendedCheck && e.ExplicitType {
			if p := TypeFromID(id); p != "" && p != e.Type {
				diag(ds, SeverityWarning, "V08", m, e, "nodeType", "Element %s has type %s, but ID indicates type %s", id, e.Type, p)
			}
		}
		// References.
		if len(e.InContextOf) > 0 {
			var valid []Type
			if isGoalOrStrategy(e.Type) {
				valid = []Type{Justification, Assumption, Context}
			}
			validateRefs(ds, m, e, all, e.InContextOf, "inContextOf", "context", valid)
		}
		if len(e.SupportedBy) > 0 {
			var valid []Type
			switch {
			case isGoalOrStrategy(e.Type):
				valid = []Type{Goal, CounterGoal, Solution, CounterSolution, Strategy}
			case e.Type == CounterGoal:
				valid = []Type{CounterGoal, CounterSolution}
			}
			validateRefs(ds, m, e, all, e.SupportedBy, "supportedBy", "supported by element", valid)
			if e.Undeveloped {
				diag(ds, SeverityError, "V03", m, e, "undeveloped", "Undeveloped element %s has supporting arguments.", id)
			}
		} else if isGoalOrStrategy(e.Type) && !e.Undeveloped {
			diag(ds, SeverityWarning, "V02", m, e, "", "Element %s is undeveloped.", id)
		}
		if e.Challenges != nil && e.Type != CounterGoal && e.Type != CounterSolution {
			diag(ds, SeverityError, "V12", m, e, "challenges", "%s is not a CounterGoal nor CounterSolution but challenges another element or relation.", id)
		}
		// Assurance claim points.
		if len(e.ACP) > 0 {
			connected := []string{id}
			for _, r := range slices.Concat(e.SupportedBy, e.InContextOf) {
				if all[r] != nil || alone {
					connected = append(connected, r)
				}
			}
			for _, a := range e.ACP {
				for _, r := range a.Targets {
					if !slices.Contains(connected, r) {
						diag(ds, SeverityError, "V09", m, e, "acp", "Element %s has an assurance claim point %s that references %s, but this is neither its own ID nor any of the connected elements.", id, a.Name, r)
					}
				}
			}
		}
		// Defeat.
		if e.Defeated && !challenged[id] {
			diag(ds, SeverityError, "V10", m, e, "defeated", "Element %s is marked as defeated, but no other element challenges it.", id)
		}
		for _, r := range e.DefeatedRelation {
			if !slices.Contains(e.SupportedBy, r) && !slices.Contains(e.InContextOf, r) &&
				(e.Challenges == nil || e.Challenges.Relation || e.Challenges.Target != r) {
				diag(ds, SeverityError, "V13", m, e, "defeatedRelation", "Relation from %s to %s is marked as defeated, but %s has no relation to %s.", id, r, id, r)
			}
		}
	}
	// Extensions: the developing elements must be Goals, Strategies or Solutions of this module.
	local := map[string]*Element{}
	for _, e := range m.Elements {
		local[e.ID] = e
	}
	for _, x := range m.Extends {
		for _, d := range x.Develops {
			for _, l := range d.By {
				t := TypeFromID(l)
				if e := local[l]; e != nil {
					t = e.Type
				}
				switch {
				case t != Goal && t != Strategy && t != Solution:
					moduleDiag(ds, SeverityError, "V07", m, l, "Element %s is of wrong type. Only Strategies, Goals and Solutions can develop other Goals and Strategies.", l)
				case local[l] == nil:
					moduleDiag(ds, SeverityError, "V07", m, l, "Element %s in module %s supposed to develop %s in module %s does not exist.", l, m.Name, d.Element, x.Module)
				}
			}
		}
	}
	if opts.WarnDialectic {
		var ids []string
		for _, e := range m.Elements {
			if e.Type == CounterGoal || e.Type == CounterSolution {
				ids = append(ids, e.ID)
			}
		}
		if len(ids) > 0 {
			moduleDiag(ds, SeverityWarning, "V11", m, ids[0], "Dialectic extension is used. See elements: %s", strings.Join(ids, ", "))
		}
	}
}

// validateRefs checks one reference list: no self reference (V06), no duplicates (V05), and
// targets of the valid types (V04; a target that does not exist is left to C03).
func validateRefs(ds *diagnostics, m *Module, e *Element, all map[string]*Element, refs []string, key, what string, valid []Type) {
	seen := map[string]bool{}
	for _, r := range refs {
		if r == e.ID {
			diag(ds, SeverityError, "V06", m, e, key, "Element %s references itself in %s.", e.ID, what)
		}
		if seen[r] {
			diag(ds, SeverityWarning, "V05", m, e, key, "Element %s has duplicate entry %s in %s.", e.ID, r, what)
		}
		seen[r] = true
		t := all[r]
		if len(valid) == 0 || t != nil && !slices.Contains(valid, t.Type) {
			diag(ds, SeverityError, "V04", m, e, key, "Element %s has invalid type of reference %s in %s.", e.ID, r, what)
		}
	}
}

// diag adds a diagnostic about element id of the case, in its module.
func (c *Case) diag(ds *diagnostics, sev Severity, rule, id, key, format string, args ...any) {
	d := c.caseDiag(sev, rule, id, key, format, args...)
	d.Module = c.modOf[id].Name
	ds.add(d)
}

// caseDiag makes a diagnostic about the whole case (no module, as gsn2x reports C01, C02, C04 and
// C08), located at element id.
func (c *Case) caseDiag(sev Severity, rule, id, key, format string, args ...any) Diagnostic {
	d := Diagnostic{Severity: sev, Rule: rule, Element: id, Message: fmt.Sprintf(format, args...)}
	if m := c.modOf[id]; m != nil {
		d.File, d.Pos = m.File, c.byID[id].posOf(key)
	}
	return d
}

// extend applies module.extends: the extended modules must exist (C09), the developed elements
// must exist in them and be undeveloped (C10).
func (c *Case) extend(ds *diagnostics) {
	for _, m := range c.Modules {
		for _, x := range m.Extends {
			add := func(rule, element, format string, args ...any) {
				ds.add(Diagnostic{Severity: SeverityError, Rule: rule, Module: m.Name, File: m.File, Pos: x.Pos, Element: element,
					Message: fmt.Sprintf(format, args...)})
			}
			if c.byName[x.Module] == nil {
				add("C09", "", "Module %s is not found, but is supposed to be extended by module %s.", x.Module, m.Name)
			}
			for _, d := range x.Develops {
				by := strings.Join(d.By, ",")
				f := c.byID[d.Element]
				switch {
				case f == nil:
					add("C10", d.Element, "Element %s does not exist, but is supposed to be extended by %s.", d.Element, by)
				case c.modOf[d.Element].Name != x.Module:
					add("C10", d.Element, "Element %s does not exist in module %s, but is supposed to be extended by %s.", d.Element, x.Module, by)
				case !f.Undeveloped || len(c.develops[d.Element]) > 0:
					add("C10", d.Element, "Element %s is not undeveloped, but is supposed to be extended by %s.", d.Element, by)
				default:
					c.develops[d.Element] = slices.Clone(d.By)
				}
			}
		}
	}
}

// checkReferences: every supportedBy and inContextOf target exists (C03, with the C11 hint for a
// list written as one string); challenges name existing elements (C13, C14) or existing, related
// elements (C12, C15, C16).
func (c *Case) checkReferences(ds *diagnostics) {
	for _, e := range c.Elements() {
		if c.byID[e.ID] != e {
			continue // a duplicate, already reported
		}
		c.unresolved(ds, e, e.InContextOf, "inContextOf", "in context of")
		c.unresolved(ds, e, e.SupportedBy, "supportedBy", "supported by")
		ch := e.Challenges
		if ch == nil {
			continue
		}
		id := e.ID
		switch {
		case !ch.Relation && ch.Target == id:
			c.diag(ds, SeverityError, "C13", id, "challenges", "Element %s challenges itself.", id)
		case !ch.Relation && c.byID[ch.Target] == nil:
			c.diag(ds, SeverityError, "C14", id, "challenges", "Element %s challenges %s, but that element does not exist.", id, ch.Target)
		case ch.Relation && ch.Target == ch.To:
			c.diag(ds, SeverityError, "C15", id, "challenges", "Element %s challenges a relation with both ends pointing to %s.", id, ch.Target)
		case ch.Relation && c.byID[ch.Target] == nil:
			c.diag(ds, SeverityError, "C12", id, "challenges", "Element %s challenges a relation, but element %s of the relation does not exist.", id, ch.Target)
		case ch.Relation && c.byID[ch.To] == nil:
			c.diag(ds, SeverityError, "C12", id, "challenges", "Element %s challenges a relation, but element %s of the relation does not exist.", id, ch.To)
		case ch.Relation && !c.related(ch.Target, ch.To) && !c.related(ch.To, ch.Target):
			c.diag(ds, SeverityError, "C16", id, "challenges", "Element %s challenges a relation, but the referenced elements %s and %s do not have a relation.", id, ch.Target, ch.To)
		}
	}
}

func (c *Case) unresolved(ds *diagnostics, e *Element, refs []string, key, what string) {
	for _, r := range refs {
		if c.byID[r] != nil {
			continue
		}
		c.diag(ds, SeverityError, "C03", e.ID, key, "Element %s has unresolved %q element: %s", e.ID, what, r)
		if strings.Contains(r, ",") {
			c.diag(ds, SeverityWarning, "C11", e.ID, key, "Unresolved %q element of %s may be actually a list: %s. Try writing [%s] instead.", what, e.ID, r, r)
		}
	}
}

// related reports whether from has a relation to to: supports it, has it as context, or
// challenges it (or a relation it is an end of).
func (c *Case) related(from, to string) bool {
	e := c.byID[from]
	if e == nil {
		return false
	}
	if slices.Contains(c.support(e), to) || slices.Contains(e.InContextOf, to) {
		return true
	}
	if ch := e.Challenges; ch != nil {
		return ch.Target == to || ch.Relation && ch.To == to
	}
	return false
}

// checkRoots: there must be a top-level element (C01: an error when there is none, a warning when
// there are several), and a single one must be a Goal (C02). Elements that challenge are never
// top-level.
func (c *Case) checkRoots(ds *diagnostics) {
	referenced := map[string]bool{}
	for _, e := range c.byID {
		for _, r := range slices.Concat(c.support(e), e.InContextOf) {
			referenced[r] = true
		}
		if e.Challenges != nil {
			referenced[e.ID] = true
		}
	}
	var roots []string
	for id := range c.byID {
		if !referenced[id] {
			roots = append(roots, id)
		}
	}
	sort.Strings(roots)
	c.roots = roots
	switch {
	case len(roots) > 1:
		ds.add(c.caseDiag(SeverityWarning, "C01", roots[0], "", "There is more than one unreferenced element: %s.", strings.Join(roots, ", ")))
	case len(roots) == 1:
		if c.byID[roots[0]].Type != Goal {
			ds.add(c.caseDiag(SeverityError, "C02", roots[0], "", "The root element should be a goal, but %s was found.", roots[0]))
		}
	case len(c.byID) > 0:
		ds.add(c.caseDiag(SeverityError, "C01", "", "", "There are no unreferenced elements found."))
	}
}

// checkCycles: following supportedBy (and extensions) from the roots must not come back to an
// element on the way (C04).
func (c *Case) checkCycles(ds *diagnostics) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var path []string
	var found bool
	var visit func(id string)
	visit = func(id string) {
		state[id] = active
		path = append(path, id)
		for _, s := range c.support(c.byID[id]) {
			if found {
				return
			}
			if c.byID[s] == nil {
				continue
			}
			switch state[s] {
			case active:
				i := slices.Index(path, s)
				ring := append(slices.Clone(path[i:]), s)
				ds.add(c.caseDiag(SeverityError, "C04", id, "supportedBy", "Cycle detected at element %s. Cycle is %s.", id, strings.Join(ring, " -> ")))
				found = true
				return
			case unseen:
				visit(s)
			}
		}
		path = path[:len(path)-1]
		state[id] = done
	}
	for _, r := range c.roots {
		if !found && state[r] == unseen {
			visit(r)
		}
	}
}

// checkReachable: every element must be reachable from the roots (C08) through supportedBy,
// inContextOf, extensions, and from a challenged element or relation to its challengers.
func (c *Case) checkReachable(ds *diagnostics) {
	challengers := map[string][]string{}
	for _, e := range c.Elements() {
		if e.Challenges != nil && c.byID[e.ID] == e {
			challengers[e.Challenges.Target] = append(challengers[e.Challenges.Target], e.ID)
		}
	}
	seen := map[string]bool{}
	queue := slices.Clone(c.roots)
	for _, r := range queue {
		seen[r] = true
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		e := c.byID[id]
		for _, n := range slices.Concat(c.support(e), e.InContextOf, challengers[id]) {
			if !seen[n] && c.byID[n] != nil {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	var unreached []string
	for id := range c.byID {
		if !seen[id] {
			unreached = append(unreached, id)
		}
	}
	if len(unreached) == 0 {
		return
	}
	sort.Strings(unreached)
	ds.add(c.caseDiag(SeverityError, "C08", unreached[0], "", "The following element(s) are not reachable from the root element(s) (%s): %s",
		strings.Join(c.roots, ", "), strings.Join(unreached, ", ")))
}
