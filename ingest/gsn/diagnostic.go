package gsn

import (
	"fmt"
	"strings"
)

// Severity of a diagnostic: errors refuse a case, warnings do not.
type Severity int

// Severities, as gsn2x names them.
const (
	SeverityWarning Severity = iota
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityError {
		return "Error"
	}
	return "Warning"
}

// Rule codes of sectwin's own parse problems (gsn2x reports these as YAML or deserialisation
// errors, without a code). The validation rules keep gsn2x's codes, V01–V13 and C01–C16.
const (
	RuleSyntax    = "P01" // not UTF-8, YAML syntax, several documents, too large
	RuleShape     = "P02" // not a mapping where one is needed, a key that is not a scalar, merge keys
	RuleValue     = "P03" // a value of the wrong type or out of range
	RuleDuplicate = "P04" // a key given twice in one mapping (an element id, an attribute)
	RuleUses      = "P05" // module.uses names a file that is not in the set
)

// Diagnostic is one problem found while parsing or validating.
type Diagnostic struct {
	Severity Severity
	// Rule is gsn2x's check code (V01–V13, C01–C16), one of the P codes above, or "" for gsn2x's
	// few uncoded messages (an empty module).
	Rule string
	// Module is the module the problem is in; "" for checks of the whole case (C01, C02, C04, C08).
	Module string
	// File and Pos locate the problem when it is about something written in a file.
	File string
	Pos  Position
	// Element is the id of the element at fault (for checks listing several, the first); "" when
	// the problem is not about one element.
	Element string
	// Message is gsn2x's message text without the code, e.g. "Element G1 is undeveloped.".
	Message string
}

// String writes the diagnostic as gsn2x prints it: "Error: (module) V04: message"; checks of the
// whole case have no module part ("Error: C01: message").
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Module != "" {
		fmt.Fprintf(&b, "(%s) ", d.Module)
	}
	if d.Rule != "" {
		b.WriteString(d.Rule)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Location writes "file:line:column" (as much of it as is known).
func (d Diagnostic) Location() string {
	s := d.File
	if d.Pos.Line > 0 {
		s += fmt.Sprintf(":%d", d.Pos.Line)
		if d.Pos.Column > 0 {
			s += fmt.Sprintf(":%d", d.Pos.Column)
		}
	}
	return s
}

// Error is returned when parsing or validation finds errors. It lists every diagnostic found,
// warnings included.
type Error struct {
	Diagnostics []Diagnostic
}

// Error writes one diagnostic a line: "file:line:col: Error: (module) V04: message".
func (e *Error) Error() string {
	lines := make([]string, len(e.Diagnostics))
	for i, d := range e.Diagnostics {
		if loc := d.Location(); loc != "" {
			lines[i] = loc + ": " + d.String()
		} else {
			lines[i] = d.String()
		}
	}
	return strings.Join(lines, "\n")
}

// Errors returns only the diagnostics of severity Error.
func (e *Error) Errors() []Diagnostic {
	var out []Diagnostic
	for _, d := range e.Diagnostics {
		if d.Severity == SeverityError {
			out = append(out, d)
		}
	}
	return out
}

// maxDiagnostics bounds what one parse or validation reports; more are counted.
const maxDiagnostics = 500

// diagnostics collects diagnostics up to maxDiagnostics.
type diagnostics struct {
	list    []Diagnostic
	errors  int
	dropped int
}

func (ds *diagnostics) add(d Diagnostic) {
	if d.Severity == SeverityError {
		ds.errors++
	}
	if len(ds.list) >= maxDiagnostics {
		ds.dropped++
		return
	}
	ds.list = append(ds.list, d)
}

// err returns an *Error when an error was found.
func (ds *diagnostics) err() error {
	if ds.errors == 0 {
		return nil
	}
	list := append([]Diagnostic{}, ds.list...)
	if ds.dropped > 0 {
		list = append(list, Diagnostic{Severity: SeverityError, Message: fmt.Sprintf("and %d more problems", ds.dropped)})
	}
	return &Error{Diagnostics: list}
}
