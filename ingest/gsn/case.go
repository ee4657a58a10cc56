package gsn

import (
	"path"
	"path/filepath"
	"slices"
	"sort"
)

// Case is a validated assurance case: one or more modules whose references, extensions and
// structure passed gsn2x's checks. Warnings lists what was found that does not refuse the case.
// A Case keeps the modules it was made from; do not change them afterwards.
type Case struct {
	Modules  []*Module
	Warnings []Diagnostic

	byID     map[string]*Element
	modOf    map[string]*Module // element id → its module
	byName   map[string]*Module
	develops map[string][]string // foreign element id → local ids developing it (module.extends)
	roots    []string
}

// Options select gsn2x's optional checks.
type Options struct {
	// ExtendedCheck reports V08: a nodeType that contradicts the id's prefix (gsn2x
	// --extended-check).
	ExtendedCheck bool
	// WarnDialectic reports V11: the Dialectic Extension is used (gsn2x --warn-dialectic).
	WarnDialectic bool
}

// Element returns the element with the given id, or nil.
func (c *Case) Element(id string) *Element { return c.byID[id] }

// Module returns the module with the given name, or nil.
func (c *Case) Module(name string) *Module { return c.byName[name] }

// Elements returns every element, module by module in file order.
func (c *Case) Elements() []*Element {
	var out []*Element
	for _, m := range c.Modules {
		out = append(out, m.Elements...)
	}
	return out
}

// Roots returns the ids of the top-level elements (normally one Goal), sorted.
func (c *Case) Roots() []string { return slices.Clone(c.roots) }

// SupportedBy returns the ids supporting an element, including those that develop it from another
// module (module.extends).
func (c *Case) SupportedBy(id string) []string {
	e := c.byID[id]
	if e == nil {
		return nil
	}
	return c.support(e)
}

func (c *Case) support(e *Element) []string {
	if d := c.develops[e.ID]; len(d) > 0 {
		return append(slices.Clone(e.SupportedBy), d...)
	}
	return e.SupportedBy
}

// Developed reports whether an undeveloped element is developed by another module.
func (c *Case) Developed(id string) bool { return len(c.develops[id]) > 0 }

// ParseSet reads a set of gsn2x files, one module each, and validates them together as one case:
// module.uses must name files of the set (relative to the using file), module.extends modules of
// the set, and every reference must resolve across the modules. The keys of files are the files'
// names; files used by no other file come first, each followed by the files it uses.
//
// ParseSet fails with an *Error when any file does not parse or any gsn2x rule reports an error;
// warnings are kept in Case.Warnings.
func ParseSet(files map[string][]byte) (*Case, error) {
	return ParseSetOptions(files, Options{})
}

// ParseSetOptions is ParseSet with gsn2x's optional checks.
func ParseSetOptions(files map[string][]byte, opts Options) (*Case, error) {
	ds := &diagnostics{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	parsed := map[string]*Module{}
	byPath := map[string]string{} // cleaned slash path → name
	for _, n := range names {
		byPath[cleanPath(n)] = n
		if m := parse(n, files[n], ds); m != nil {
			parsed[n] = m
		}
	}
	if err := ds.err(); err != nil {
		return nil, err
	}
	// Resolve uses, and order the modules: entry files, each followed by what it uses.
	uses := map[string][]string{}
	used := map[string]bool{}
	for _, n := range names {
		m := parsed[n]
		for _, u := range m.Uses {
			target := resolveUse(n, u)
			name, ok := byPath[target]
			if !ok {
				ds.add(Diagnostic{Severity: SeverityError, Rule: RuleUses, Module: m.Name, File: n, Pos: m.HeaderPos,
					Message: "module uses " + u + ", which is not among the files given (looked for " + target + ")"})
				continue
			}
			uses[n] = append(uses[n], name)
			if name != n {
				used[name] = true
			}
		}
	}
	if err := ds.err(); err != nil {
		return nil, err
	}
	var order []*Module
	visited := map[string]bool{}
	var visit func(n string)
	visit = func(n string) {
		if visited[n] {
			return
		}
		visited[n] = true
		order = append(order, parsed[n])
		for _, u := range uses[n] {
			visit(u)
		}
	}
	for _, n := range names {
		if !used[n] {
			visit(n)
		}
	}
	for _, n := range names { // files that only use each other
		visit(n)
	}
	return newCase(order, opts, ds)
}

func cleanPath(name string) string { return path.Clean(filepath.ToSlash(name)) }

// resolveUse gives the path a module.uses entry names: relative to the using file's directory.
func resolveUse(file, use string) string {
	use = filepath.ToSlash(use)
	if path.IsAbs(use) {
		return path.Clean(use)
	}
	return path.Join(path.Dir(cleanPath(file)), use)
}

// NewCase validates modules together as one case, with gsn2x's rules (see Validate for the
// per-module rules; the rules across modules are C01–C16). It fails with an *Error when any rule
// reports an error; warnings are kept in Case.Warnings.
func NewCase(modules []*Module, opts Options) (*Case, error) {
	return newCase(modules, opts, &diagnostics{})
}

func newCase(modules []*Module, opts Options, ds *diagnostics) (*Case, error) {
	c := &Case{
		Modules:  modules,
		byID:     map[string]*Element{},
		modOf:    map[string]*Module{},
		byName:   map[string]*Module{},
		develops: map[string][]string{},
	}
	// The stages of gsn2x, each run only when the ones before found no error, except that a
	// failed extension does not stop the checks across modules (gsn2x reports, for an instance
	// extending a missing module, the C09 and C10 errors and the C01 warning of its now
	// unreferenced top element).
	c.load(ds)
	if ds.errors == 0 {
		for _, m := range modules {
			validateModule(ds, m, c.byID, opts, false)
		}
	}
	if ds.errors == 0 {
		c.extend(ds)
		before := ds.errors
		c.checkReferences(ds)
		if ds.errors == before {
			c.checkRoots(ds)
		}
		if ds.errors == before {
			c.checkCycles(ds)
		}
		if ds.errors == before {
			c.checkReachable(ds)
		}
	}
	if err := ds.err(); err != nil {
		return nil, err
	}
	c.Warnings = ds.list
	return c, nil
}

// load indexes modules and elements: module names (C06) and ids (C07) must be unique, and every
// module must hold an element.
func (c *Case) load(ds *diagnostics) {
	for _, m := range c.Modules {
		if first, dup := c.byName[m.Name]; dup {
			ds.add(Diagnostic{Severity: SeverityError, Rule: "C06", Module: m.Name, File: m.File, Pos: m.HeaderPos,
				Message: "Module " + m.Name + " in " + m.File + " was already present in " + first.File + "."})
			continue
		}
		c.byName[m.Name] = m
		if len(m.Elements) == 0 {
			ds.add(Diagnostic{Severity: SeverityError, Module: m.Name, File: m.File, Pos: m.HeaderPos,
				Message: "The module does not contain elements."})
		}
		for _, e := range m.Elements {
			if _, dup := c.byID[e.ID]; dup {
				ds.add(Diagnostic{Severity: SeverityError, Rule: "C07", Module: m.Name, File: m.File, Pos: e.Pos, Element: e.ID,
					Message: "Element " + e.ID + " in " + m.File + " was already present in " + c.modOf[e.ID].Name + "."})
				continue
			}
			c.byID[e.ID] = e
			c.modOf[e.ID] = m
		}
	}
	if len(c.byID) == 0 && ds.errors == 0 {
		ds.add(Diagnostic{Severity: SeverityError, Message: "No input elements are found."})
	}
}
