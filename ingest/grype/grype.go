// Package grype reads Grype JSON reports (`grype -o json`) into an ingest.Document.
//
// Each match is a Vulnerability that AFFECTS the matched artifact, a Component keyed by purl;
// related vulnerabilities (the CVE behind a distro advisory, NVD's record of a distro's CVE) give
// aliases, and fill in the description, CVSS, EPSS and KEV when the match itself lacks them. An
// image scanned is the document's Subject. Both the current layout (cvss[], fix.versions, epss,
// knownExploited) and the early layout (grype 0.7: cvssV2, cvssV3, fixedInVersion) are read.
// The report is read with local types: grype's module is far too heavy to import for them.
package grype

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/imageref"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/severity"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/ingest/internal/vulnid"
)

const format = ingest.FormatGrype

type report struct {
	Matches    []match `json:"matches"`
	Source     *source `json:"source"`
	Descriptor *struct {
		Version string `json:"version"`
		// Kept raw: what is read of them (the tool's name, its database's build time) is
		// optional, and a surprise in them must not cost the report.
		Name json.RawMessage `json:"name"`
		DB   json.RawMessage `json:"db"`
	} `json:"descriptor"`
}

// dbDescriptor is descriptor.db: built at its top (grype before 0.88, database schema v5) or
// under status (database schema v6).
type dbDescriptor struct {
	Built  json.RawMessage `json:"built"`
	Status *struct {
		Built json.RawMessage `json:"built"`
	} `json:"status"`
}

type source struct {
	Type   string          `json:"type"`
	Target json.RawMessage `json:"target"`
}

type imageTarget struct {
	UserInput      string   `json:"userInput"`
	ImageID        string   `json:"imageID"`
	ManifestDigest string   `json:"manifestDigest"`
	Tags           []string `json:"tags"`
	RepoDigests    []string `json:"repoDigests"`
}

type match struct {
	Vulnerability          vulnerability   `json:"vulnerability"`
	RelatedVulnerabilities []vulnerability `json:"relatedVulnerabilities"`
	Artifact               artifact        `json:"artifact"`
}

type vulnerability struct {
	ID          string `json:"id"`
	Severity    string `json:"severity"`
	Description string `json:"description"`
	CVSS        []cvss `json:"cvss"`
	Fix         *struct {
		Versions []string `json:"versions"`
		State    string   `json:"state"`
	} `json:"fix"`
	EPSS []struct {
		CVE  string          `json:"cve"`
		EPSS rawjson.FlexNum `json:"epss"`
	} `json:"epss"`
	KnownExploited []struct {
		CVE string `json:"cve"`
	} `json:"knownExploited"`
	// The early layout (grype 0.7).
	CVSSV2         *legacyCVSS `json:"cvssV2"`
	CVSSV3         *legacyCVSS `json:"cvssV3"`
	FixedInVersion string      `json:"fixedInVersion"`
}

type cvss struct {
	Version rawjson.FlexNum `json:"version"`
	Vector  string          `json:"vector"`
	Metrics struct {
		BaseScore rawjson.FlexNum `json:"baseScore"`
	} `json:"metrics"`
}

type legacyCVSS struct {
	BaseScore rawjson.FlexNum `json:"baseScore"`
	Vector    string          `json:"vector"`
}

type artifact struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Version  string          `json:"version"`
	Type     string          `json:"type"`
	PURL     string          `json:"purl"`
	Licenses json.RawMessage `json:"licenses"`
}

