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
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/ingest/internal/vulnid"
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
	keys, err := rawjson.TopLevel(format, data)
	if err != nil {
		return nil, err
	}
	raw, ok := keys["statements"]
	if !ok {
		return nil, rawjson.NotThisFormat(format, data, "an OpenVEX document has a statements array, this document has none")
	}
	if err := rawjson.CheckKind(format, keys, "statements", "array"); err != nil {
		return nil, err
	}
	p := &parser{b: scanreport.NewBuilder(), doc: &ingest.Document{Format: format}, affects: map[pair]*verdict{}}
	ctx, _ := rawjson.String(keys["@context"])
	switch {
	case strings.Contains(strings.ToLower(ctx), "openvex"):
		if m := contextVersion.FindStringSubmatch(ctx); m != nil {
			p.doc.Version = m[1]
		}
	default:
		if f, err := ingest.Detect(data); err == nil && f != format {
			return nil, rawjson.NotThisFormat(format, data, "an OpenVEX document's @context names openvex")
		}
		p.b.Warn("no context", "@context", "@context does not name OpenVEX; read as OpenVEX for its statements")
	}
	if ts, _ := rawjson.String(keys["timestamp"]); strings.TrimSpace(ts) != "" {
		p.docTime = p.when("timestamp", ts)
	}
	var stmts []json.RawMessage
	if err := json.Unmarshal(raw, &stmts); err != nil {
		return nil, rawjson.DecodeError(format, data, err)
	}
	p.doc.Counts.Vulnerabilities = len(stmts)
	for i, s := range stmts {
		p.statement(i, s)
	}
	// The AFFECTS edges, each as the statement that stands says.
	for _, k := range p.order {
		v := p.affects[k]
		from := graph.NodeRef{Label: graph.LabelVulnerability, Key: k.vuln}
		p.b.Edge(v.path, "AFFECTS", from, graph.NodeRef{Label: graph.LabelComponent, Key: k.purl}, v.props)
	}
	p.b.Finish(p.doc)
	return p.doc, nil
}

type parser struct {
	b       *scanreport.Builder
	doc     *ingest.Document
	docTime time.Time
	// affects holds what the statement that stands says of each vulnerability and component,
	// and order the pairs in the order they were first named: the AFFECTS edges are written once
	// all statements are read.
	affects map[pair]*verdict
	order   []pair
}

// pair is the vulnerability and component keys of an AFFECTS edge.
type pair struct{ vuln, purl string }

// verdict is what one statement says of a vulnerability and component: the edge's properties.
type verdict struct {
	when  time.Time
	path  string // the statement's
	props map[string]any
}

// legacy warns about a v0.0.1 form in a later document.
func (p *parser) legacy(path, what, readAs string) {
	if p.doc.Version != "" && !strings.HasPrefix(p.doc.Version, "0.0.") {
		p.b.Warn("legacy form", path, "%s, as in OpenVEX v0.0.1, in a v%s document; read as %s", what, p.doc.Version, readAs)
	}
}

// when reads a timestamp; a bad one is the zero time, with a warning.
func (p *parser) when(path, s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		p.b.Warn("bad timestamp", path, "timestamp %q is not an RFC 3339 date-time; ignored", text.Cut(s, 60))
		return time.Time{}
	}
	return t
}

