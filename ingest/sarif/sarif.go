// Package sarif reads SARIF 2.1.0 logs (CodeQL, Semgrep, gosec, ESLint, Gitleaks, and the SARIF
// output of Trivy and Grype) into an ingest.Document.
//
// Every result becomes a Finding keyed by a stable fingerprint. A result whose rule id names a
// CVE or GHSA advisory (Trivy's "CVE-2019-1549", Grype's "CVE-2005-2541-tar") also yields that
// Vulnerability and an IDENTIFIES edge from the finding. SARIF says nothing about packages or
// images, so the document has no Components and no Subject: the pipeline ties the findings to
// what was scanned.
//
// The log is read with local types that mirror the parts of the SARIF 2.1.0 object model this
// package uses (the names follow github.com/owenrumney/go-sarif/v3), because that module's
// types cannot tell an absent ruleIndex from 0 and its package does not build in this module
// without github.com/xeipuuv/gojsonschema in go.sum.
package sarif

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/severity"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/ingest/internal/vulnid"
)

const format = ingest.FormatSARIF

// The SARIF version this package reads.
const sarifVersion = "2.1.0"

// sarifLog is a sarifLog object (§3.13).
type sarifLog struct {
	Version *string `json:"version"`
	Runs    []run   `json:"runs"`
}

type run struct {
	Tool      *tool      `json:"tool"`
	Artifacts []artifact `json:"artifacts"`
	Results   []result   `json:"results"`
}

type tool struct {
	Driver     *toolComponent  `json:"driver"`
	Extensions []toolComponent `json:"extensions"`
}

type toolComponent struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

// rule is a reportingDescriptor (§3.49).
type rule struct {
	ID                   string                         `json:"id"`
	Name                 string                         `json:"name"`
	ShortDescription     *multiformatMessage            `json:"shortDescription"`
	FullDescription      *multiformatMessage            `json:"fullDescription"`
	MessageStrings       map[string]*multiformatMessage `json:"messageStrings"`
	DefaultConfiguration *struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
	Properties map[string]any `json:"properties"`
}

type multiformatMessage struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type message struct {
	Text      string   `json:"text"`
	Markdown  string   `json:"markdown"`
	ID        string   `json:"id"`
	Arguments []string `json:"arguments"`
}

type result struct {
	RuleID              *string         `json:"ruleId"`
	RuleIndex           rawjson.FlexInt `json:"ruleIndex"`
	Rule                *ruleReference  `json:"rule"`
	Kind                string          `json:"kind"`
	Level               string          `json:"level"`
	Message             *message        `json:"message"`
	Locations           []location      `json:"locations"`
	AnalysisTarget      *artifactLoc    `json:"analysisTarget"`
	Fingerprints        map[string]any  `json:"fingerprints"`
	PartialFingerprints map[string]any  `json:"partialFingerprints"`
	Suppressions        []*suppression  `json:"suppressions"`
	BaselineState       string          `json:"baselineState"`
	Properties          map[string]any  `json:"properties"`
}

type ruleReference struct {
	ID            *string         `json:"id"`
	Index         rawjson.FlexInt `json:"index"`
	ToolComponent *struct {
		Index rawjson.FlexInt `json:"index"`
		Name  string          `json:"name"`
	} `json:"toolComponent"`
}

type location struct {
	PhysicalLocation *struct {
		ArtifactLocation *artifactLoc `json:"artifactLocation"`
		Region           *struct {
			StartLine   rawjson.FlexInt `json:"startLine"`
			StartColumn rawjson.FlexInt `json:"startColumn"`
		} `json:"region"`
	} `json:"physicalLocation"`
	LogicalLocations []struct {
		Name               string `json:"name"`
		FullyQualifiedName string `json:"fullyQualifiedName"`
	} `json:"logicalLocations"`
}

type artifactLoc struct {
	URI   string          `json:"uri"`
	Index rawjson.FlexInt `json:"index"`
}

type artifact struct {
	Location *artifactLoc `json:"location"`
}

