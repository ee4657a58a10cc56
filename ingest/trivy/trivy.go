// Package trivy reads Trivy JSON reports (SchemaVersion 2, `trivy image|fs|repo --format json`)
// into an ingest.Document.
//
// Packages become Components keyed by purl, DependsOn becomes DEPENDS_ON, each vulnerability
// entry a Vulnerability that AFFECTS the package it was found in, and misconfigurations and
// secrets become Findings. A container image scanned is the document's Subject. The report is
// read with local types for the fields used: the trivy module is far too heavy to import for
// its report types.
package trivy

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
	"github.com/sectwin/sectwin/ingest/internal/imageref"
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/severity"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/ingest/internal/vulnid"
)

const format = ingest.FormatTrivy

// The report schema this package reads.
const schemaVersion = 2

type report struct {
	SchemaVersion rawjson.FlexInt `json:"SchemaVersion"`
	ArtifactName  string          `json:"ArtifactName"`
	ArtifactType  string          `json:"ArtifactType"`
	Metadata      *metadata       `json:"Metadata"`
	Results       []result        `json:"Results"`
}

type metadata struct {
	ImageID     string          `json:"ImageID"`
	RepoDigests []string        `json:"RepoDigests"`
	RepoTags    []string        `json:"RepoTags"`
	ImageConfig json.RawMessage `json:"ImageConfig"`
}

type result struct {
	Target            string          `json:"Target"`
	Class             string          `json:"Class"`
	Type              string          `json:"Type"`
	Packages          []pkg           `json:"Packages"`
	Vulnerabilities   []vulnerability `json:"Vulnerabilities"`
	Misconfigurations []misconfig     `json:"Misconfigurations"`
	Secrets           []secret        `json:"Secrets"`
}

type pkg struct {
	ID         string          `json:"ID"`
	Name       string          `json:"Name"`
	Version    string          `json:"Version"`
	Release    string          `json:"Release"`
	Epoch      rawjson.FlexInt `json:"Epoch"`
	Identifier *identifier     `json:"Identifier"`
	DependsOn  []string        `json:"DependsOn"`
	Licenses   []string        `json:"Licenses"`
	Dev        bool            `json:"Dev"`
	Digest     string          `json:"Digest"`
}

type identifier struct {
	PURL string `json:"PURL"`
}

type vulnerability struct {
	VulnerabilityID  string          `json:"VulnerabilityID"`
	VendorIDs        []string        `json:"VendorIDs"`
	PkgID            string          `json:"PkgID"`
	PkgName          string          `json:"PkgName"`
	PkgIdentifier    *identifier     `json:"PkgIdentifier"`
	InstalledVersion string          `json:"InstalledVersion"`
	FixedVersion     string          `json:"FixedVersion"`
	Status           string          `json:"Status"`
	Title            string          `json:"Title"`
	Description      string          `json:"Description"`
	Severity         string          `json:"Severity"`
	CweIDs           []string        `json:"CweIDs"`
	CVSS             map[string]cvss `json:"CVSS"`
}

type cvss struct {
	V2Vector  string          `json:"V2Vector"`
	V3Vector  string          `json:"V3Vector"`
	V40Vector string          `json:"V40Vector"`
	V2Score   rawjson.FlexNum `json:"V2Score"`
	V3Score   rawjson.FlexNum `json:"V3Score"`
	V40Score  rawjson.FlexNum `json:"V40Score"`
}

type misconfig struct {
	ID            string `json:"ID"`
	AVDID         string `json:"AVDID"`
	Title         string `json:"Title"`
	Message       string `json:"Message"`
	Severity      string `json:"Severity"`
	Status        string `json:"Status"`
	CauseMetadata *struct {
		Resource  string          `json:"Resource"`
		StartLine rawjson.FlexInt `json:"StartLine"`
	} `json:"CauseMetadata"`
}

type secret struct {
	RuleID    string          `json:"RuleID"`
	Category  string          `json:"Category"`
	Severity  string          `json:"Severity"`
	Title     string          `json:"Title"`
	StartLine rawjson.FlexInt `json:"StartLine"`
}

