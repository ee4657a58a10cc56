// Package osv reads OSV records (https://ossf.github.io/osv-schema/, schema 1.x) into an
// ingest.Document, and decides which package versions a record affects.
//
// A record is one Vulnerability keyed by its id (CVE and GHSA ids spelled the canonical way):
//   - aliases from aliases[] and upstream[] (schema 1.7: the upstream CVE of a distribution's
//     record), the record's own id left out;
//   - summary from summary, else details;
//   - cvssScore and cvssVector from the severity[] vectors (CVSS_V3 preferred, then CVSS_V4,
//     then CVSS_V2; the base score is computed from the vector, see cvss.go), severity the
//     score's rating; without a vector, severity from database_specific.severity (GitHub's
//     MODERATE is MEDIUM), else from a severity[] entry that names a rating (type Ubuntu);
//   - cwes from database_specific.cwe_ids, and from affected[].database_specific (cwe_ids, or
//     cwes[].cweId as older GitHub records have them).
//
// Properties the record does not give are left out, so that the graph keeps what scanners wrote.
// The affected packages cannot become AFFECTS edges here: OSV names packages and version ranges,
// while the twin's components are known only when matching. Advisory returns them as Affected,
// and Affects decides whether a component version is affected.
package osv

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/package-url/packageurl-go"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/cwe"
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/severity"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/ingest/internal/vulnid"
)

const format = ingest.FormatOSV

// Affected is one affected[] entry of a record: a package and the versions of it the record
// says are affected.
type Affected struct {
	// VulnerabilityID is the key of the record's Vulnerability node.
	VulnerabilityID string
	// Purl is the package's purl without version (its qualifiers kept): package.purl when the
	// record gives one, else made from the ecosystem and name; empty when neither can be had.
	Purl      string
	Ecosystem string // as the record spells it, release included: "Alpine:v3.7", "PyPI"
	Name      string
	Ranges    []Range
	Versions  []string // the versions the record enumerates
}

// Range is one affected range.
type Range struct {
	Type   string // SEMVER, ECOSYSTEM or GIT
	Repo   string // the repository of a GIT range
	Events []Event
}

// Event is one range event. OSV sets exactly one field; of an event that sets several (kept as
// given, with a warning), Affects reads the first of Introduced, Fixed and LastAffected.
type Event struct {
	Introduced, Fixed, LastAffected, Limit string
}

