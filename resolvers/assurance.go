package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/gsn"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/resolvers/model"
)

// Limits of an imported case.
const (
	maxCaseFiles     = 64
	maxCaseFileBytes = 4 << 20
)

var errUnknownModule = errors.New("no such module in the case")

// caseAccess checks that the caller may read the whole twin: a case argues about all of it.
func (r *Resolver) caseAccess(ctx context.Context, twin string) (twinAccess, error) {
	a, err := r.access(ctx, twin, auth.ScopeRead)
	if err != nil {
		return a, err
	}
	if !a.full {
		return a, gqlErr(ctx, CodeForbidden, fmt.Sprintf("assurance cases need access to the whole twin %q; shared subgraphs are not enough", twin))
	}
	return a, nil
}

// importCase parses and validates a gsn2x case and maps it for the graph.
func importCase(twin, id, name string, files []*model.CaseFileInput, by string, now time.Time) (graph.AssuranceCase, error) {
	if !auth.ValidTwinName(id) {
		return graph.AssuranceCase{}, fmt.Errorf("%w: case id %q: use letters, digits, '-' and '_'", assurancecase.ErrBadCase, id)
	}
	if len(files) == 0 || len(files) > maxCaseFiles {
		return graph.AssuranceCase{}, fmt.Errorf("%w: give 1 to %d files", assurancecase.ErrBadCase, maxCaseFiles)
	}
	set := make(map[string][]byte, len(files))
	for _, f := range files {
		if len(f.Content) > maxCaseFileBytes {
			return graph.AssuranceCase{}, fmt.Errorf("%w: file %s is over %d bytes", assurancecase.ErrBadCase, f.Name, maxCaseFileBytes)
		}
		if _, dup := set[f.Name]; dup || f.Name == "" {
			return graph.AssuranceCase{}, fmt.Errorf("%w: file names must be given and distinct (%q)", assurancecase.ErrBadCase, f.Name)
		}
		set[f.Name] = []byte(f.Content)
	}
	c, err := gsn.ParseSet(set)
	if err != nil {
		return graph.AssuranceCase{}, err
	}
	if name == "" {
		name = id
	}
	return assurancecase.FromGSN(twin, id, name, c, set, by, now)
}

// caseErr turns an import problem into BAD_USER_INPUT with each problem and its element.
func caseErr(ctx context.Context, twin string, err error) error {
	var ge *gsn.Error
	switch {
	case errors.As(err, &ge):
		e := gqlErr(ctx, CodeBadInput, fmt.Sprintf("the case does not validate: %d problem(s)", len(ge.Diagnostics)))
		probs := make([]map[string]any, 0, len(ge.Diagnostics))
		for _, d := range ge.Diagnostics {
			probs = append(probs, map[string]any{"element": d.Element, "rule": d.Rule, "module": d.Module, "file": d.File,
				"line": d.Pos.Line, "severity": d.Severity.String(), "message": d.Message})
		}
		e.Extensions["problems"] = probs
		return e
	case errors.Is(err, assurancecase.ErrBadCase), errors.Is(err, graph.ErrBadCase):
		e := gqlErr(ctx, CodeBadInput, err.Error())
		var probs []map[string]any
		for _, one := range flatten(err) {
			var ee *assurancecase.ElementError
			if errors.As(one, &ee) {
				probs = append(probs, map[string]any{"element": ee.Element, "field": ee.Layer, "message": ee.Message})
			}
		}
		if len(probs) > 0 {
			e.Extensions["problems"] = probs
		}
		return e
	case errors.Is(err, graph.ErrTwinNotFound):
		return notFound(ctx, twin)
	}
	return backendErr(ctx, err)
}

// flatten lists the errors joined into err.
func flatten(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

func gsnElementModel(twin, caseID string, e graph.CaseElement, statuses map[string]graph.CaseStatus) *model.GsnElement {
	m := &model.GsnElement{ID: e.ID, Type: e.Type, Module: e.Module, Text: e.Text, Undeveloped: e.Undeveloped,
		SupportedBy: orEmptyList(e.SupportedBy), InContextOf: orEmptyList(e.InContextOf), Challenges: orEmptyList(e.Challenges),
		Refutes: orEmptyList(e.Refutes), About: []string{}, Twin: twin, Case: caseID}
	if e.Mode != "" {
		m.Mode = &e.Mode
	}
	if e.K > 0 {
		m.K = &e.K
	}
	if e.Evidence != "" {
		m.Evidence = &e.Evidence
	}
	for _, a := range e.About {
		m.About = append(m.About, graph.ID(a.Label, twin, a.Key))
	}
	if d := e.Defeater; d != nil {
		md := &model.CaseDefeater{Kind: d.Kind, State: d.State, Severity: d.Severity, Kev: d.KEV, Probability: d.Probability}
		if d.Approver != "" {
			md.Approver = &d.Approver
		}
		if d.Rationale != "" {
			md.Rationale = &d.Rationale
		}
		if !d.Expires.IsZero() {
			md.Expires = &d.Expires
		}
		m.Defeater = md
	}
	if s, ok := statuses[e.ID]; ok {
		m.Status, m.Reasons, m.Confidence, m.StatusAt = &s.Status, &s.Reasons, &s.Confidence, &s.At
	}
	return m
}

func orEmptyList(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// exportCase renders a stored case from its source, annotated with the stored statuses.
func exportCase(ctx context.Context, db *graph.DB, c graph.AssuranceCase, f model.CaseFormat, module string) (string, error) {
	var files map[string][]byte
	if err := json.Unmarshal([]byte(c.Source), &files); err != nil {
		return "", fmt.Errorf("case %s: stored source: %w", c.ID, err)
	}
	parsed, err := gsn.ParseSet(files)
	if err != nil {
		return "", fmt.Errorf("case %s: stored source: %w", c.ID, err)
	}
	statuses, err := db.CaseStatuses(ctx, c.Twin, c.ID)
	if err != nil {
		return "", err
	}
	ann := gsn.Annotations{}
	for _, s := range statuses {
		a := gsn.Annotation{Status: gsn.Status(s.Status)}
		for _, r := range reasonCodes(s.Reasons) {
			a.Reasons = append(a.Reasons, r)
		}
		ann[s.Element] = a
	}
	if module != "" && parsed.Module(module) == nil {
		return "", fmt.Errorf("%w: %q", errUnknownModule, module)
	}
	switch f {
	case model.CaseFormatJSON:
		b, err := parsed.JSON(ann)
		return string(b), err
	case model.CaseFormatSVG:
		b, err := gsn.RenderSVG(ctx, parsed, gsn.RenderOptions{Module: module, Annotations: ann, Legend: true, Timeout: 20 * time.Second})
		return string(b), err
	}
	out, err := parsed.Export(ann)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(out))
	for n := range out {
		if module == "" || parsed.Module(module).File == n {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString("---\n")
		}
		fmt.Fprintf(&b, "# %s\n", n)
		b.Write(out[n])
	}
	return b.String(), nil
}

// reasonCodes reads the codes out of stored reasons (JSON of code, message, culprits).
func reasonCodes(reasons string) []string {
	var rs []struct {
		Code string `json:"code"`
	}
	if json.Unmarshal([]byte(reasons), &rs) != nil {
		return nil
	}
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Code)
	}
	return out
}