// Parse reads a Trivy JSON report. Malformed JSON, and JSON that is not a Trivy report, fail
// with an *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	keys, err := rawjson.TopLevel(format, data)
	if err != nil {
		if pe, ok := err.(*ingest.ParseError); ok && strings.Contains(pe.Msg, "JSON array") {
			pe.Msg += ": reports before SchemaVersion 2 (trivy < 0.20) are not read"
		}
		return nil, err
	}
	_, hasSchema := keys["SchemaVersion"]
	_, hasResults := keys["Results"]
	_, hasName := keys["ArtifactName"]
	_, hasType := keys["ArtifactType"]
	if !hasSchema && !(hasResults && (hasName || hasType)) {
		return nil, rawjson.NotThisFormat(format, data, "a Trivy report has SchemaVersion, ArtifactName and Results; this document has none of them")
	}
	if err := rawjson.CheckKind(format, keys, "Results", "array"); err != nil {
		return nil, err
	}
	if err := rawjson.CheckKind(format, keys, "Metadata", "object"); err != nil {
		return nil, err
	}
	var r report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, rawjson.DecodeError(format, data, err)
	}
	// Only Trivy writes this layout; the report says nothing of its vulnerability database's
	// age, so KnowledgeAsOf stays unknown.
	p := &parser{b: scanreport.NewBuilder(), doc: &ingest.Document{Format: format, Tool: "Trivy"}, byID: map[string]string{}}
	p.schema(&r, hasSchema)
	p.subject(&r)
	p.packages(&r)
	p.vulnerabilities(&r)
	p.findings(&r)
	p.b.Finish(p.doc)
	return p.doc, nil
}

type parser struct {
	b   *scanreport.Builder
	doc *ingest.Document
	// byID maps package ids ("name@version", and per result "<result>\x00<id>") to purls.
	byID map[string]string
	dev  map[string]bool // purls of development dependencies
}

func (p *parser) schema(r *report, has bool) {
	sv := r.SchemaVersion
	switch {
	case !has || !sv.Set && !sv.Bad:
		p.b.Warn("schema version", "SchemaVersion", "no SchemaVersion; read as %d", schemaVersion)
	case sv.Bad:
		p.b.Warn("schema version", "SchemaVersion", "SchemaVersion %s is not a number; read as %d", sv.Raw, schemaVersion)
	default:
		p.doc.Version = strconv.Itoa(sv.V)
		if sv.Str {
			p.b.Warn("schema version", "SchemaVersion", "SchemaVersion is a string; read as the number %d", sv.V)
		}
		if sv.V != schemaVersion {
			p.b.Warn("schema version", "SchemaVersion", "SchemaVersion %d; read as %d", sv.V, schemaVersion)
		}
	}
}

// subject names the image scanned: digest from RepoDigests (the registry's), else the ImageID
// (the config digest, all a local image has).
func (p *parser) subject(r *report) {
	m := r.Metadata
	if r.ArtifactType != "container_image" && (m == nil || m.ImageID == "" && len(m.RepoDigests) == 0) {
		return
	}
	s := &ingest.Subject{Name: imageref.Name(r.ArtifactName), Type: "IMAGE"}
	if m != nil {
		for i, rd := range m.RepoDigests {
			path := fmt.Sprintf("Metadata.RepoDigests[%d]", i)
			if strings.TrimSpace(rd) == "" {
				p.b.Warn("bad digest", path, "empty repo digest; ignored")
				continue
			}
			d, ok := imageref.Digest(rd)
			if !ok {
				p.b.Warn("bad digest", path, "%q is not repository@sha256:<hex>; ignored", text.Cut(rd, 200))
				continue
			}
			if s.Digest == "" {
				s.Digest = d
			}
		}
		if s.Digest == "" && m.ImageID != "" {
			if d, ok := imageref.Digest(m.ImageID); ok {
				s.Digest = d
			} else {
				p.b.Warn("bad digest", "Metadata.ImageID", "ImageID %q is not sha256:<hex>; ignored", text.Cut(m.ImageID, 200))
			}
		}
		s.Version = imageref.Tag(s.Name)
		for _, t := range m.RepoTags {
			if s.Version == "" {
				s.Version = imageref.Tag(t)
			}
			if s.Name == "" {
				s.Name = imageref.Name(t)
			}
		}
		if s.Version == "" && len(m.ImageConfig) > 0 {
			var ic struct {
				Config struct {
					Labels map[string]any `json:"Labels"`
				} `json:"config"`
			}
			if json.Unmarshal(m.ImageConfig, &ic) == nil {
				s.Version, _ = ic.Config.Labels["org.opencontainers.image.version"].(string)
			}
		}
	}
	if s.Name == "" {
		// Reports trimmed of ArtifactName still name the image in the target of their OS
		// packages: "repo/app:1.2 (debian 10.13)".
		for i, res := range r.Results {
			if t := strings.TrimSpace(res.Target); res.Class == "os-pkgs" && strings.HasSuffix(t, ")") && strings.Contains(t, " (") {
				s.Name = imageref.Name(t[:strings.LastIndex(t, " (")])
				p.b.Warn("no artifact name", "ArtifactName", "no ArtifactName; named the image after Results[%d].Target", i)
				break
			}
		}
		if s.Version == "" {
			s.Version = imageref.Tag(s.Name)
		}
	}
	if s.Name == "" && s.Digest == "" {
		return
	}
	p.doc.Subject = s
}