type suppression struct {
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// Parse reads a SARIF log. Malformed JSON, and JSON that is not a SARIF log, fail with an
// *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	keys, err := rawjson.TopLevel(format, data)
	if err != nil {
		return nil, err
	}
	if _, ok := keys["runs"]; !ok {
		return nil, rawjson.NotThisFormat(format, data, "a SARIF log has a runs array, this document has none")
	}
	if err := rawjson.CheckKind(format, keys, "runs", "array"); err != nil { // runs is null when the tool failed to start
		return nil, err
	}
	var lg sarifLog
	if err := json.Unmarshal(data, &lg); err != nil {
		return nil, rawjson.DecodeError(format, data, err)
	}
	p := &parser{b: scanreport.NewBuilder(), doc: &ingest.Document{Format: format}}
	switch {
	case lg.Version == nil:
		p.b.Warn("no version", "version", "no SARIF version; read as %s", sarifVersion)
	case *lg.Version != sarifVersion:
		p.doc.Version = *lg.Version
		p.b.Warn("other version", "version", "SARIF version %q; read as %s", text.Cut(*lg.Version, 40), sarifVersion)
	default:
		p.doc.Version = *lg.Version
	}
	for i := range lg.Runs {
		p.run(i, &lg.Runs[i])
	}
	p.doc.Tool = toolName(lg.Runs)
	p.b.Finish(p.doc)
	return p.doc, nil
}

// maxToolName bounds the tool's name, in bytes.
const maxToolName = 200

// toolName is the document's tool: the first run's tool.driver.name, or failing that the first
// driver name of a later run. SARIF says nothing of the age of a tool's advisory data.
func toolName(runs []run) string {
	for _, r := range runs {
		if r.Tool == nil || r.Tool.Driver == nil {
			continue
		}
		if n := text.Clean(r.Tool.Driver.Name); n != "" {
			return text.Cut(n, maxToolName)
		}
	}
	return ""
}

type parser struct {
	b   *scanreport.Builder
	doc *ingest.Document
}

// runCtx is what the results of one run share.
type runCtx struct {
	path   string
	run    *run
	tool   string
	driver *toolComponent
	byID   map[*toolComponent]map[string]int
	// rulePath locates each rule, for warnings about rules: given once per rule.
	rulePath map[*rule]string
	warned   map[*rule]bool
}

func (p *parser) run(i int, r *run) {
	rc := &runCtx{path: fmt.Sprintf("runs[%d]", i), run: r, byID: map[*toolComponent]map[string]int{},
		rulePath: map[*rule]string{}, warned: map[*rule]bool{}}
	if r.Tool != nil {
		if d := r.Tool.Driver; d != nil {
			for k := range d.Rules {
				rc.rulePath[&d.Rules[k]] = fmt.Sprintf("%s.tool.driver.rules[%d]", rc.path, k)
			}
		}
		for e := range r.Tool.Extensions {
			for k := range r.Tool.Extensions[e].Rules {
				rc.rulePath[&r.Tool.Extensions[e].Rules[k]] = fmt.Sprintf("%s.tool.extensions[%d].rules[%d]", rc.path, e, k)
			}
		}
	}
	if r.Tool == nil || r.Tool.Driver == nil {
		p.b.Warn("no tool", rc.path+".tool.driver", "run without tool.driver; its findings have no tool name")
	} else {
		rc.driver = r.Tool.Driver
		rc.tool = strings.TrimSpace(r.Tool.Driver.Name)
		if rc.tool == "" {
			p.b.Warn("no tool", rc.path+".tool.driver.name", "run without a tool name; its findings have no tool name")
		}
	}
	for j := range r.Results {
		p.result(rc, j, &r.Results[j])
	}
}

