// Package attack reads MITRE ATT&CK STIX 2.1 bundles (Enterprise, ICS and Mobile, as
// mitre-attack/attack-stix-data publishes them) into an ingest.Document.
//
// Each current attack-pattern object is a Threat keyed by its ATT&CK id: the external_id of its
// external reference from mitre-attack, mitre-ics-attack or mitre-mobile-attack (T1190,
// T1078.004, T0800), with name, tactics (the phase_name of its ATT&CK kill_chain_phases:
// initial-access, lateral-movement…) and url (that reference's). Revoked and deprecated
// attack-patterns are skipped, and counted in one warning. Mitigations (course-of-action
// objects) are ignored with one warning: the model has no Mitigation label yet. Other objects
// (relationships, groups, software, tactics, data sources…) are ignored.
//
// Bundles are several megabytes: the objects array is decoded one object at a time, each into
// the few fields read, so that memory stays proportional to one object and the output.
package attack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/scanreport"
	"github.com/sectwin/sectwin/ingest/internal/text"
)

const format = ingest.FormatATTACK

// attackSources are the external reference sources that carry ATT&CK ids.
var attackSources = map[string]bool{"mitre-attack": true, "mitre-ics-attack": true, "mitre-mobile-attack": true}

var techniqueID = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)

type object struct {
	Type               string `json:"type"`
	SpecVersion        string `json:"spec_version"`
	Name               string `json:"name"`
	Revoked            bool   `json:"revoked"`
	Deprecated         bool   `json:"x_mitre_deprecated"`
	ExternalReferences []struct {
		SourceName string `json:"source_name"`
		ExternalID string `json:"external_id"`
		URL        string `json:"url"`
	} `json:"external_references"`
	KillChainPhases []struct {
		KillChainName string `json:"kill_chain_name"`
		PhaseName     string `json:"phase_name"`
	} `json:"kill_chain_phases"`
}

// Parse reads an ATT&CK STIX 2.1 bundle. Malformed JSON, and JSON that is not a STIX bundle,
// fail with an *ingest.ParseError.
func Parse(data []byte) (*ingest.Document, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &ingest.ParseError{Format: format, Msg: "empty document"}
	}
	p := &parser{b: scanreport.NewBuilder(), doc: &ingest.Document{Format: format}, data: data}
	if err := p.bundle(json.NewDecoder(bytes.NewReader(data))); err != nil {
		return nil, err
	}
	if p.revoked+p.deprecated > 0 {
		p.b.Warn("revoked", "objects", "%d attack-patterns revoked or deprecated (%d revoked, %d deprecated); skipped",
			p.revoked+p.deprecated, p.revoked, p.deprecated)
	}
	if p.mitigations > 0 {
		p.b.Warn("mitigations", "objects", "%d course-of-action objects (mitigations) ignored: the model has no Mitigation label yet", p.mitigations)
	}
	p.b.Finish(p.doc)
	return p.doc, nil
}

type parser struct {
	b    *scanreport.Builder
	doc  *ingest.Document
	data []byte

	revoked, deprecated, mitigations int
	firstAt                          map[string]int // technique id → the object that first named it
}

// bundle walks the top-level object, decoding objects[] one at a time.
func (p *parser) bundle(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return p.syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &ingest.ParseError{Format: format, Line: 1, Column: 1, Msg: fmt.Sprintf("the document is %s, want a STIX bundle object", describeToken(tok))}
	}
	var bundleType, specVersion string
	hasType, hasObjects := false, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return p.syntax(err)
		}
		key, _ := tok.(string)
		switch key {
		case "objects":
			hasObjects = true
			if err := p.objects(dec); err != nil {
				return err
			}
		case "type", "spec_version":
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return p.syntax(err)
			}
			s, isStr := rawjson.String(raw)
			if !isStr {
				return &ingest.ParseError{Format: format, Path: key, Msg: fmt.Sprintf("%s is a JSON %s, want a string", key, rawjson.Kind(raw))}
			}
			if key == "type" {
				bundleType, hasType = strings.TrimSpace(s), true
			} else {
				specVersion = strings.TrimSpace(s)
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return p.syntax(err)
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return p.syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return p.syntax(errors.New("data after the bundle"))
	}
	switch {
	case !hasObjects:
		return rawjson.NotThisFormat(format, p.data, "a STIX bundle has an objects array, this document has none")
	case hasType && bundleType != "bundle":
		return rawjson.NotThisFormat(format, p.data, fmt.Sprintf("a STIX bundle has type bundle, this document's type is %q", text.Cut(bundleType, 40)))
	case !hasType:
		p.b.Warn("no type", "type", "no type; read as a STIX bundle for its objects")
	}
	if specVersion != "" {
		p.doc.Version = specVersion
	}
	return nil
}

