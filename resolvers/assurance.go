package resolvers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/analytics/assurance"
	"github.com/sectwin/sectwin/analytics/assurance/evidence"
	"github.com/sectwin/sectwin/analytics/assurancecase"
	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest/gsn"
	"github.com/sectwin/sectwin/internal/auth"
	"github.com/sectwin/sectwin/internal/events"
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
func exportCase(ctx context.Context, db *graph.DB, live *assurancecase.Live, version string, c graph.AssuranceCase, f model.CaseFormat, module string) (string, error) {
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
	case model.CaseFormatOscal:
		var leaves map[string]evidence.Result
		if live != nil {
			leaves = live.Evidence(c.Twin, c.ID)
		}
		b, err := assurancecase.OSCAL(c, statuses, leaves, time.Now(), version)
		return string(b), err
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

// StatusBus delivers assurance status changes.
type StatusBus interface {
	SubscribeStatus(ctx context.Context, twin string) (<-chan events.StatusChanged, error)
}

// triaged applies a triage input to the stored defeater of a case.
func triaged(c graph.AssuranceCase, id string, in model.DefeaterTriageInput) (graph.CaseDefeater, error) {
	var d *graph.CaseDefeater
	for _, e := range c.Elements {
		if e.ID == id {
			if e.Defeater == nil {
				return graph.CaseDefeater{}, fmt.Errorf("element %s of case %s is a %s, not a defeater", id, c.ID, e.Type)
			}
			d = e.Defeater
		}
	}
	if d == nil {
		return graph.CaseDefeater{}, fmt.Errorf("case %s has no defeater %s", c.ID, id)
	}
	out := *d
	out.State = strings.ToUpper(in.State)
	if in.Severity != nil {
		out.Severity = strings.ToLower(*in.Severity)
	}
	if in.Kev != nil {
		out.KEV = *in.Kev
	}
	if in.Probability != nil {
		out.Probability = *in.Probability
	}
	out.Approver, out.Rationale, out.Expires = "", "", time.Time{}
	if out.State == "ACCEPTED_RESIDUAL" {
		out.Approver, out.Rationale = deref(in.Approver), deref(in.Rationale)
		if in.Expires != nil {
			out.Expires = *in.Expires
		}
		if !out.Expires.After(time.Now()) {
			return graph.CaseDefeater{}, fmt.Errorf("defeater %s: an accepted residual risk needs an approver, a rationale and an expiry in the future", id)
		}
	} else if in.Approver != nil || in.Rationale != nil || in.Expires != nil {
		return graph.CaseDefeater{}, fmt.Errorf("defeater %s: approver, rationale and expires belong to ACCEPTED_RESIDUAL only", id)
	}
	return out, nil
}

// caseElement reads one element of a case with its status.
func (r *Resolver) caseElement(ctx context.Context, twin, caseID, id string) (*model.GsnElement, error) {
	c, err := r.Graph.AssuranceCaseByID(ctx, twin, caseID)
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	statuses, err := r.Graph.CaseStatuses(ctx, twin, caseID)
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	byID := make(map[string]graph.CaseStatus, len(statuses))
	for _, s := range statuses {
		byID[s.Element] = s
	}
	for _, e := range c.Elements {
		if e.ID == id {
			return gsnElementModel(twin, caseID, e, byID), nil
		}
	}
	return nil, gqlErr(ctx, CodeNotFound, fmt.Sprintf("case %s has no element %s", caseID, id))
}

func attestationModel(a evidence.Attestation) *model.Attestation {
	m := &model.Attestation{ID: a.ID, Subject: a.Subject, By: a.By, Statement: a.Statement, Verdict: string(a.Verdict), At: a.At, Expires: a.Expires}
	if m.Verdict == "" {
		m.Verdict = string(evidence.Pass)
	}
	if a.SubjectDigest != "" {
		m.SubjectDigest = &a.SubjectDigest
	}
	if a.Topic != "" {
		m.Topic = &a.Topic
	}
	return m
}

// monitoringPriority rates how closely operations should watch a node (dev to ops).
func (r *Resolver) monitoringPriority(ctx context.Context, twin string, n graph.NodeRef, criticality string, crownJewel bool) (*model.MonitoringPriority, error) {
	claims, err := r.claimsAbout(ctx, twin, n)
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	var weakest assurance.Status
	for _, c := range claims {
		var s assurance.Status
		if s.UnmarshalText([]byte(c.Status.Status)) == nil && s > weakest {
			weakest = s
		}
	}
	score, level := assurancecase.Priority(criticality, crownJewel, weakest)
	out := &model.MonitoringPriority{Score: score, Level: level, WeakestClaims: []*model.GsnElement{}}
	if criticality != "" {
		out.Criticality = &criticality
	}
	if weakest != 0 {
		w := weakest.String()
		out.WeakestStatus = &w
		for _, c := range claims {
			if c.Status.Status == w {
				out.WeakestClaims = append(out.WeakestClaims, gsnElementModel(twin, c.Case, c.Element, map[string]graph.CaseStatus{c.Element.ID: c.Status}))
			}
		}
	}
	return out, nil
}

// editAttempts bounds how often an edit is applied again to a version another edit stored
// meanwhile.
const editAttempts = 5

// storeCase validates a case's files, maps them, passes its evidence specs through acceptance
// and stores the case as its next version, then evaluates it: what import and edit share. An
// edit names the version it started from (replaces; 0 for an import): if another was stored
// since, the error is graph.ErrCaseChanged, unwrapped into a GraphQL error, for the edit to
// start again.
func (r *Resolver) storeCase(ctx context.Context, twin, id, name string, files []*model.CaseFileInput, by string, replaces int) (*graph.AssuranceCase, error) {
	c, err := importCase(twin, id, name, files, by, time.Now())
	if err != nil {
		return nil, caseErr(ctx, twin, err)
	}
	if err := assurancecase.AcceptEvidence(ctx, assurancecase.TwinEvidence{DB: r.Graph}, c); err != nil {
		return nil, caseErr(ctx, twin, err)
	}
	c.Replaces = replaces
	if _, err := r.Graph.SaveAssuranceCase(ctx, c); errors.Is(err, graph.ErrCaseChanged) {
		return nil, err
	} else if err != nil {
		return nil, caseErr(ctx, twin, err)
	}
	stored, err := r.Graph.AssuranceCaseByID(ctx, twin, id)
	if err != nil {
		return nil, backendErr(ctx, err)
	}
	r.announce(ctx, events.Change{Twin: twin, Op: events.OpAssuranceCase, Source: "graphql", At: time.Now().UTC(), Nodes: []graph.NodeRef{{Label: graph.LabelAssuranceCase, Key: id}}})
	if r.Assurance != nil {
		// The case is evaluated before the answer, so its elements carry their status.
		if _, err := r.Assurance.Load(ctx, twin, id); err != nil {
			return nil, backendErr(ctx, fmt.Errorf("case %s stored, but not evaluated: %w", id, err))
		}
	}
	return &stored, nil
}

// editedFiles applies element edits to a stored case's source files.
func editedFiles(c graph.AssuranceCase, edits []*model.GsnElementEdit) ([]*model.CaseFileInput, error) {
	var src map[string][]byte
	if err := json.Unmarshal([]byte(c.Source), &src); err != nil {
		return nil, fmt.Errorf("case %s: stored source: %w", c.ID, err)
	}
	list := make([]assurancecase.Edit, len(edits))
	for i, e := range edits {
		list[i] = assurancecase.Edit{ID: e.ID, Module: deref(e.Module), Remove: e.Remove != nil && *e.Remove, Text: e.Text,
			Undeveloped: e.Undeveloped, Evidence: e.Evidence}
		if e.SupportedBy != nil {
			list[i].SupportedBy = &e.SupportedBy
		}
		if e.InContextOf != nil {
			list[i].InContextOf = &e.InContextOf
		}
		if e.About != nil {
			list[i].About = &e.About
		}
	}
	out, err := assurancecase.ApplyEdits(src, list)
	if err != nil {
		return nil, err
	}
	files := make([]*model.CaseFileInput, 0, len(out))
	for _, n := range slices.Sorted(maps.Keys(out)) {
		files = append(files, &model.CaseFileInput{Name: n, Content: string(out[n])})
	}
	return files, nil
}