// Parse reads a Grype JSON report. Malformed JSON, and JSON that is not a Grype report, fail
// with an *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	keys, err := rawjson.TopLevel(format, data)
	if err != nil {
		return nil, err
	}
	if _, ok := keys["matches"]; !ok {
		return nil, rawjson.NotThisFormat(format, data, "a Grype report has a matches array, this document has none")
	}
	if err := rawjson.CheckKind(format, keys, "matches", "array"); err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, rawjson.DecodeError(format, data, err)
	}
	p := &parser{b: scanreport.NewBuilder(), doc: &ingest.Document{Format: format}}
	p.doc.Tool = "grype" // only grype writes this layout
	if r.Descriptor != nil {
		p.doc.Version = strings.TrimSpace(r.Descriptor.Version) // grype's version: the layout follows it
		if name, _ := rawjson.String(r.Descriptor.Name); text.Clean(name) != "" {
			p.doc.Tool = text.Cut(text.Clean(name), maxToolName)
		}
		p.knowledge(r.Descriptor.DB)
	}
	p.subject(r.Source)
	seen := map[[5]string]bool{}
	for i := range r.Matches {
		a := &r.Matches[i].Artifact
		k := [5]string{a.ID, a.Name, a.Version, a.Type, a.PURL}
		if !seen[k] {
			seen[k] = true
			p.doc.Counts.Components++
		}
		p.match(i, &r.Matches[i])
	}
	if p.legacy > 0 {
		p.b.Warn("legacy layout", "matches", "%d matches in the early grype layout (cvssV2, cvssV3, fixedInVersion, as grype 0.7 wrote); read as cvss and fix.versions", p.legacy)
	}
	p.b.Finish(p.doc)
	return p.doc, nil
}

// maxToolName bounds the tool's name, in bytes.
const maxToolName = 200

// knowledge reads when grype's vulnerability database was built (descriptor.db.built, or
// descriptor.db.status.built): how current its advisories were.
func (p *parser) knowledge(raw json.RawMessage) {
	if rawjson.Kind(raw) != "object" {
		return
	}
	var db dbDescriptor
	if json.Unmarshal(raw, &db) != nil {
		p.b.Warn("bad db", "descriptor.db", "the vulnerability database description cannot be read; its build time is unknown")
		return
	}
	path, built := "descriptor.db.built", db.Built
	if rawjson.Kind(built) == "nothing" || rawjson.IsNull(built) {
		if db.Status == nil {
			return
		}
		path, built = "descriptor.db.status.built", db.Status.Built
		if rawjson.Kind(built) == "nothing" || rawjson.IsNull(built) {
			return
		}
	}
	s, _ := rawjson.String(built)
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		p.b.Warn("bad db", path, "%s is not an RFC 3339 time; the database's build time is unknown", text.Cut(text.Clean(string(built)), 60))
		return
	}
	p.doc.KnowledgeAsOf = t.UTC()
}

type parser struct {
	b      *scanreport.Builder
	doc    *ingest.Document
	legacy int // matches in the old layout
}

// subject names the image scanned. Its digest is the registry's (repoDigests), as trivy reports
// it, else the manifest digest grype computed, else the image id.
func (p *parser) subject(src *source) {
	if src == nil || src.Type != "image" {
		return
	}
	var t imageTarget
	if rawjson.Kind(src.Target) != "object" || json.Unmarshal(src.Target, &t) != nil {
		p.b.Warn("bad source", "source.target", "image source whose target is not an image description; no subject")
		return
	}
	s := &ingest.Subject{Name: imageref.Name(t.UserInput), Type: "IMAGE"}
	for i, rd := range t.RepoDigests {
		d, ok := imageref.Digest(rd)
		if !ok {
			p.b.Warn("bad digest", fmt.Sprintf("source.target.repoDigests[%d]", i), "%q is not repository@sha256:<hex>; ignored", text.Cut(rd, 200))
			continue
		}
		if s.Digest == "" {
			s.Digest = d
		}
	}
	for _, c := range []struct{ path, v string }{{"manifestDigest", t.ManifestDigest}, {"imageID", t.ImageID}} {
		if s.Digest != "" || strings.TrimSpace(c.v) == "" {
			continue
		}
		if d, ok := imageref.Digest(c.v); ok {
			s.Digest = d
		} else {
			p.b.Warn("bad digest", "source.target."+c.path, "%q is not sha256:<hex>; ignored", text.Cut(c.v, 200))
		}
	}
	s.Version = imageref.Tag(s.Name)
	for _, tag := range t.Tags {
		if s.Name == "" {
			s.Name = imageref.Name(tag)
		}
		if s.Version == "" {
			s.Version = imageref.Tag(tag)
		}
	}
	if s.Name == "" && s.Digest == "" {
		return
	}
	p.doc.Subject = s
}

