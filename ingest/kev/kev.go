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
	"github.com/sectwin/sectwin/ingest/internal/cwe"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/text"
	"github.com/sectwin/sectwin/ingest/internal/vulnid"
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
	keys, err := rawjson.TopLevel(format, data)
	if err != nil {
		return nil, err
	}
	raw, ok := keys["vulnerabilities"]
	if !ok {
		return nil, rawjson.NotThisFormat(format, data, "a KEV catalogue has a vulnerabilities array, this document has none")
	}
	if _, ok := keys["catalogVersion"]; !ok {
		// Detect reads the whole document when it cannot decide early: only without the key that
		// says KEV.
		if f, err := ingest.Detect(data); err == nil && f != format {
			return nil, rawjson.NotThisFormat(format, data, "a KEV catalogue has a catalogVersion")
		}
	}
	if err := rawjson.CheckKind(format, keys, "vulnerabilities", "array"); err != nil {
		return nil, err
	}
	b := scanreport.NewBuilder()
	doc := &ingest.Document{Format: format}
	if v, _ := rawjson.String(keys["catalogVersion"]); strings.TrimSpace(v) != "" {
		doc.Version = strings.TrimSpace(v)
	} else {
		b.Warn("no catalog version", "catalogVersion", "no catalogVersion; read as a KEV catalogue for its vulnerabilities")
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, rawjson.DecodeError(format, data, err)
	}
	doc.Counts.Vulnerabilities = len(entries)
	if c, ok := keys["count"]; ok {
		var n int
		if json.Unmarshal(c, &n) != nil || n != len(entries) {
			b.Warn("count", "count", "count says %s, the catalogue lists %d vulnerabilities", text.Cut(strings.TrimSpace(string(c)), 40), len(entries))
		}
	}
	seen := make(map[string]int, len(entries))
	for i, raw := range entries {
		path := fmt.Sprintf("vulnerabilities[%d]", i)
		var e entry
		if rawjson.Kind(raw) != "object" || json.Unmarshal(raw, &e) != nil {
			b.Warn("bad entry", path, "entry is not an object with string fields (a JSON %s); skipped", rawjson.Kind(raw))
			continue
		}
		id := vulnid.Normalize(e.CveID)
		switch {
		case id == "":
			b.Warn("no cve", path+".cveID", "entry without a cveID; skipped")
			continue
		case !isCVE(id):
			b.Warn("not a cve", path+".cveID", "%q is not a CVE id; kept as the vulnerability's key", text.Cut(id, 80))
		}
		if j, dup := seen[id]; dup {
			b.Warn("duplicate", path+".cveID", "%s is listed again (first at vulnerabilities[%d]); merged", id, j)
		} else {
			seen[id] = i
		}
		summary := strings.TrimSpace(e.ShortDescription)
		if summary == "" {
			summary = strings.TrimSpace(e.VulnerabilityName)
		}
		var cwes []string
		switch rawjson.Kind(e.CWEs) {
		case "nothing", "null":
		case "array", "string":
			cwes = cwe.List(rawjson.Strings(e.CWEs), func(j int, s string) {
				b.Warn("bad cwe", fmt.Sprintf("%s.cwes[%d]", path, j), "%q is not a CWE id; ignored", text.Cut(s, 80))
			})
		default:
			b.Warn("bad cwe", path+".cwes", "cwes is a JSON %s, want an array; ignored", rawjson.Kind(e.CWEs))
		}
		b.Node(path, graph.LabelVulnerability, id, map[string]any{"kev": true, "summary": summary, "cwes": cwes})
	}
	b.Finish(doc)
	return doc, nil
}

// isCVE reports whether id, spelled by vulnid.Normalize, is a whole CVE id.
func isCVE(id string) bool {
	p, ok := vulnid.Prefix(id)
	return ok && p == id && strings.HasPrefix(id, "CVE-")
}