func (p *parser) statement(i int, raw json.RawMessage) {
	path := fmt.Sprintf("statements[%d]", i)
	if rawjson.Kind(raw) != "object" {
		p.b.Warn("bad statement", path, "statement is a JSON %s, want an object; skipped", rawjson.Kind(raw))
		return
	}
	var s statement
	if err := json.Unmarshal(raw, &s); err != nil {
		p.b.Warn("bad statement", path, "statement cannot be read (%v); skipped", err)
		return
	}
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(raw, &keys)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if !statementKeys[k] {
			p.b.Warn("unknown field", path+"."+k, "%q is not an OpenVEX statement field; ignored", text.Cut(k, 60))
		}
	}

	// The vulnerability.
	var v vulnerability
	switch k := rawjson.Kind(s.Vulnerability); {
	case k == "nothing" || k == "null":
	case k == "string":
		v.Name, _ = rawjson.String(s.Vulnerability)
		p.legacy(path+".vulnerability", "vulnerability is a string", "its name")
	case k != "object" || json.Unmarshal(s.Vulnerability, &v) != nil:
		p.b.Warn("bad vulnerability", path+".vulnerability", "vulnerability is a JSON %s, want a name or an object; statement skipped", k)
		return
	}
	id := vulnid.Normalize(v.Name)
	if id == "" {
		// Only an IRI: its last segment when that is a CVE or GHSA id
		// (https://nvd.nist.gov/vuln/detail/CVE-2024-1234), else the IRI itself.
		id = vulnid.Normalize(v.ID)
		if i := strings.LastIndexByte(id, '/'); i >= 0 {
			// A whole id: Prefix also finds one that merely starts the segment.
			if last, ok := vulnid.Prefix(id[i+1:]); ok && last == vulnid.Normalize(id[i+1:]) {
				id = last
			}
		}
	}
	if id == "" {
		p.b.Warn("no vulnerability", path+".vulnerability", "statement without a vulnerability name or @id; skipped")
		return
	}
	var aliases []string
	for _, a := range v.Aliases {
		if a = vulnid.Normalize(a); a != "" && a != id {
			aliases = append(aliases, a)
		}
	}

	// Status and justification.
	status, known := normWord(s.Status)
	switch {
	case status == "":
		p.b.Warn("no status", path+".status", "statement without a status; skipped")
		return
	case !statuses[status]:
		p.b.Warn("bad status", path+".status", "status %q is not an OpenVEX status; statement skipped", text.Cut(s.Status, 60))
		return
	case !known:
		p.b.Warn("status spelling", path+".status", "status %q read as %s", text.Cut(s.Status, 60), status)
	}
	justification, known := normWord(s.Justification)
	switch {
	case justification == "":
		if status == "not_affected" && strings.TrimSpace(s.ImpactStatement) == "" {
			p.b.Warn("no justification", path, "not_affected without a justification or an impact statement")
		}
	case status != "not_affected":
		p.b.Warn("justification", path+".justification", "a justification only explains not_affected, this statement is %s; ignored", status)
		justification = ""
	case !justifications[justification]:
		p.b.Warn("bad justification", path+".justification", "justification %q is not an OpenVEX justification; kept as given", text.Cut(s.Justification, 60))
		justification = strings.TrimSpace(s.Justification)
	case !known:
		p.b.Warn("justification spelling", path+".justification", "justification %q read as %s", text.Cut(s.Justification, 60), justification)
	}

	when := p.docTime
	if strings.TrimSpace(s.Timestamp) != "" {
		when = p.when(path+".timestamp", s.Timestamp)
	}

	// The components: products and their subcomponents, and v0.0.1's statement subcomponents.
	var purls []string
	if k := rawjson.Kind(s.Products); k == "nothing" || k == "null" {
		p.b.Warn("no products", path+".products", "statement without products; no edge")
	}
	p.components(path+".products", s.Products, true, &purls)
	if k := rawjson.Kind(s.Subcomponents); k != "nothing" && k != "null" {
		p.legacy(path+".subcomponents", "the statement has subcomponents", "subcomponents of every product")
	}
	p.components(path+".subcomponents", s.Subcomponents, false, &purls)
	if len(purls) == 0 {
		return
	}

	if !p.b.Node(path+".vulnerability", graph.LabelVulnerability, id, map[string]any{
		"aliases": aliases, "summary": text.First(v.Description, s.VulnDescription),
	}) {
		return
	}
	for _, key := range purls {
		if !p.b.Node(path, graph.LabelComponent, key, nil) {
			continue
		}
		k := pair{id, key}
		prev, seen := p.affects[k]
		if seen && when.Before(prev.when) {
			continue // an earlier statement: the later one stands
		}
		if !seen {
			p.order = append(p.order, k)
		}
		p.affects[k] = &verdict{when, path, map[string]any{"status": status, "justification": justification}}
	}
}

// components reads a list of products or subcomponents: strings (v0.0.1) or objects, adding
// the purls it names. Products' own subcomponents are read too.
func (p *parser) components(path string, raw json.RawMessage, products bool, purls *[]string) {
	switch rawjson.Kind(raw) {
	case "nothing", "null":
		return
	case "array":
	default:
		p.b.Warn("bad products", path, "%s is a JSON %s, want an array; ignored", path[strings.LastIndexByte(path, '.')+1:], rawjson.Kind(raw))
		return
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return
	}
	for j, it := range items {
		at := fmt.Sprintf("%s[%d]", path, j)
		var c component
		if s, ok := rawjson.String(it); ok {
			c.ID = s
			p.legacy(at, "a string product", "its @id")
		} else if rawjson.Kind(it) != "object" || json.Unmarshal(it, &c) != nil {
			p.b.Warn("bad product", at, "a JSON %s, want an @id or an object with one; ignored", rawjson.Kind(it))
			continue
		}
		if key, ok := p.purlOf(at, &c); ok {
			*purls = append(*purls, key)
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
	if rawjson.Kind(c.Identifiers) == "object" {
		_ = json.Unmarshal(c.Identifiers, &ids)
	}
	cand, at := id, path+".@id"
	if !strings.HasPrefix(strings.ToLower(id), "pkg:") && strings.TrimSpace(ids.Purl) != "" {
		cand, at = strings.TrimSpace(ids.Purl), path+".identifiers.purl"
	}
	if cand == "" {
		p.b.Warn("no product id", path, "product without an @id or a purl; no edge")
		return "", false
	}
	if !strings.HasPrefix(strings.ToLower(cand), "pkg:") {
		p.b.Warn("not a purl", at, "%q is not a package URL (an image reference, CPE or other identifier); no edge", text.Cut(cand, 200))
		return "", false
	}
	key, err := purl.Normalize(cand)
	if err != nil {
		p.b.Warn("bad purl", at, "%q is not a readable package URL (%v); no edge", text.Cut(cand, 200), err)
		return "", false
	}
	return key, true
}

// normWord spells a status or justification the OpenVEX way (lower case, underscores); known is
// false when it was spelled otherwise.
func normWord(s string) (word string, known bool) {
	t := strings.TrimSpace(s)
	w := strings.ToLower(strings.NewReplacer("-", "_", " ", "_").Replace(t))
	return w, w == t
}