func (p *parser) match(i int, m *match) {
	path := fmt.Sprintf("matches[%d]", i)
	p.doc.Counts.Vulnerabilities++
	v := &m.Vulnerability
	if v.CVSSV2 != nil || v.CVSSV3 != nil || v.FixedInVersion != "" {
		p.legacy++
	}
	id := vulnid.Normalize(v.ID)
	if id == "" {
		p.b.Warn("no vulnerability id", path+".vulnerability.id", "match without a vulnerability id; skipped")
		return
	}

	// The component.
	a := &m.Artifact
	purl, ok := p.b.PurlFor(path+".artifact.purl", a.PURL, a.Name, a.Version)
	if ok {
		ok = p.b.Component(path+".artifact", purl, map[string]any{
			"name": strings.TrimSpace(a.Name), "version": strings.TrimSpace(a.Version),
			"licenses": p.licenses(path+".artifact.licenses", a.Licenses),
		})
	}

	// The vulnerability, completed from its related records.
	sev, known := severity.Normalize(v.Severity)
	if !known {
		p.b.Warn("bad severity", path+".vulnerability.severity", "severity %q is not a known one; read as UNKNOWN", text.Cut(v.Severity, 40))
	}
	props := map[string]any{"severity": sev}
	var aliases []string
	related := m.RelatedVulnerabilities
	for _, rv := range related {
		if rid := vulnid.Normalize(rv.ID); rid != "" && rid != id {
			aliases = append(aliases, rid)
		}
	}
	props["aliases"] = aliases
	order := sameFirst(id, related)
	props["summary"] = strings.TrimSpace(v.Description)
	if props["summary"] == "" {
		for _, ri := range order {
			if d := strings.TrimSpace(related[ri].Description); d != "" {
				props["summary"] = d
				break
			}
		}
	}
	score, vector, found := p.bestCVSS(path+".vulnerability", v)
	for _, ri := range order {
		if found {
			break
		}
		score, vector, found = p.bestCVSS(fmt.Sprintf("%s.relatedVulnerabilities[%d]", path, ri), &related[ri])
	}
	if found {
		props["cvssScore"], props["cvssVector"] = score, vector
	}
	if e, ok := p.epss(path, v, related); ok {
		props["epss"] = e
	}
	kev := len(v.KnownExploited) > 0
	for _, rv := range related {
		kev = kev || len(rv.KnownExploited) > 0
	}
	if kev { // never false: no entry says nothing about KEV
		props["kev"] = true
	}
	if !p.b.Node(path+".vulnerability", graph.LabelVulnerability, id, props) || !ok {
		return
	}

	var fixed []string
	if v.Fix != nil {
		fixed = batch.Compact(v.Fix.Versions)
	}
	if len(fixed) == 0 && strings.TrimSpace(v.FixedInVersion) != "" {
		fixed = []string{strings.TrimSpace(v.FixedInVersion)}
	}
	p.b.Edge(path, "AFFECTS", graph.NodeRef{Label: graph.LabelVulnerability, Key: id},
		graph.NodeRef{Label: graph.LabelComponent, Key: purl}, map[string]any{
			"versionRange": scanreport.VersionRange(a.Version, fixed),
			"fixedVersion": strings.Join(fixed, ", "),
			"status":       "affected",
		})
}

// sameFirst orders the indices of related records: those with the match's own id first (NVD's
// record of a distro's CVE), then the others.
func sameFirst(id string, related []vulnerability) []int {
	out := make([]int, 0, len(related))
	for _, same := range []bool{true, false} {
		for i := range related {
			if (vulnid.Normalize(related[i].ID) == id) == same {
				out = append(out, i)
			}
		}
	}
	return out
}