func (p *parser) result(rc *runCtx, j int, res *result) {
	path := fmt.Sprintf("%s.results[%d]", rc.path, j)
	p.doc.Counts.Results++
	rl, ruleID := p.resolveRule(rc, path, res)

	level := strings.TrimSpace(res.Level)
	switch {
	case level != "":
	case res.Kind != "" && res.Kind != "fail":
		level = "none" // §3.27.10: a result that is not a failure has level none
	case rl != nil && rl.DefaultConfiguration != nil && rl.DefaultConfiguration.Level != "":
		level = rl.DefaultConfiguration.Level
	default:
		level = "warning" // the default of both result.level and defaultConfiguration.level
	}

	// The severity: security-severity (a CVSS-like score, as GitHub code scanning reads it) on
	// the result or its rule, else the level.
	sev, scored := "", false
	if res.Properties != nil {
		sev, scored = p.securitySeverity(path+".properties", res.Properties, true)
	}
	if !scored && rl != nil && rl.Properties != nil {
		sev, scored = p.securitySeverity(rc.rulePath[rl]+".properties", rl.Properties, !rc.warned[rl])
		rc.warned[rl] = true
	}
	if !scored {
		sev = p.levelSeverity(path+".level", level)
	}

	msg := messageText(res.Message, rl)
	if msg == "" {
		msg = ruleID
	}
	uri, loc := p.location(rc, path, res)

	status := batch.StatusOpen
	if p.suppressed(path, res.Suppressions) {
		status = batch.StatusSuppressed
	}
	if res.BaselineState == "absent" || res.Kind == "pass" || res.Kind == "notApplicable" {
		status = batch.StatusFixed // gone since the baseline, or a check that passed
	}

	fp := p.fingerprint(rc.tool, ruleID, uri, loc, msg, path, res)
	p.b.Node(path, graph.LabelFinding, fp, map[string]any{
		"tool": rc.tool, "ruleId": ruleID, "severity": sev, "message": msg, "location": loc, "status": status,
	})

	id, ok := vulnid.Prefix(ruleID)
	if !ok {
		return
	}
	props := map[string]any{}
	if rl != nil {
		if d := rl.FullDescription; d != nil && strings.TrimSpace(d.Text) != "" {
			props["summary"] = strings.TrimSpace(d.Text)
		} else if d := rl.ShortDescription; d != nil {
			props["summary"] = strings.TrimSpace(d.Text)
		}
		if score, ok := propNumber(rl.Properties, "cvssv3_baseScore"); ok && score >= 0 && score <= 10 {
			props["cvssScore"] = score
			if v, ok := rl.Properties["cvssv3_vector"].(string); ok {
				props["cvssVector"] = v
			}
		}
	}
	if scored {
		props["severity"] = sev
	}
	if p.b.Node(path, graph.LabelVulnerability, id, props) {
		p.b.Edge(path, "IDENTIFIES", graph.NodeRef{Label: graph.LabelFinding, Key: fp},
			graph.NodeRef{Label: graph.LabelVulnerability, Key: id}, nil)
	}
}

// resolveRule finds the rule a result refers to (§3.52.3): in the tool component
// rule.toolComponent names, at ruleIndex (or rule.index), else by ruleId; a hierarchical ruleId
// "a/b" may refer to rule "a".
func (p *parser) resolveRule(rc *runCtx, path string, res *result) (*rule, string) {
	comp := rc.driver
	if res.Rule != nil && res.Rule.ToolComponent != nil && rc.run.Tool != nil {
		tc, ext := res.Rule.ToolComponent, rc.run.Tool.Extensions
		switch {
		case tc.Index.Set && tc.Index.V >= 0 && tc.Index.V < len(ext):
			comp = &ext[tc.Index.V]
		case tc.Index.Set && tc.Index.V >= 0:
			p.b.Warn("bad reference", path+".rule.toolComponent.index", "toolComponent index %d is out of range; looked in the driver", tc.Index.V)
		case tc.Name != "":
			for k := range ext {
				if ext[k].Name == tc.Name {
					comp = &ext[k]
					break
				}
			}
		}
	}
	ruleID := ""
	switch {
	case res.RuleID != nil:
		ruleID = strings.TrimSpace(*res.RuleID)
	case res.Rule != nil && res.Rule.ID != nil:
		ruleID = strings.TrimSpace(*res.Rule.ID)
	}
	idx := -1
	switch {
	case res.RuleIndex.Set:
		idx = res.RuleIndex.V
	case res.Rule != nil && res.Rule.Index.Set:
		idx = res.Rule.Index.V
	}
	if comp == nil {
		return nil, ruleID
	}
	var rl *rule
	if idx >= 0 {
		if idx < len(comp.Rules) {
			rl = &comp.Rules[idx]
			if ruleID != "" && rl.ID != "" && !sameRule(ruleID, rl.ID) {
				p.b.Warn("bad reference", path+".ruleIndex", "ruleIndex %d is rule %q, not %q; looked the rule up by id", idx, text.Cut(rl.ID, 80), text.Cut(ruleID, 80))
				rl = nil
			}
		} else {
			p.b.Warn("bad reference", path+".ruleIndex", "ruleIndex %d is out of range (%d rules); looked the rule up by id", idx, len(comp.Rules))
		}
	}
	if rl == nil && ruleID != "" {
		byID := rc.byID[comp]
		if byID == nil {
			byID = make(map[string]int, len(comp.Rules))
			for k := len(comp.Rules) - 1; k >= 0; k-- {
				byID[comp.Rules[k].ID] = k
			}
			rc.byID[comp] = byID
		}
		if k, ok := byID[ruleID]; ok {
			rl = &comp.Rules[k]
		} else if i := strings.Index(ruleID, "/"); i > 0 {
			if k, ok := byID[ruleID[:i]]; ok {
				rl = &comp.Rules[k]
			}
		}
	}
	if ruleID == "" && rl != nil {
		ruleID = strings.TrimSpace(rl.ID)
	}
	return rl, ruleID
}

