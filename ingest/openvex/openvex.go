// Package openvex reads OpenVEX documents (https://github.com/openvex/spec, v0.0.1 and v0.2.0)
// into an ingest.Document. The documents are read with local types: go-vex is not among the
// module's dependencies.
//
// Each statement says how one vulnerability bears on some products. It becomes AFFECTS edges
// from the Vulnerability (keyed by vulnerability.name, else by the CVE or GHSA id that ends its
// @id IRI, else by the IRI; CVE and GHSA ids spelled the canonical way; aliases from vulnerability.aliases; summary from its description) to a
// Component for every product and subcomponent that is named by a package URL: @id when it is
// a purl, else identifiers.purl, normalised with packageurl-go. A v0.0.1 statement's products
// and subcomponents are plain strings. The edge carries the statement's status
// (not_affected, affected, fixed, under_investigation) and, for not_affected, its
// justification. Products named otherwise (image references, CPEs, URLs) get a warning and no
// edge. Impact and action statements are detail the model does not hold; they are ignored.
//
// When several statements speak of the same vulnerability and component, the latest one wins
// (its timestamp, else the document's; in document order among equals), as OpenVEX's statement
// history says. Components are created bare, without properties, so that they take nothing
// from what an SBOM wrote; Document.Components stays empty, since a VEX document does not say
// what an artifact contains.
package openvex

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
)

const format = ingest.FormatOpenVEX

// Statuses and justifications of the OpenVEX specification.
var (
	statuses       = map[string]bool{"not_affected": true, "affected": true, "fixed": true, "under_investigation": true}
	justifications = map[string]bool{
		"component_not_present": true, "vulnerable_code_not_present": true, "vulnerable_code_not_in_execute_path": true,
		"vulnerable_code_cannot_be_controlled_by_adversary": true, "inline_mitigations_already_exist": true,
	}
)

// statementKeys are the fields of OpenVEX statements, v0.0.1's and v0.2.0's.
var statementKeys = map[string]bool{
	"@id": true, "version": true, "vulnerability": true, "vuln_description": true, "timestamp": true, "last_updated": true,
	"products": true, "subcomponents": true, "status": true, "status_notes": true, "supplier": true,
	"justification": true, "impact_statement": true, "action_statement": true, "action_statement_timestamp": true,
}

type statement struct {
	Vulnerability   json.RawMessage `json:"vulnerability"`
	VulnDescription string          `json:"vuln_description"` // v0.0.1
	Timestamp       string          `json:"timestamp"`
	Products        json.RawMessage `json:"products"`
	Subcomponents   json.RawMessage `json:"subcomponents"` // v0.0.1
	Status          string          `json:"status"`
	Justification   string          `json:"justification"`
	ImpactStatement string          `json:"impact_statement"`
}