// bestCVSS picks the highest CVSS v3 (or later) base score, with its vector; without one, the
// highest v2.
func (p *parser) bestCVSS(path string, v *vulnerability) (float64, string, bool) {
	type entry struct {
		score  rawjson.FlexNum
		vector string
		v3     bool
		path   string
	}
	var all []entry
	for i, c := range v.CVSS {
		v3 := !c.Version.Set || c.Version.V >= 3 || strings.HasPrefix(c.Vector, "CVSS:")
		all = append(all, entry{c.Metrics.BaseScore, c.Vector, v3, fmt.Sprintf("%s.cvss[%d].metrics.baseScore", path, i)})
	}
	if v.CVSSV3 != nil {
		all = append(all, entry{v.CVSSV3.BaseScore, v.CVSSV3.Vector, true, path + ".cvssV3.baseScore"})
	}
	if v.CVSSV2 != nil {
		all = append(all, entry{v.CVSSV2.BaseScore, v.CVSSV2.Vector, false, path + ".cvssV2.baseScore"})
	}
	for _, want3 := range []bool{true, false} {
		best, vector, found := 0.0, "", false
		for _, e := range all {
			if e.v3 != want3 {
				continue
			}
			if e.score.Bad || e.score.Set && (e.score.V < 0 || e.score.V > 10) {
				p.b.Warn("bad score", e.path, "CVSS score %s is not a number from 0 to 10; ignored", text.First(e.score.Raw, fmt.Sprint(e.score.V)))
				continue
			}
			if e.score.Set && (!found || e.score.V > best) {
				best, vector, found = e.score.V, strings.TrimSpace(e.vector), true
			}
		}
		if found {
			return best, vector, true
		}
	}
	return 0, "", false
}

// epss is the highest EPSS probability the match and its related records give.
func (p *parser) epss(path string, v *vulnerability, related []vulnerability) (float64, bool) {
	best, found := 0.0, false
	for ri, rv := range append([]vulnerability{*v}, related...) {
		for ei, e := range rv.EPSS {
			n := e.EPSS
			if n.Bad || n.Set && (n.V < 0 || n.V > 1) {
				at := fmt.Sprintf("%s.vulnerability.epss[%d].epss", path, ei)
				if ri > 0 {
					at = fmt.Sprintf("%s.relatedVulnerabilities[%d].epss[%d].epss", path, ri-1, ei)
				}
				p.b.Warn("bad epss", at, "EPSS %s is not a probability from 0 to 1; ignored", text.First(n.Raw, fmt.Sprint(n.V)))
				continue
			}
			if n.Set && (!found || n.V > best) {
				best, found = n.V, true
			}
		}
	}
	return best, found
}

// licenses reads artifact.licenses: strings, or objects with a value or spdxExpression (the
// layout of syft's license objects).
func (p *parser) licenses(path string, raw json.RawMessage) []string {
	if len(raw) == 0 || rawjson.Kind(raw) == "null" {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		p.b.Warn("bad licenses", path, "licenses is a JSON %s, want an array; ignored", rawjson.Kind(raw))
		return nil
	}
	var out []string
	for i, it := range items {
		var s string
		if json.Unmarshal(it, &s) == nil {
			out = append(out, s)
			continue
		}
		var o struct {
			Value          string `json:"value"`
			SPDXExpression string `json:"spdxExpression"`
		}
		if json.Unmarshal(it, &o) == nil && text.First(o.SPDXExpression, o.Value) != "" {
			out = append(out, text.First(o.SPDXExpression, o.Value))
			continue
		}
		p.b.Warn("bad licenses", fmt.Sprintf("%s[%d]", path, i), "license is a JSON %s, want a string; ignored", rawjson.Kind(it))
	}
	return out
}