func sameRule(ruleID, id string) bool {
	return ruleID == id || strings.HasPrefix(ruleID, id+"/")
}

// securitySeverity reads the security-severity property; ok is false when there is none that
// can be read. A severity word instead of a score (Semgrep writes "MEDIUM") is read as that
// severity. warn says whether to warn about a deviation.
func (p *parser) securitySeverity(path string, props map[string]any, warn bool) (string, bool) {
	v, has := props["security-severity"]
	if !has || v == nil {
		return "", false
	}
	if score, ok := toNumber(v); ok {
		if sev, ok := severity.FromCVSS(score); ok {
			return sev, true
		}
	}
	if s, isString := v.(string); isString {
		if sev, ok := severity.Normalize(s); ok && sev != "" && sev != severity.Unknown {
			if warn {
				p.b.Warn("severity word", path+".security-severity", "security-severity %q is a severity, not a score from 0 to 10; read as %s", text.Cut(s, 40), sev)
			}
			return sev, true
		}
	}
	if warn {
		p.b.Warn("bad security-severity", path+".security-severity", "security-severity %s is not a score from 0 to 10; ignored", text.Cut(fmt.Sprint(v), 40))
	}
	return "", false
}

// levelSeverity maps a SARIF level onto a severity.
func (p *parser) levelSeverity(path, level string) string {
	switch level {
	case "error":
		return severity.High
	case "warning":
		return severity.Medium
	case "note":
		return severity.Low
	case "none":
		return severity.None
	}
	p.b.Warn("bad level", path, "level %q is not error, warning, note or none; read as warning", text.Cut(level, 40))
	return severity.Medium
}

// messageText is the result's message, its placeholders filled in, else its rule's description.
func messageText(m *message, rl *rule) string {
	text := ""
	if m != nil {
		text = m.Text
		if text == "" && m.ID != "" && rl != nil {
			if s := rl.MessageStrings[m.ID]; s != nil {
				text = s.Text
				if text == "" {
					text = s.Markdown
				}
			}
		}
		if text == "" {
			text = m.Markdown
		}
		if len(m.Arguments) > 0 {
			text = fillPlaceholders(text, m.Arguments)
		}
	}
	if strings.TrimSpace(text) == "" && rl != nil {
		for _, d := range []*multiformatMessage{rl.ShortDescription, rl.FullDescription} {
			if d != nil && strings.TrimSpace(d.Text) != "" {
				text = d.Text
				break
			}
		}
	}
	return strings.TrimSpace(text)
}

// fillPlaceholders replaces {0}, {1}… with the arguments, and {{ and }} with braces (§3.11.5).
func fillPlaceholders(s string, args []string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{', c == '}' && i+1 < len(s) && s[i+1] == '}':
			out.WriteByte(c)
			i++
		case c == '{':
			end := strings.IndexByte(s[i:], '}')
			if end > 1 {
				if n, err := strconv.Atoi(s[i+1 : i+end]); err == nil && n >= 0 && n < len(args) {
					out.WriteString(args[n])
					i += end
					continue
				}
			}
			out.WriteByte(c)
		default:
			out.WriteByte(c)
		}
	}
	return out.String()
}