// objects reads the objects array.
func (p *parser) objects(dec *json.Decoder) error {
	tok, err := dec.Token()
	if err != nil {
		return p.syntax(err)
	}
	if tok == nil {
		return nil // null
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return &ingest.ParseError{Format: format, Path: "objects", Msg: fmt.Sprintf("objects is %s, want an array", describeToken(tok))}
	}
	for i := 0; dec.More(); i++ {
		// Decoded straight into the few fields read: unknown fields are skipped as they are
		// scanned. A field of the wrong type spoils only its object.
		var o object
		if err := dec.Decode(&o); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				return p.syntax(err)
			}
			path := fmt.Sprintf("objects[%d]", i)
			if te.Field != "" {
				path += "." + te.Field
			}
			p.b.Warn("bad object", path, "a JSON %s where STIX wants %s; object skipped", te.Value, rawjson.TypeName(te.Type))
			continue
		}
		p.object(i, &o)
	}
	if _, err := dec.Token(); err != nil { // ]
		return p.syntax(err)
	}
	return nil
}

// object reads one STIX object.
func (p *parser) object(i int, o *object) {
	path := fmt.Sprintf("objects[%d]", i)
	if p.doc.Version == "" {
		p.doc.Version = strings.TrimSpace(o.SpecVersion)
	}
	switch o.Type {
	case "attack-pattern":
	case "course-of-action":
		p.mitigations++
		return
	default:
		return
	}
	switch {
	case o.Revoked:
		p.revoked++
		return
	case o.Deprecated:
		p.deprecated++
		return
	}
	p.doc.Counts.Results++
	id, url, refAt := "", "", -1
	for j, r := range o.ExternalReferences {
		if attackSources[strings.TrimSpace(r.SourceName)] && strings.TrimSpace(r.ExternalID) != "" {
			id, url, refAt = strings.ToUpper(strings.TrimSpace(r.ExternalID)), strings.TrimSpace(r.URL), j
			break
		}
	}
	if id == "" {
		p.b.Warn("no technique id", path+".external_references", "attack-pattern %q without an ATT&CK id (external_id from mitre-attack, mitre-ics-attack or mitre-mobile-attack); skipped", text.Cut(o.Name, 80))
		return
	}
	if !techniqueID.MatchString(id) {
		p.b.Warn("technique id", fmt.Sprintf("%s.external_references[%d].external_id", path, refAt), "%q is not a technique id (T1234 or T1234.001); kept", text.Cut(id, 40))
	}
	var tactics []string
	for _, k := range o.KillChainPhases {
		if strings.HasPrefix(strings.TrimSpace(k.KillChainName), "mitre-") {
			tactics = append(tactics, strings.TrimSpace(k.PhaseName))
		}
	}
	if p.firstAt == nil {
		p.firstAt = map[string]int{}
	}
	if j, dup := p.firstAt[id]; dup {
		p.b.Warn("duplicate", path, "%s is also objects[%d]; merged", id, j)
	} else {
		p.firstAt[id] = i
	}
	p.b.Node(path, graph.LabelThreat, id, map[string]any{"name": strings.TrimSpace(o.Name), "tactics": tactics, "url": url})
}

// syntax turns a decoding error into a *ingest.ParseError. The streaming decoder's offsets are
// relative to the value it was reading, so the document is checked again to locate the error.
func (p *parser) syntax(err error) error {
	var raw json.RawMessage
	if uerr := json.Unmarshal(p.data, &raw); uerr != nil {
		return rawjson.DecodeError(format, p.data, uerr)
	}
	return &ingest.ParseError{Format: format, Msg: "malformed JSON: " + err.Error()}
}

// describeToken names a JSON token: "a JSON array", "a JSON string"…
func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "a JSON array"
		}
		return "a JSON object"
	case string:
		return "a JSON string"
	case bool:
		return "a JSON boolean"
	case nil:
		return "JSON null"
	}
	return "a JSON number"
}