// packages reads Results[].Packages: Components, then DependsOn as DEPENDS_ON.
func (p *parser) packages(r *report) {
	p.dev = map[string]bool{}
	purls := make([][]string, len(r.Results))
	for ri := range r.Results {
		res := &r.Results[ri]
		purls[ri] = make([]string, len(res.Packages))
		for pi := range res.Packages {
			pk := &res.Packages[pi]
			path := fmt.Sprintf("Results[%d].Packages[%d]", ri, pi)
			p.doc.Counts.Components++
			version := pkgVersion(pk)
			declared := ""
			if pk.Identifier != nil {
				declared = pk.Identifier.PURL
			}
			purl, ok := p.b.PurlFor(path+".Identifier.PURL", declared, pk.Name, version)
			if !ok {
				continue
			}
			props := map[string]any{"name": strings.TrimSpace(pk.Name), "version": version, "licenses": slices.Clone(pk.Licenses)}
			if d := strings.TrimSpace(pk.Digest); d != "" && strings.Contains(d, ":") {
				props["hashes"] = []string{d}
			}
			if !p.b.Component(path, purl, props) {
				continue
			}
			purls[ri][pi] = purl
			if pk.Dev {
				p.dev[purl] = true
			}
			for _, id := range pkgIDs(pk, version) {
				key := strconv.Itoa(ri) + "\x00" + id
				if _, dup := p.byID[key]; !dup {
					p.byID[key] = purl
				}
				if _, dup := p.byID[id]; !dup {
					p.byID[id] = purl
				}
			}
		}
	}
	for ri := range r.Results {
		for pi, pk := range r.Results[ri].Packages {
			p.doc.Counts.Relationships += len(pk.DependsOn)
			from := purls[ri][pi]
			if from == "" {
				continue
			}
			for di, dep := range pk.DependsOn {
				path := fmt.Sprintf("Results[%d].Packages[%d].DependsOn[%d]", ri, pi, di)
				to := p.lookup(ri, dep)
				if to == "" {
					p.b.Warn("unknown dependency", path, "no package with ID %q in the report; dependency skipped", text.Cut(dep, 200))
					continue
				}
				props := map[string]any{"direct": true}
				if p.dev[to] {
					props["scope"] = "dev"
				}
				p.b.Edge(path, "DEPENDS_ON", graph.NodeRef{Label: graph.LabelComponent, Key: from},
					graph.NodeRef{Label: graph.LabelComponent, Key: to}, props)
			}
		}
	}
}

// pkgVersion is a package's version with its release and epoch, the way trivy spells them in
// purls and ids.
func pkgVersion(pk *pkg) string {
	v := strings.TrimSpace(pk.Version)
	if r := strings.TrimSpace(pk.Release); r != "" && v != "" {
		v += "-" + r
	}
	if pk.Epoch.Set && pk.Epoch.V > 0 && v != "" {
		v = strconv.Itoa(pk.Epoch.V) + ":" + v
	}
	return v
}

// pkgIDs are the ids DependsOn and PkgID may use for a package.
func pkgIDs(pk *pkg, version string) []string {
	var ids []string
	if id := strings.TrimSpace(pk.ID); id != "" {
		ids = append(ids, id)
	}
	if n := strings.TrimSpace(pk.Name); n != "" {
		ids = append(ids, n+"@"+strings.TrimSpace(pk.Version))
		if version != strings.TrimSpace(pk.Version) {
			ids = append(ids, n+"@"+version)
		}
	}
	return ids
}

// lookup finds a package by id, in its own result first.
func (p *parser) lookup(ri int, id string) string {
	id = strings.TrimSpace(id)
	if id == "" {
		return ""
	}
	if purl, ok := p.byID[strconv.Itoa(ri)+"\x00"+id]; ok {
		return purl
	}
	return p.byID[id]
}