type vulnerability struct {
	ID          string   `json:"@id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Aliases     []string `json:"aliases"`
}

type component struct {
	ID          string          `json:"@id"`
	Identifiers json.RawMessage `json:"identifiers"`
	// Subcomponents of a product (v0.2.0).
	Subcomponents json.RawMessage `json:"subcomponents"`
}

var contextVersion = regexp.MustCompile(`/v([0-9]+(?:\.[0-9]+)*)\b`)

// Parse reads an OpenVEX document. Malformed JSON, and JSON that is not an OpenVEX document,
// fail with an *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	keys, err := topLevel(data)
	if err != nil {
		return nil, err
	}
	raw, ok := keys["statements"]
	if !ok {
		return nil, notThisFormat(data, "an OpenVEX document has a statements array, this document has none")
	}
	if k := jsonKind(raw); k != "array" && k != "null" {
		return nil, &ingest.ParseError{Format: format, Path: "statements", Msg: "statements is a JSON " + k + ", want an array"}
	}
	p := &parser{b: newBuilder(), doc: &ingest.Document{Format: format}, seen: map[edgeKey]time.Time{}}
	ctx, isStr := str(keys["@context"])
	switch {
	case isStr && strings.Contains(strings.ToLower(ctx), "openvex"):
		if m := contextVersion.FindStringSubmatch(ctx); m != nil {
			p.doc.Version = m[1]
		}
	default:
		if f, err := ingest.Detect(data); err == nil && f != format {
			return nil, notThisFormat(data, "an OpenVEX document's @context names openvex")
		}
		p.b.warn("no context", "@context", "@context does not name OpenVEX; read as OpenVEX for its statements")
	}
	if ts, _ := str(keys["timestamp"]); strings.TrimSpace(ts) != "" {
		p.docTime = p.when("timestamp", ts)
	}
	var stmts []json.RawMessage
	if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, decodeError(data, 0, err)
	}
	p.doc.Counts.Vulnerabilities = len(stmts)
	for i, s := range stmts {
		p.statement(i, s)
	}
	p.doc.Batch = p.b.batch
	p.doc.Warnings = p.b.finish()
	return p.doc, nil
}

type parser struct {
	b       *builder
	doc     *ingest.Document
	docTime time.Time
	// seen holds, for each edge written, the time of the statement that wrote it.
	seen map[edgeKey]time.Time
}

// legacy warns about a v0.0.1 form in a later document.
func (p *parser) legacy(path, what, readAs string) {
	if p.doc.Version != "" && !strings.HasPrefix(p.doc.Version, "0.0.") {
		p.b.warn("legacy form", path, "%s, as in OpenVEX v0.0.1, in a v%s document; read as %s", what, p.doc.Version, readAs)
	}
}

// when reads a timestamp; a bad one is the zero time, with a warning.
func (p *parser) when(path, s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		p.b.warn("bad timestamp", path, "timestamp %q is not an RFC 3339 date-time; ignored", clip(s, 60))
		return time.Time{}
	}
	return t
}

func (p *parser) statement(i int, raw json.RawMessage) {
	path := fmt.Sprintf("statements[%d]", i)
	if jsonKind(raw) != "object" {
		p.b.warn("bad statement", path, "statement is a JSON %s, want an object; skipped", jsonKind(raw))
		return
	}
	var s statement
	if err := json.Unmarshal(raw, &s); err != nil {
		p.b.warn("bad statement", path, "statement cannot be read (%v); skipped", err)
		return
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(raw, &keys)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !statementKeys[k] {
			p.b.warn("unknown field", path+"."+k, "%q is not an OpenVEX statement field; ignored", clip(k, 60))
		}
	}

	// The vulnerability.
	var v vulnerability
	if name, ok := str(s.Vulnerability); ok {
		v.Name = name
		if jsonKind(s.Vulnerability) == "string" {
			p.legacy(path+".vulnerability", "vulnerability is a string", "its name")
		}
	} else if jsonKind(s.Vulnerability) != "object" || json.Unmarshal(s.Vulnerability, &v) != nil {
		p.b.warn("bad vulnerability", path+".vulnerability", "vulnerability is a JSON %s, want a name or an object; statement skipped", jsonKind(s.Vulnerability))
		return
	}
	id := normVulnID(v.Name)
	if id == "" {
		// Only an IRI: its last segment when that is a CVE or GHSA id
		// (https://nvd.nist.gov/vuln/detail/CVE-2024-1234), else the IRI itself.
		id = normVulnID(v.ID)
		if i := strings.LastIndexByte(id, '/'); i >= 0 {
			if last := normVulnID(id[i+1:]); cveID.MatchString(last) || ghsaID.MatchString(last) {
				id = last
			}
		}
	}
	if id == "" {
		p.b.warn("no vulnerability", path+".vulnerability", "statement without a vulnerability name or @id; skipped")
		return
	}
	var aliases []string
	for _, a := range v.Aliases {
		if a = normVulnID(a); a != "" && a != id {
			aliases = append(aliases, a)
		}
	}

	// Status and justification.
	status, known := normWord(s.Status)
	switch {
	case status == "":
		p.b.warn("no status", path+".status", "statement without a status; skipped")
		return
	case !statuses[status]:
		p.b.warn("bad status", path+".status", "status %q is not an OpenVEX status; statement skipped", clip(s.Status, 60))
		return
	case !known:
		p.b.warn("status spelling", path+".status", "status %q read as %s", clip(s.Status, 60), status)
	}
	justification, known := normWord(s.Justification)
	switch {
	case justification == "":
		if status == "not_affected" && strings.TrimSpace(s.ImpactStatement) == "" {
			p.b.warn("no justification", path, "not_affected without a justification or an impact statement")
		}
	case status != "not_affected":
		p.b.warn("justification", path+".justification", "a justification only explains not_affected, this statement is %s; ignored", status)
		justification = ""
	case !justifications[justification]:
		p.b.warn("bad justification", path+".justification", "justification %q is not an OpenVEX justification; kept as given", clip(s.Justification, 60))
		justification = strings.TrimSpace(s.Justification)
	case !known:
		p.b.warn("justification spelling", path+".justification", "justification %q read as %s", clip(s.Justification, 60), justification)
	}

	when := p.docTime
	if strings.TrimSpace(s.Timestamp) != "" {
		when = p.when(path+".timestamp", s.Timestamp)
	}

	// The components: products and their subcomponents, and v0.0.1's statement subcomponents.
	var purls []string
	if k := jsonKind(s.Products); k == "nothing" || k == "null" {
		p.b.warn("no products", path+".products", "statement without products; no edge")
	}
	p.components(path+".products", s.Products, true, &purls)
	if k := jsonKind(s.Subcomponents); k != "nothing" && k != "null" {
		p.legacy(path+".subcomponents", "the statement has subcomponents", "subcomponents of every product")
	}
	p.components(path+".subcomponents", s.Subcomponents, false, &purls)
	if len(purls) == 0 {
		return
	}

	from := graph.NodeRef{Label: graph.LabelVulnerability, Key: id}
	if !p.b.node(path+".vulnerability", graph.LabelVulnerability, id, map[string]any{
		"aliases": aliases, "summary": cmpOr(v.Description, s.VulnDescription),
	}) {
		return
	}
	props := map[string]any{"status": status, "justification": justification}
	for _, purl := range purls {
		to := graph.NodeRef{Label: graph.LabelComponent, Key: purl}
		if !p.b.node(path, graph.LabelComponent, purl, nil) {
			continue
		}
		k := edgeKey{"AFFECTS", from, to}
		if prev, ok := p.seen[k]; ok && when.Before(prev) {
			continue // an earlier statement: the later one stands
		}
		p.seen[k] = when
		p.b.edge(path, "AFFECTS", from, to, props, true)
	}
}

// components reads a list of products or subcomponents: strings (v0.0.1) or objects, adding
// the purls it names. Products' own subcomponents are read too.
func (p *parser) components(path string, raw json.RawMessage, products bool, purls *[]string) {
	switch jsonKind(raw) {
	case "nothing", "null":
		return
	case "array":
	default:
		p.b.warn("bad products", path, "%s is a JSON %s, want an array; ignored", path[strings.LastIndexByte(path, '.')+1:], jsonKind(raw))
		return
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return
	}
	for j, it := range items {
		at := fmt.Sprintf("%s[%d]", path, j)
		var c component
		if s, ok := str(it); ok {
			c.ID = s
			p.legacy(at, "a string product", "its @id")
		} else if jsonKind(it) != "object" || json.Unmarshal(it, &c) != nil {
			p.b.warn("bad product", at, "a JSON %s, want an @id or an object with one; ignored", jsonKind(it))
			continue
		}
		if purl, ok := p.purlOf(at, &c); ok {
			*purls = append(*purls, purl)
		}
		if products {
			p.components(at+".subcomponents", c.Subcomponents, false, purls)
		}
	}
}

// purlOf names a component by purl: its @id when it is one, else identifiers.purl.
func (p *parser) purlOf(path string, c *component) (string, bool) {
	id := strings.TrimSpace(c.ID)
	var ids struct {
		Purl string `json:"purl"`
	}
	if jsonKind(c.Identifiers) == "object" {
		_ = json.Unmarshal(c.Identifiers, &ids)
	}
	cand, at := id, path+".@id"
	if !strings.HasPrefix(strings.ToLower(id), "pkg:") && strings.TrimSpace(ids.Purl) != "" {
		cand, at = strings.TrimSpace(ids.Purl), path+".identifiers.purl"
	}
	if cand == "" {
		p.b.warn("no product id", path, "product without an @id or a purl; no edge")
		return "", false
	}
	if !strings.HasPrefix(strings.ToLower(cand), "pkg:") {
		p.b.warn("not a purl", at, "%q is not a package URL (an image reference, CPE or other identifier); no edge", clip(cand, 200))
		return "", false
	}
	purl, err := normPurl(cand)
	if err != nil {
		p.b.warn("bad purl", at, "%q is not a readable package URL (%v); no edge", clip(cand, 200), err)
		return "", false
	}
	if !validKey(purl) {
		p.b.warn("bad purl", at, "package URL longer than %d bytes; no edge", maxKeyLen)
		return "", false
	}
	return purl, true
}

// normWord spells a status or justification the OpenVEX way (lower case, underscores); known is
// false when it was spelled otherwise.
func normWord(s string) (word string, known bool) {
	t := strings.TrimSpace(s)
	w := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(t))
	return w, w == t
}

func cmpOr(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}