// location renders the result's first location as "uri:line:column", dropping what is unknown.
// Without a physical location it is the logical location's name, else the analysis target.
func (p *parser) location(rc *runCtx, path string, res *result) (uri, loc string) {
	for _, l := range res.Locations {
		if pl := l.PhysicalLocation; pl != nil {
			if uri = p.uri(rc, path, pl.ArtifactLocation); uri != "" {
				loc = uri
				if r := pl.Region; r != nil && r.StartLine.Set && r.StartLine.V > 0 {
					loc += ":" + strconv.Itoa(r.StartLine.V)
					if r.StartColumn.Set && r.StartColumn.V > 0 {
						loc += ":" + strconv.Itoa(r.StartColumn.V)
					}
				}
				return uri, loc
			}
		}
		for _, ll := range l.LogicalLocations {
			if n := text.First(ll.FullyQualifiedName, ll.Name); n != "" {
				return "", n
			}
		}
	}
	if res.AnalysisTarget != nil {
		uri = p.uri(rc, path, res.AnalysisTarget)
	}
	return uri, uri
}

// uri is an artifact location's URI, looked up in run.artifacts when only its index is given.
func (p *parser) uri(rc *runCtx, path string, al *artifactLoc) string {
	if al == nil {
		return ""
	}
	if al.URI != "" || !al.Index.Set || al.Index.V < 0 {
		return al.URI
	}
	if al.Index.V < len(rc.run.Artifacts) {
		if a := rc.run.Artifacts[al.Index.V]; a.Location != nil {
			return a.Location.URI
		}
		return ""
	}
	p.b.Warn("bad reference", path, "artifact index %d is out of range (%d artifacts)", al.Index.V, len(rc.run.Artifacts))
	return ""
}

// suppressed reports whether the result's suppressions suppress it: at least one, every one
// accepted (status accepted, or absent), none under review or rejected.
func (p *parser) suppressed(path string, sups []*suppression) bool {
	n := 0
	for i, s := range sups {
		if s == nil {
			continue
		}
		n++
		switch s.Status {
		case "", "accepted":
		case "underReview", "rejected":
			return false
		default:
			p.b.Warn("bad suppression", fmt.Sprintf("%s.suppressions[%d].status", path, i),
				"suppression status %q is not accepted, underReview or rejected; not counted as accepted", text.Cut(s.Status, 40))
			return false
		}
	}
	return n > 0
}

// fingerprint keys a finding. Fingerprints that the tool computed win: full fingerprints
// identify a result by themselves; partial ones do with the rule and the file. Otherwise the
// tool, rule, location and message do. Every variant is namespaced by the tool.
func (p *parser) fingerprint(tool, ruleID, uri, loc, msg, path string, res *result) string {
	if len(res.Fingerprints) > 0 {
		return batch.Fingerprint(append([]string{"sarif", tool, "fingerprints"}, p.pairs(path+".fingerprints", res.Fingerprints)...)...)
	}
	if len(res.PartialFingerprints) > 0 {
		return batch.Fingerprint(append([]string{"sarif", tool, "partialFingerprints", ruleID, uri}, p.pairs(path+".partialFingerprints", res.PartialFingerprints)...)...)
	}
	return batch.Fingerprint("sarif", tool, ruleID, loc, msg)
}

// pairs renders a fingerprint map as sorted "key=value" strings.
func (p *parser) pairs(path string, m map[string]any) []string {
	out := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v, ok := m[k].(string)
		if !ok {
			b, _ := json.Marshal(m[k])
			v = string(b)
			p.b.Warn("bad fingerprint", path+"."+k, "fingerprint value is a JSON %s, want a string; used its JSON text", rawjson.Kind(b))
		}
		out = append(out, k+"="+v)
	}
	return out
}

// propNumber reads a property that holds a number, or a string that does.
func propNumber(props map[string]any, key string) (float64, bool) {
	if props == nil {
		return 0, false
	}
	return toNumber(props[key])
}

func toNumber(v any) (float64, bool) {
	var n rawjson.FlexNum
	switch x := v.(type) {
	case float64:
		return x, true
	case string:
		b, _ := json.Marshal(x)
		_ = n.UnmarshalJSON(b)
		return n.V, n.Set
	}
	return 0, false
}