type record struct {
	SchemaVersion    string          `json:"schema_version"`
	ID               string          `json:"id"`
	Withdrawn        string          `json:"withdrawn"`
	Aliases          []string        `json:"aliases"`
	Upstream         []string        `json:"upstream"`
	Summary          string          `json:"summary"`
	Details          string          `json:"details"`
	Severity         []severityEntry `json:"severity"`
	Affected         []affected      `json:"affected"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

type severityEntry struct {
	Type  string `json:"type"`
	Score string `json:"score"`
}

type affected struct {
	Package *struct {
		Ecosystem string `json:"ecosystem"`
		Name      string `json:"name"`
		Purl      string `json:"purl"`
	} `json:"package"`
	Severity []severityEntry `json:"severity"`
	Ranges   []struct {
		Type   string `json:"type"`
		Repo   string `json:"repo"`
		Events []struct {
			Introduced   string `json:"introduced"`
			Fixed        string `json:"fixed"`
			LastAffected string `json:"last_affected"`
			Limit        string `json:"limit"`
		} `json:"events"`
	} `json:"ranges"`
	Versions         []string        `json:"versions"`
	DatabaseSpecific json.RawMessage `json:"database_specific"`
}

// osvKeys are top-level keys only OSV records have (besides id).
var osvKeys = []string{"schema_version", "modified", "published", "withdrawn", "aliases", "upstream", "related",
	"summary", "details", "severity", "affected", "references", "credits", "database_specific"}

// Parse reads one OSV record. Malformed JSON, and JSON that is not an OSV record, fail with an
// *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	doc, _, err := Advisory(data)
	return doc, err
}

// Advisory reads one OSV record into a Document (its Vulnerability) and the packages it
// affects, one Affected per affected[] entry. A withdrawn record affects nothing.
func Advisory(data []byte) (*ingest.Document, []Affected, error) {
	keys, err := rawjson.TopLevel(format, data)
	if err != nil {
		return nil, nil, err
	}
	if _, ok := keys["id"]; !ok {
		return nil, nil, rawjson.NotThisFormat(format, data, "an OSV record has an id, this document has none")
	}
	known := false
	for _, k := range osvKeys {
		_, has := keys[k]
		known = known || has
	}
	if f, err := ingest.Detect(data); err == nil && f != format || !known {
		return nil, nil, rawjson.NotThisFormat(format, data, "an OSV record has an id and OSV fields (modified, affected, aliases…)")
	}
	var r record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, nil, rawjson.DecodeError(format, data, err)
	}
	id := vulnid.Normalize(r.ID)
	if id == "" {
		return nil, nil, &ingest.ParseError{Format: format, Path: "id", Msg: "the record's id is empty"}
	}
	if !batch.ValidKey(id) {
		return nil, nil, &ingest.ParseError{Format: format, Path: "id", Msg: fmt.Sprintf("the record's id is longer than %d bytes or not UTF-8", batch.MaxKeyLen)}
	}
	p := &parser{b: scanreport.NewBuilder()}
	doc := &ingest.Document{Format: format, Version: strings.TrimSpace(r.SchemaVersion)}
	doc.Counts.Vulnerabilities = 1
	p.b.Node("id", graph.LabelVulnerability, id, p.vulnerability(id, &r))
	var out []Affected
	if strings.TrimSpace(r.Withdrawn) != "" {
		p.b.Warn("withdrawn", "withdrawn", "the record was withdrawn at %s; it affects nothing", text.Cut(strings.TrimSpace(r.Withdrawn), 40))
	} else {
		for i := range r.Affected {
			out = append(out, p.affected(fmt.Sprintf("affected[%d]", i), id, &r.Affected[i]))
		}
	}
	p.b.Finish(doc)
	return doc, out, nil
}

type parser struct {
	b *scanreport.Builder
}

// vulnerability makes the Vulnerability's properties.
func (p *parser) vulnerability(id string, r *record) map[string]any {
	props := map[string]any{}
	var aliases []string
	for _, a := range append(append([]string(nil), r.Aliases...), r.Upstream...) {
		if a = vulnid.Normalize(a); a != "" && a != id {
			aliases = append(aliases, a)
		}
	}
	props["aliases"] = aliases
	props["summary"] = text.First(r.Summary, r.Details)

	db := lenientObject(r.DatabaseSpecific)
	cwes := p.cwes("database_specific.cwe_ids", rawjson.Strings(db["cwe_ids"]))
	for i := range r.Affected {
		adb := lenientObject(r.Affected[i].DatabaseSpecific)
		path := fmt.Sprintf("affected[%d].database_specific", i)
		cwes = append(cwes, p.cwes(path+".cwe_ids", rawjson.Strings(adb["cwe_ids"]))...)
		var objs []struct {
			CWEID string `json:"cweId"`
		}
		if json.Unmarshal(adb["cwes"], &objs) == nil {
			var ids []string
			for _, o := range objs {
				ids = append(ids, o.CWEID)
			}
			cwes = append(cwes, p.cwes(path+".cwes", ids)...)
		}
	}
	props["cwes"] = batch.Compact(cwes)

	// Severity: the preferred CVSS vector, else a rating.
	type scored struct {
		score   float64
		version int
		vector  string
	}
	var best *scored
	prefer := map[int]int{3: 3, 4: 2, 2: 1}
	word := ""
	consider := func(path string, list []severityEntry) {
		for i, s := range list {
			at := fmt.Sprintf("%s[%d]", path, i)
			typ := strings.ToUpper(strings.TrimSpace(s.Type))
			vec := strings.TrimSpace(s.Score)
			switch typ {
			case "CVSS_V2", "CVSS_V3", "CVSS_V4":
				score, ver, err := cvssScore(vec)
				if err != nil {
					p.b.Warn("bad cvss", at+".score", "%s vector %q cannot be read (%v); ignored", typ, text.Cut(vec, 200), err)
					continue
				}
				if want := int(typ[len(typ)-1] - '0'); want != ver {
					p.b.Warn("cvss version", at+".score", "a %s entry holds a CVSS v%d vector; read as v%d", typ, ver, ver)
				}
				c := &scored{score, ver, vec}
				if best == nil || prefer[ver] > prefer[best.version] || ver == best.version && score > best.score {
					best = c
				}
			default:
				if sev, ok := rating(vec); ok && sev != "" {
					if word == "" {
						word = sev
					}
				} else {
					p.b.Warn("bad severity", at, "severity of type %q with score %q is neither a CVSS vector nor a rating; ignored", text.Cut(s.Type, 40), text.Cut(vec, 80))
				}
			}
		}
	}
	consider("severity", r.Severity)
	for i := range r.Affected {
		if best == nil {
			consider(fmt.Sprintf("affected[%d].severity", i), r.Affected[i].Severity)
		}
	}
	switch {
	case best != nil:
		props["severity"] = severityOfScore(best.score, best.version)
		props["cvssScore"] = best.score
		props["cvssVector"] = best.vector
	default:
		if s, _ := rawjson.String(db["severity"]); strings.TrimSpace(s) != "" {
			if sev, ok := rating(s); ok {
				props["severity"] = sev
				break
			}
			p.b.Warn("bad severity", "database_specific.severity", "severity %q is not a known rating; ignored", text.Cut(s, 40))
		}
		if word != "" {
			props["severity"] = word
		}
	}
	return props
}

// affected reads one affected[] entry.
func (p *parser) affected(path, id string, af *affected) Affected {
	a := Affected{VulnerabilityID: id}
	if af.Package != nil {
		a.Ecosystem = strings.TrimSpace(af.Package.Ecosystem)
		a.Name = strings.TrimSpace(af.Package.Name)
		if raw := strings.TrimSpace(af.Package.Purl); raw != "" {
			key, hadVersion, err := versionless(raw)
			switch {
			case err != nil:
				p.b.Warn("bad purl", path+".package.purl", "%q is not a package URL (%v); made one from the ecosystem and name", text.Cut(raw, 200), err)
			case hadVersion:
				p.b.Warn("purl version", path+".package.purl", "the package purl %q has a version; dropped", text.Cut(raw, 200))
				a.Purl = key
			default:
				a.Purl = key
			}
		}
		if a.Purl == "" && a.Name != "" {
			a.Purl = ecosystemPurl(a.Ecosystem, a.Name)
			if a.Purl == "" {
				p.b.Warn("no purl", path+".package", "no purl, and ecosystem %q has no known package-URL type; the package cannot be matched by purl", text.Cut(a.Ecosystem, 80))
			}
		}
	}
	for i, r := range af.Ranges {
		rp := fmt.Sprintf("%s.ranges[%d]", path, i)
		rg := Range{Type: strings.ToUpper(strings.TrimSpace(r.Type)), Repo: strings.TrimSpace(r.Repo)}
		switch rg.Type {
		case "SEMVER", "ECOSYSTEM", "GIT":
		default:
			p.b.Warn("range type", rp+".type", "range type %q is not SEMVER, ECOSYSTEM or GIT; versions in it cannot be decided", text.Cut(r.Type, 40))
		}
		for j, e := range r.Events {
			ev := Event{strings.TrimSpace(e.Introduced), strings.TrimSpace(e.Fixed), strings.TrimSpace(e.LastAffected), strings.TrimSpace(e.Limit)}
			n := 0
			for _, s := range []string{ev.Introduced, ev.Fixed, ev.LastAffected, ev.Limit} {
				if s != "" {
					n++
				}
			}
			switch {
			case n == 0:
				p.b.Warn("bad event", fmt.Sprintf("%s.events[%d]", rp, j), "event without a version; ignored")
				continue
			case n > 1:
				p.b.Warn("bad event", fmt.Sprintf("%s.events[%d]", rp, j), "event with %d versions, want one; kept as given", n)
			}
			rg.Events = append(rg.Events, ev)
		}
		if len(rg.Events) == 0 {
			p.b.Warn("empty range", rp, "range without events; it affects nothing")
		}
		a.Ranges = append(a.Ranges, rg)
	}
	a.Versions = batch.Compact(af.Versions)
	return a
}

// versionless normalises a purl and drops its version; hadVersion says there was one.
func versionless(raw string) (key string, hadVersion bool, err error) {
	n, err := purl.Normalize(raw)
	if err != nil {
		return "", false, err
	}
	pu, err := packageurl.FromString(n)
	if err != nil {
		return "", false, err
	}
	hadVersion = pu.Version != ""
	pu.Version = ""
	out, err := purl.Normalize(pu.ToString())
	if err != nil {
		return "", false, fmt.Errorf("no usable purl without its version")
	}
	return out, hadVersion, nil
}

// lenientObject reads a free-form object (database_specific): nil when it is not one.
func lenientObject(raw json.RawMessage) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if !rawjson.IsObject(raw) || json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// cwes normalises a list of CWE ids (cwe.List), warning about the entries that are not ones.
func (p *parser) cwes(path string, in []string) []string {
	return cwe.List(in, func(i int, s string) {
		p.b.Warn("bad cwe", fmt.Sprintf("%s[%d]", path, i), "%q is not a CWE id; ignored", text.Cut(s, 80))
	})
}

// rating reads a severity word onto the model's severities (severity.Normalize), and Ubuntu's
// "untriaged" priority as UNKNOWN; ok is false for a word it does not know. Empty stays empty.
func rating(s string) (string, bool) {
	if strings.EqualFold(strings.TrimSpace(s), "untriaged") {
		return severity.Unknown, true
	}
	return severity.Normalize(s)
}