// vulnerabilities reads Results[].Vulnerabilities: a Vulnerability AFFECTS its package.
func (p *parser) vulnerabilities(r *report) {
	for ri := range r.Results {
		for vi := range r.Results[ri].Vulnerabilities {
			v := &r.Results[ri].Vulnerabilities[vi]
			path := fmt.Sprintf("Results[%d].Vulnerabilities[%d]", ri, vi)
			p.doc.Counts.Vulnerabilities++
			id := vulnid.Normalize(v.VulnerabilityID)
			if id == "" {
				p.b.Warn("no vulnerability id", path+".VulnerabilityID", "vulnerability without VulnerabilityID; skipped")
				continue
			}
			purl := p.vulnPurl(ri, path, v)
			props := map[string]any{
				"summary": strings.TrimSpace(text.First(v.Title, v.Description)),
				"cwes":    upperAll(v.CweIDs),
			}
			if aliases := vendorAliases(id, v.VendorIDs); len(aliases) > 0 {
				props["aliases"] = aliases
			}
			sev, ok := severity.Normalize(v.Severity)
			props["severity"] = sev
			if !ok {
				p.b.Warn("bad severity", path+".Severity", "severity %q is not a known one; read as UNKNOWN", text.Cut(v.Severity, 40))
			}
			if score, vector, ok := p.bestCVSS(path+".CVSS", v.CVSS); ok {
				props["cvssScore"] = score
				props["cvssVector"] = vector
			}
			if !p.b.Node(path, graph.LabelVulnerability, id, props) || purl == "" {
				continue
			}
			installed := strings.TrimSpace(v.InstalledVersion)
			if !p.b.Has(graph.LabelComponent, purl) {
				p.b.Component(path, purl, map[string]any{"name": strings.TrimSpace(v.PkgName), "version": installed})
			}
			fixed := splitVersions(v.FixedVersion)
			p.b.Edge(path, "AFFECTS", graph.NodeRef{Label: graph.LabelVulnerability, Key: id},
				graph.NodeRef{Label: graph.LabelComponent, Key: purl}, map[string]any{
					"versionRange": scanreport.VersionRange(installed, fixed),
					"fixedVersion": strings.Join(fixed, ", "),
					"status":       p.affectsStatus(path+".Status", v.Status),
				})
		}
	}
}

// vulnPurl finds the package a vulnerability was found in: PkgIdentifier.PURL, else the
// package listed with its PkgID or name and version, else pkg:generic/name@version.
func (p *parser) vulnPurl(ri int, path string, v *vulnerability) string {
	if v.PkgIdentifier != nil && strings.TrimSpace(v.PkgIdentifier.PURL) != "" {
		if purl, err := purl.Normalize(v.PkgIdentifier.PURL); err == nil {
			return purl
		}
	}
	if purl := p.lookup(ri, v.PkgID); purl != "" {
		return purl
	}
	if n := strings.TrimSpace(v.PkgName); n != "" {
		if purl := p.lookup(ri, n+"@"+strings.TrimSpace(v.InstalledVersion)); purl != "" {
			return purl
		}
	}
	declared := ""
	if v.PkgIdentifier != nil {
		declared = v.PkgIdentifier.PURL
	}
	purl, _ := p.b.PurlFor(path+".PkgIdentifier.PURL", declared, v.PkgName, v.InstalledVersion)
	return purl
}

// bestCVSS picks the highest CVSS v3 base score of any source, with its vector; without v3,
// the highest v4.0, then v2.
func (p *parser) bestCVSS(path string, m map[string]cvss) (float64, string, bool) {
	sources := slices.Sorted(maps.Keys(m))
	type pick func(c cvss) (rawjson.FlexNum, string)
	for _, get := range []pick{
		func(c cvss) (rawjson.FlexNum, string) { return c.V3Score, c.V3Vector },
		func(c cvss) (rawjson.FlexNum, string) { return c.V40Score, c.V40Vector },
		func(c cvss) (rawjson.FlexNum, string) { return c.V2Score, c.V2Vector },
	} {
		best, vector, found := 0.0, "", false
		for _, src := range sources {
			n, vec := get(m[src])
			if n.Bad || n.Set && (n.V < 0 || n.V > 10) {
				p.b.Warn("bad score", path+"."+src, "CVSS score %s is not a number from 0 to 10; ignored", text.First(n.Raw, strconv.FormatFloat(n.V, 'g', -1, 64)))
				continue
			}
			if n.Set && (!found || n.V > best) {
				best, vector, found = n.V, strings.TrimSpace(vec), true
			}
		}
		if found {
			return best, vector, true
		}
	}
	return 0, "", false
}

