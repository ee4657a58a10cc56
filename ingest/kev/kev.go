// Package kev reads CISA's Known Exploited Vulnerabilities catalogue (the JSON feed,
// https://www.cisa.gov/known-exploited-vulnerabilities-catalog) into an ingest.Document.
//
// Each entry is a Vulnerability keyed by its cveID (spelled CVE-YYYY-N…) with kev true, summary
// from shortDescription (else vulnerabilityName) and cwes when the entry lists them (the feed
// has had cwes since 2024). Only these properties are given: the catalogue is enrichment, and
// the graph keeps what it is not given, so severities and CVSS scores that scanners wrote stay.
package kev

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
)

const format = ingest.FormatKEV

type entry struct {
	CveID             string          `json:"cveID"`
	VulnerabilityName string          `json:"vulnerabilityName"`
	ShortDescription  string          `json:"shortDescription"`
	CWEs              json.RawMessage `json:"cwes"`
}

// Parse reads a KEV catalogue. Malformed JSON, and JSON that is not a KEV catalogue, fail with
// an *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	keys, err := topLevel(data)
	if err != nil {
		return nil, err
	}
	raw, ok := keys["vulnerabilities"]
	if !ok {
		return nil, notThisFormat(data, "a KEV catalogue has a vulnerabilities array, this document has none")
	}
	if _, ok := keys["catalogVersion"]; !ok {
		// Detect reads the whole document when it cannot decide early: only without the key that
		// says KEV.
		if f, err := ingest.Detect(data); err == nil && f != format {
			return nil, notThisFormat(data, "a KEV catalogue has a catalogVersion")
		}
	}
	if k := jsonKind(raw); k != "array" && k != "null" {
		return nil, &ingest.ParseError{Format: format, Path: "vulnerabilities", Msg: "vulnerabilities is a JSON " + k + ", want an array"}
	}
	b := newBuilder()
	doc := &ingest.Document{Format: format}
	if v, isStr := str(keys["catalogVersion"]); isStr && strings.TrimSpace(v) != "" {
		doc.Version = strings.TrimSpace(v)
	} else {
		b.warn("no catalog version", "catalogVersion", "no catalogVersion; read as a KEV catalogue for its vulnerabilities")
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, decodeError(data, 0, err)
	}
	doc.Counts.Vulnerabilities = len(entries)
	if c, ok := keys["count"]; ok {
		var n int
		if json.Unmarshal(c, &n) != nil || n != len(entries) {
			b.warn("count", "count", "count says %s, the catalogue lists %d vulnerabilities", clip(strings.TrimSpace(string(c)), 40), len(entries))
		}
	}
	seen := make(map[string]int, len(entries))
	for i, raw := range entries {
		path := fmt.Sprintf("vulnerabilities[%d]", i)
		var e entry
		if jsonKind(raw) != "object" || json.Unmarshal(raw, &e) != nil {
			b.warn("bad entry", path, "entry is not an object with string fields (a JSON %s); skipped", jsonKind(raw))
			continue
		}
		id := normVulnID(e.CveID)
		switch {
		case id == "":
			b.warn("no cve", path+".cveID", "entry without a cveID; skipped")
			continue
		case !cveID.MatchString(id):
			b.warn("not a cve", path+".cveID", "%q is not a CVE id; kept as the vulnerability's key", clip(id, 80))
		}
		if j, dup := seen[id]; dup {
			b.warn("duplicate", path+".cveID", "%s is listed again (first at vulnerabilities[%d]); merged", id, j)
		} else {
			seen[id] = i
		}
		summary := strings.TrimSpace(e.ShortDescription)
		if summary == "" {
			summary = strings.TrimSpace(e.VulnerabilityName)
		}
		var cwes []string
		switch jsonKind(e.CWEs) {
		case "nothing", "null":
		case "array", "string":
			cwes = b.cwes(path+".cwes", lenientStrings(e.CWEs))
		default:
			b.warn("bad cwe", path+".cwes", "cwes is a JSON %s, want an array; ignored", jsonKind(e.CWEs))
		}
		b.node(path, graph.LabelVulnerability, id, map[string]any{"kev": true, "summary": summary, "cwes": cwes})
	}
	doc.Batch = b.batch
	doc.Warnings = b.finish()
	return doc, nil
}

// lenientStrings reads a list of strings, or one string; other items are dropped.
func lenientStrings(raw json.RawMessage) []string {
	if s, ok := str(raw); ok {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []string
	for _, it := range items {
		if s, ok := str(it); ok && s != "" {
			out = append(out, s)
		}
	}
	return out
}