// affectsStatus maps trivy's status of a vulnerable package onto VEX's: "fixed" in trivy means
// a fix exists, not that this package has it.
func (p *parser) affectsStatus(path, s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "affected", "fixed", "will_not_fix", "fix_deferred", "end_of_life", "unknown":
		return "affected"
	case "not_affected":
		return "not_affected"
	case "under_investigation":
		return "under_investigation"
	}
	p.b.Warn("bad status", path, "status %q is not a known one; read as affected", text.Cut(s, 40))
	return "affected"
}

// findings reads misconfigurations and secrets.
func (p *parser) findings(r *report) {
	for ri := range r.Results {
		res := &r.Results[ri]
		target := strings.TrimSpace(res.Target)
		for mi := range res.Misconfigurations {
			m := &res.Misconfigurations[mi]
			path := fmt.Sprintf("Results[%d].Misconfigurations[%d]", ri, mi)
			p.doc.Counts.Results++
			line, resource := 0, ""
			if m.CauseMetadata != nil {
				resource = strings.TrimSpace(m.CauseMetadata.Resource)
				if m.CauseMetadata.StartLine.Set {
					line = m.CauseMetadata.StartLine.V
				}
			}
			status := batch.StatusOpen
			switch strings.ToUpper(strings.TrimSpace(m.Status)) {
			case "", "FAIL":
			case "PASS":
				status = batch.StatusFixed
			case "EXCEPTION":
				status = batch.StatusSuppressed
			default:
				p.b.Warn("bad status", path+".Status", "status %q is not FAIL, PASS or EXCEPTION; read as FAIL", text.Cut(m.Status, 40))
			}
			msg := joinMessage(m.Title, m.Message)
			p.finding(path, "misconfiguration", text.First(m.ID, m.AVDID), m.Severity, msg, location(target, line), resource, status)
		}
		for si := range res.Secrets {
			s := &res.Secrets[si]
			path := fmt.Sprintf("Results[%d].Secrets[%d]", ri, si)
			p.doc.Counts.Results++
			line := 0
			if s.StartLine.Set {
				line = s.StartLine.V
			}
			p.finding(path, "secret", strings.TrimSpace(s.RuleID), s.Severity, text.First(s.Title, s.Category, s.RuleID),
				location(target, line), "", batch.StatusOpen)
		}
	}
}

func (p *parser) finding(path, class, ruleID, sevWord, msg, loc, resource, status string) {
	sev, ok := severity.Normalize(sevWord)
	if !ok {
		p.b.Warn("bad severity", path+".Severity", "severity %q is not a known one; read as UNKNOWN", text.Cut(sevWord, 40))
	}
	if sev == "" {
		sev = severity.Unknown
	}
	fp := batch.Fingerprint("trivy", class, ruleID, loc, resource, msg)
	p.b.Node(path, graph.LabelFinding, fp, map[string]any{
		"tool": "trivy", "ruleId": ruleID, "severity": sev, "message": msg, "location": loc, "status": status,
	})
}

// location is "target:line", or the target alone when the line is unknown.
func location(target string, line int) string {
	if line > 0 && target != "" {
		return target + ":" + strconv.Itoa(line)
	}
	return target
}

// joinMessage is "title: message", or whichever of them there is.
func joinMessage(title, msg string) string {
	title, msg = strings.TrimSpace(title), strings.TrimSpace(msg)
	switch {
	case title == "" || title == msg:
		return msg
	case msg == "":
		return title
	}
	return title + ": " + msg
}

// splitVersions splits trivy's "1.2.3, 1.3.1" into versions.
func splitVersions(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// vendorAliases are the vendor advisory ids of a vulnerability (DSA-…, RHSA-…), but itself.
func vendorAliases(id string, vendor []string) []string {
	var out []string
	for _, a := range vendor {
		if a = vulnid.Normalize(a); a != "" && a != id {
			out = append(out, a)
		}
	}
	return out
}

func upperAll(l []string) []string {
	out := make([]string, 0, len(l))
	for _, s := range l {
		out = append(out, strings.ToUpper(strings.TrimSpace(s)))
	}
	return out
}
