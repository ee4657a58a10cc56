// Package cyclonedx reads CycloneDX JSON BOMs (SBOMs, VDRs and VEX documents) into an
// ingest.Document.
//
// # Versions
//
// specVersion 1.4, 1.5 and 1.6 are the target range and are read without comment. 1.7 is read
// as well (cyclonedx-go v0.12.0 models it; 1.7 only adds to 1.6) with a warning that it is
// outside the tested range; so are 1.2 and 1.3, the older JSON versions, and any later 1.x,
// which is read as 1.7. A number instead of a string, a third part ("1.6.0") or a missing
// specVersion are tolerated with a warning; a major version other than 1 is refused. A missing
// bomFormat is tolerated (with a warning) only when $schema names a CycloneDX schema.
//
// Each component, dependency and vulnerability is decoded member by member into cyclonedx-go's
// types, so a member that does not fit the schema costs that member (with a warning naming its
// path), not the entry or the document. Tolerated too, with a warning: a supplier given as a
// string, licenses given as strings, CWEs given as "CWE-79", analysis states in upper case or in
// OpenVEX's words (affected, fixed, under_investigation), a dependency or affects ref that is a
// component's purl instead of its bom-ref.
//
// # Mapping
//
//   - components, nested ones included (flattened), and the components nested under
//     metadata.component → Component nodes keyed by purl, normalised by packageurl-go. A
//     component without a purl, or with one packageurl-go refuses (warning), gets
//     pkg:generic/<group/name>@<version>; when that identity is taken, a bom-ref qualifier (or a
//     path qualifier) sets it apart, with a warning. Components sharing a purl are one node, their
//     properties merged. Props: name (group/name), version, type, hashes ("sha256:<hex>",
//     "sha1:<hex>"…), licenses (SPDX ids, names or expressions), supplier (supplier.name, else
//     publisher).
//   - metadata.component → Document.Subject: name, version, purl (its node key), digest (SHA-256
//     hash, else the sha256 version of an OCI purl, else trivy's RepoDigest or ImageID
//     property), type IMAGE for a container, PACKAGE for application, library, framework or
//     platform, otherwise the CycloneDX type in upper case. The subject is also a Component node
//     so that its dependency edges and the VEX statements about it have an endpoint; it is in
//     Document.Components only when components lists it too.
//   - dependencies[].ref → dependsOn[] → DEPENDS_ON edges through bom-ref → purl, direct=true
//     (CycloneDX declares direct dependencies), scope from the target's component scope
//     (required → runtime, optional → optional, excluded → excluded). Refs to services are
//     dropped; refs to nothing in the file are dropped with a warning; self-loops (two bom-refs
//     of one purl) are dropped.
//   - vulnerabilities → Vulnerability nodes keyed by id (else the first reference id, with a
//     warning): aliases from references[].id; summary from description, else detail, else the
//     first advisory title; cwes as "CWE-<n>"; cvssScore and cvssVector from the highest-scored
//     CVSS v3/v3.1/v4 rating, severity from that rating (from its score when it has none), else
//     the highest severity of any rating, else UNKNOWN (info → NONE).
//   - affects[].ref → AFFECTS edges: versionRange joins the ranges (or versions) of the affected
//     (or unstated) entries of versions[] with " || "; status from analysis.state (resolved,
//     resolved_with_pedigree → fixed; exploitable → affected; in_triage → under_investigation;
//     false_positive, not_affected → not_affected), without analysis "affected" unless every
//     version entry says unaffected; justification from analysis.justification (false_positive
//     without one → "false_positive"). A ref outside the file (a BOM-Link to another BOM, a
//     bom-ref this file does not define) keeps the vulnerability but makes no edge, with a
//     warning.
//   - services are out of scope: one warning says how many were ignored.
//
// Counts: Components counts every entry of components (nested ones and metadata.component's
// included), Relationships every dependsOn entry, Vulnerabilities every vulnerabilities entry.
package cyclonedx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/sbom"
	"github.com/sectwin/sectwin/ingest/internal/severity"
	"github.com/sectwin/sectwin/ingest/internal/text"
)

// rawBOM is the top level, each section kept raw so that one bad entry costs only itself.
type rawBOM struct {
	Schema          json.RawMessage `json:"$schema"`
	BOMFormat       json.RawMessage `json:"bomFormat"`
	SpecVersion     json.RawMessage `json:"specVersion"`
	SerialNumber    json.RawMessage `json:"serialNumber"`
	Metadata        json.RawMessage `json:"metadata"`
	Components      json.RawMessage `json:"components"`
	Services        json.RawMessage `json:"services"`
	Dependencies    json.RawMessage `json:"dependencies"`
	Vulnerabilities json.RawMessage `json:"vulnerabilities"`
}

// object is one JSON object, its members kept raw: each member is decoded on its own into its
// cyclonedx-go type, so that a member the schema does not expect costs only that member.
type object map[string]json.RawMessage

type rawService struct {
	BOMRef   string          `json:"bom-ref"`
	Services json.RawMessage `json:"services"`
}

// comp is one component as read: ID is its bom-ref, Type its CycloneDX type.
type comp struct {
	sbom.Component
	scope   string
	subject bool
	props   []cdx.Property
}

type parser struct {
	sbom.Reader
	b        *batch.Builder
	serial   string            // the BOM's serial number, without urn:uuid:
	comps    []*comp           // in document order, the subject first
	refs     map[string]string // bom-ref → component key
	services map[string]bool   // bom-refs of services
	keys     map[string]bool   // component keys taken
	scopes   map[string]string // component key → scope of edges to it
}

// Parse reads a CycloneDX JSON document. Malformed JSON and JSON that is not CycloneDX are a
// *ingest.ParseError; deviations whose meaning is clear are tolerated and listed as warnings.
func Parse(data []byte) (*ingest.Document, error) {
	var top rawBOM
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, sbom.RootError(ingest.FormatCycloneDX, "not a CycloneDX BOM", data, err)
	}
	p := &parser{
		Reader:   sbom.Reader{Doc: &ingest.Document{Format: ingest.FormatCycloneDX}},
		b:        batch.New(),
		refs:     map[string]string{},
		services: map[string]bool{},
		scopes:   map[string]string{},
	}
	if err := p.header(top); err != nil {
		return nil, err
	}
	if s, ok := rawjson.String(top.SerialNumber); ok {
		p.serial = strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "urn:uuid:")
	}

	// Components: read all first, so that pkg:generic identities avoid every real purl.
	p.metadata(top.Metadata)
	for i, r := range p.Array(top.Components, "components") {
		p.readComponent(r, fmt.Sprintf("components[%d]", i))
	}
	p.readServices(top.Services)
	p.assignKeys()

	p.dependencies(top.Dependencies)
	p.vulnerabilities(top.Vulnerabilities)

	p.Doc.Batch = p.b.Batch()
	if err := p.Doc.Batch.Validate(); err != nil {
		// A bug, not the document's fault: never hand on a batch graph would refuse.
		return nil, fmt.Errorf("cyclonedx: internal error: the batch fails validation: %w", err)
	}
	return p.Doc, nil
}

// header checks bomFormat and specVersion.
func (p *parser) header(top rawBOM) error {
	format, ok := rawjson.String(top.BOMFormat)
	switch {
	case !ok || format == "":
		schema, _ := rawjson.String(top.Schema)
		if !strings.Contains(strings.ToLower(schema), "cyclonedx") {
			return &ingest.ParseError{Format: ingest.FormatCycloneDX, Path: "bomFormat",
				Msg: "not a CycloneDX BOM: bomFormat is missing"}
		}
		p.Warn("bomFormat", "missing; read as CycloneDX because $schema names a CycloneDX schema")
	case format == "CycloneDX":
	case strings.EqualFold(format, "CycloneDX"):
		p.Warn("bomFormat", fmt.Sprintf("%q should be spelled \"CycloneDX\"", format))
	default:
		return &ingest.ParseError{Format: ingest.FormatCycloneDX, Path: "bomFormat",
			Msg: fmt.Sprintf("not a CycloneDX BOM: bomFormat is %q", text.Cut(format, 100))}
	}

	v, isString := rawjson.String(top.SpecVersion)
	if !isString && len(top.SpecVersion) > 0 && !rawjson.IsNull(top.SpecVersion) {
		v = string(bytes.TrimSpace(top.SpecVersion))
		p.Warn("specVersion", "should be a string")
	}
	v = strings.TrimSpace(v)
	if v == "" {
		p.Warn("specVersion", "missing; read as 1.6")
		return nil
	}
	p.Doc.Version = text.Cut(text.Clean(v), 20)
	major, minor, ok := versionNumbers(v)
	if !ok || major != 1 {
		return &ingest.ParseError{Format: ingest.FormatCycloneDX, Path: "specVersion",
			Msg: fmt.Sprintf("unsupported specVersion %q: this parser reads CycloneDX 1.x", text.Cut(v, 20))}
	}
	canonical := fmt.Sprintf("1.%d", minor)
	if v != canonical {
		p.Warn("specVersion", fmt.Sprintf("%q should read %q", text.Cut(v, 20), canonical))
	}
	var sv cdx.SpecVersion
	if err := sv.UnmarshalJSON([]byte(strconv.Quote(canonical))); err != nil {
		p.Warn("specVersion", canonical+" is newer than any version this parser knows; read as 1.7")
		return nil
	}
	switch {
	case sv >= cdx.SpecVersion1_4 && sv <= cdx.SpecVersion1_6:
	case sv == cdx.SpecVersion1_7:
		p.Warn("specVersion", "1.7 is outside the tested 1.4–1.6 range; read with cyclonedx-go's 1.7 model")
	default:
		p.Warn("specVersion", canonical+" is older than 1.4, the oldest version this parser is tested against")
	}
	return nil
}

// versionNumbers reads the major and minor numbers of a version such as "1.6" or "1.6.0".
func versionNumbers(v string) (major, minor int, ok bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil || major < 0 || minor < 0 || minor > 1000 {
		return 0, 0, false
	}
	return major, minor, true
}

func (p *parser) metadata(raw json.RawMessage) {
	if len(raw) == 0 || rawjson.IsNull(raw) {
		return
	}
	var md struct {
		Component json.RawMessage `json:"component"`
		Tools     json.RawMessage `json:"tools"`
	}
	if err := json.Unmarshal(raw, &md); err != nil {
		p.Warn("metadata", "not an object; ignored")
		return
	}
	p.Doc.Tool = toolName(md.Tools)
	if len(md.Component) == 0 || rawjson.IsNull(md.Component) {
		return
	}
	c, nested, ok := p.decodeComponent(md.Component, "metadata.component")
	if !ok {
		return
	}
	c.subject = true
	p.comps = append(p.comps, c)
	for i, r := range p.Array(nested, "metadata.component.components") {
		p.readComponent(r, fmt.Sprintf("metadata.component.components[%d]", i))
	}
}

// maxToolName bounds the tool's name, in bytes.
const maxToolName = 200

// toolName is the name of the first tool of metadata.tools: an array of tools (1.4, deprecated
// since 1.5) or an object of components and services (1.5 on); "" when there is none. A BOM says
// nothing of the age of a tool's advisory data.
func toolName(raw json.RawMessage) string {
	switch rawjson.Kind(raw) {
	case "array":
		return firstName(raw)
	case "object":
		var t struct {
			Components json.RawMessage `json:"components"`
			Services   json.RawMessage `json:"services"`
		}
		if json.Unmarshal(raw, &t) != nil {
			return ""
		}
		return text.First(firstName(t.Components), firstName(t.Services))
	}
	return ""
}

// firstName is the first name of an array of objects with names.
func firstName(raw json.RawMessage) string {
	var items []json.RawMessage
	if rawjson.Kind(raw) != "array" || json.Unmarshal(raw, &items) != nil {
		return ""
	}
	for _, it := range items {
		var x struct {
			Name json.RawMessage `json:"name"`
		}
		if !rawjson.IsObject(it) || json.Unmarshal(it, &x) != nil {
			continue
		}
		if n, _ := rawjson.String(x.Name); text.Clean(n) != "" {
			return text.Cut(text.Clean(n), maxToolName)
		}
	}
	return ""
}

// readComponent reads one entry of a components array and, depth first, its nested ones.
func (p *parser) readComponent(raw json.RawMessage, path string) {
	p.Doc.Counts.Components++
	c, nested, ok := p.decodeComponent(raw, path)
	if !ok {
		return
	}
	p.comps = append(p.comps, c)
	for i, r := range p.Array(nested, path+".components") {
		p.readComponent(r, fmt.Sprintf("%s.components[%d]", path, i))
	}
}

func (p *parser) decodeComponent(raw json.RawMessage, path string) (*comp, json.RawMessage, bool) {
	obj, ok := p.object(raw, path)
	if !ok {
		return nil, nil, false
	}
	var (
		ref, name, group, version, purlStr, publisher string
		typ                                           cdx.ComponentType
		scope                                         cdx.Scope
		hashes                                        []cdx.Hash
		licenses                                      []json.RawMessage
		supplier                                      cdx.OrganizationalEntity
		props                                         []cdx.Property
	)
	p.field(obj, "bom-ref", path, &ref)
	p.field(obj, "type", path, &typ)
	p.field(obj, "group", path, &group)
	p.field(obj, "name", path, &name)
	p.field(obj, "version", path, &version)
	p.field(obj, "purl", path, &purlStr)
	p.field(obj, "scope", path, &scope)
	p.field(obj, "hashes", path, &hashes)
	p.field(obj, "licenses", path, &licenses)
	if raw := obj["supplier"]; len(raw) > 0 && raw[0] == '"' {
		// A supplier given by name alone: clear enough.
		p.Warn(path+".supplier", "should be an object with a name")
		p.field(obj, "supplier", path, &supplier.Name)
	} else {
		p.field(obj, "supplier", path, &supplier)
	}
	p.field(obj, "publisher", path, &publisher)
	p.field(obj, "properties", path, &props)
	c := &comp{
		Component: sbom.Component{
			Path:    path,
			ID:      strings.TrimSpace(ref),
			Name:    text.Clean(name),
			Version: text.Cut(text.Clean(version), 1024),
			Type:    text.Cut(text.Clean(string(typ)), 100),
		},
		scope: text.Clean(string(scope)),
		props: props,
	}
	if g := text.Clean(group); g != "" && c.Name != "" {
		c.Name = g + "/" + c.Name
	}
	c.Name = text.Cut(c.Name, 4096)
	if c.Name == "" {
		p.Warn(path+".name", "missing")
	}
	if s := strings.TrimSpace(purlStr); s != "" {
		n, err := purl.Normalize(s)
		if err != nil {
			p.Warn(path+".purl", fmt.Sprintf("unparsable purl %q (%v); identified as pkg:generic", text.Cut(s, 200), err))
		}
		c.Purl = n
	}
	for j, h := range hashes {
		if s := sbom.Hash(string(h.Algorithm), h.Value); s != "" {
			c.Hashes = batch.AppendUnique(c.Hashes, s)
		} else {
			p.Warn(fmt.Sprintf("%s.hashes[%d]", path, j), "not a hex digest; ignored")
		}
	}
	for j, raw := range licenses {
		var l cdx.LicenseChoice
		var id string
		if json.Unmarshal(raw, &id) == nil {
			// A bare string: an SPDX id or expression, clear enough.
			p.Warn(fmt.Sprintf("%s.licenses[%d]", path, j), "should be an object with a license or an expression")
			l.Expression = id
		} else if err := json.Unmarshal(raw, &l); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				p.Warn(fmt.Sprintf("%s.licenses[%d]", path, j), "not a license; ignored")
				continue
			}
			p.TypeWarning(fmt.Sprintf("%s.licenses[%d]", path, j), te)
		}
		switch {
		case l.License != nil && text.Clean(l.License.ID) != "":
			c.Licenses = batch.AppendUnique(c.Licenses, text.Cut(text.Clean(l.License.ID), 1024))
		case l.License != nil && text.Clean(l.License.Name) != "":
			c.Licenses = batch.AppendUnique(c.Licenses, text.Cut(text.Clean(l.License.Name), 1024))
		case text.Clean(l.Expression) != "":
			c.Licenses = batch.AppendUnique(c.Licenses, text.Cut(text.Clean(l.Expression), 4096))
		}
	}
	c.Supplier = text.Clean(supplier.Name)
	if c.Supplier == "" {
		c.Supplier = text.Clean(publisher)
	}
	c.Supplier = text.Cut(c.Supplier, 1024)
	return c, obj["components"], true
}

// object reads a JSON object into its raw members, warning when the value is something else.
func (p *parser) object(raw json.RawMessage, path string) (object, bool) {
	var obj object
	if !rawjson.IsObject(raw) || json.Unmarshal(raw, &obj) != nil {
		p.Warn(path, "not an object; skipped")
		return nil, false
	}
	return obj, true
}

// field decodes the member name of obj into dst, warning when it does not fit. A member that
// is absent or null leaves dst alone; one that fits in part (a type mismatch deeper down) is
// kept as far as it fits.
func (p *parser) field(obj object, name, path string, dst any) bool {
	raw, ok := obj[name]
	if !ok || rawjson.IsNull(raw) {
		return false
	}
	err := json.Unmarshal(raw, dst)
	if err == nil {
		return true
	}
	path += "." + name
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		p.TypeWarning(path, te)
		return true
	}
	p.Warn(path, fmt.Sprintf("cannot be read (%v); ignored", err))
	return false
}

func (p *parser) readServices(raw json.RawMessage) {
	n := p.collectServices(raw, "services")
	if n > 0 {
		p.Warn("services", fmt.Sprintf("%d services ignored: services are out of scope for this parser", n))
	}
}

func (p *parser) collectServices(raw json.RawMessage, path string) int {
	n := 0
	for i, r := range p.Array(raw, path) {
		n++
		var s rawService
		if json.Unmarshal(r, &s) != nil {
			continue
		}
		if ref := strings.TrimSpace(s.BOMRef); ref != "" {
			p.services[ref] = true
		}
		n += p.collectServices(s.Services, fmt.Sprintf("%s[%d].services", path, i))
	}
	return n
}

// assignKeys gives every component its key (sbom.Reader.Keys) and adds the Component nodes.
func (p *parser) assignKeys() {
	comps := make([]*sbom.Component, len(p.comps))
	for i, c := range p.comps {
		comps[i] = &c.Component
	}
	p.keys = p.Keys(comps, "bom-ref", "component")
	for _, c := range p.comps {
		if c.ID != "" {
			if k, dup := p.refs[c.ID]; dup && k != c.Key {
				p.Warn(c.Path+".bom-ref", fmt.Sprintf("%q is also the bom-ref of an earlier component; references go to the first", text.Cut(c.ID, 200)))
			} else if !dup {
				p.refs[c.ID] = c.Key
			}
		}
		p.b.Node(graph.LabelComponent, c.Key, c.Props())
		if s := edgeScope(c.scope); s != "" {
			if _, ok := p.scopes[c.Key]; !ok {
				p.scopes[c.Key] = s
			}
		}
		if c.subject {
			p.subject(c)
			continue
		}
		p.ListComponent(c.Key)
	}
}

// subject makes the subject component the document's Subject; without a digest of its own, it
// takes trivy's RepoDigest or ImageID property.
func (p *parser) subject(c *comp) {
	s := c.Subject()
	for _, name := range []string{"aquasecurity:trivy:RepoDigest", "aquasecurity:trivy:ImageID"} {
		for _, pr := range c.props {
			if s.Digest == "" && pr.Name == name {
				v := pr.Value
				if i := strings.LastIndexByte(v, '@'); i >= 0 {
					v = v[i+1:]
				}
				s.Digest = purl.Digest("sha256", strings.TrimPrefix(strings.ToLower(strings.TrimSpace(v)), "sha256:"))
			}
		}
	}
	p.Doc.Subject = s
}

func edgeScope(s string) string {
	switch s {
	case "required":
		return "runtime"
	case "optional":
		return "optional"
	case "excluded":
		return "excluded"
	}
	return ""
}

func (p *parser) dependencies(raw json.RawMessage) {
	for i, r := range p.Array(raw, "dependencies") {
		path := fmt.Sprintf("dependencies[%d]", i)
		var d cdx.Dependency
		if !p.Entry(r, path, &d) {
			continue
		}
		var deps []string
		if d.Dependencies != nil {
			deps = *d.Dependencies
		}
		p.Doc.Counts.Relationships += len(deps)
		from, ok := p.resolve(d.Ref, path+".ref")
		if !ok {
			continue
		}
		for j, dep := range deps {
			to, ok := p.resolve(dep, fmt.Sprintf("%s.dependsOn[%d]", path, j))
			if !ok || to == from {
				continue
			}
			props := map[string]any{"direct": true}
			if s := p.scopes[to]; s != "" {
				props["scope"] = s
			}
			p.b.Edge("DEPENDS_ON", graph.NodeRef{Label: graph.LabelComponent, Key: from},
				graph.NodeRef{Label: graph.LabelComponent, Key: to}, props)
		}
	}
}

// resolve maps a reference to a component key. References to services, to other BOMs and to
// nothing in the file resolve to nothing; the last two with a warning.
func (p *parser) resolve(ref, path string) (string, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		p.Warn(path, "empty reference")
		return "", false
	}
	if k, ok := p.refs[ref]; ok {
		return k, true
	}
	if p.services[ref] {
		return "", false
	}
	if strings.HasPrefix(strings.ToLower(ref), "urn:cdx:") {
		link, err := cdx.ParseBOMLink(ref)
		if err == nil && p.serial != "" && strings.TrimPrefix(link.SerialNumber(), "urn:uuid:") == p.serial &&
			link.Reference() != "" && !strings.HasPrefix(strings.ToLower(link.Reference()), "urn:cdx:") {
			return p.resolve(link.Reference(), path)
		}
		p.Warn(path, fmt.Sprintf("BOM-Link %q points outside this BOM; no edge", text.Cut(ref, 200)))
		return "", false
	}
	if n, err := purl.Normalize(ref); err == nil && p.keys[n] {
		p.Warn(path, fmt.Sprintf("%q is a purl, not a bom-ref; matched to the component with that purl", text.Cut(ref, 200)))
		return n, true
	}
	p.Warn(path, fmt.Sprintf("%q is not the bom-ref of any component in this BOM; no edge", text.Cut(ref, 200)))
	return "", false
}

func (p *parser) vulnerabilities(raw json.RawMessage) {
	for i, r := range p.Array(raw, "vulnerabilities") {
		p.Doc.Counts.Vulnerabilities++
		p.vulnerability(r, fmt.Sprintf("vulnerabilities[%d]", i))
	}
}

func (p *parser) vulnerability(raw json.RawMessage, path string) {
	obj, ok := p.object(raw, path)
	if !ok {
		return
	}
	var (
		v    cdx.Vulnerability
		refs []string
	)
	p.field(obj, "id", path, &v.ID)
	p.field(obj, "references", path, &v.References)
	p.field(obj, "ratings", path, &v.Ratings)
	p.field(obj, "description", path, &v.Description)
	p.field(obj, "detail", path, &v.Detail)
	p.field(obj, "advisories", path, &v.Advisories)
	p.field(obj, "analysis", path, &v.Analysis)
	p.field(obj, "affects", path, &v.Affects)
	if v.References != nil {
		for _, r := range *v.References {
			refs = batch.AppendUnique(refs, text.Cut(text.Clean(r.ID), 256))
		}
	}
	id := text.Clean(v.ID)
	if id == "" {
		if len(refs) == 0 {
			p.Warn(path+".id", "missing, and no reference id to stand for it; skipped")
			return
		}
		id = refs[0]
		p.Warn(path+".id", fmt.Sprintf("missing; identified by its first reference id %s", id))
	}
	if len(id) > 256 {
		p.Warn(path+".id", "longer than 256 bytes; skipped")
		return
	}
	props := map[string]any{}
	var aliases []string
	for _, r := range refs {
		if r != id {
			aliases = batch.AppendUnique(aliases, r)
		}
	}
	if len(aliases) > 0 {
		props["aliases"] = aliases
	}
	summary := text.Clean(v.Description)
	if summary == "" {
		summary = text.Clean(v.Detail)
	}
	if summary == "" && v.Advisories != nil {
		for _, a := range *v.Advisories {
			if summary = text.Clean(a.Title); summary != "" {
				break
			}
		}
	}
	sbom.SetString(props, "summary", text.Cut(summary, batch.MaxStringLen))
	if cwes := p.cwes(obj["cwes"], path+".cwes"); len(cwes) > 0 {
		props["cwes"] = cwes
	}
	p.ratings(v.Ratings, path, props)
	p.b.Node(graph.LabelVulnerability, id, props)

	if v.Affects == nil {
		return
	}
	status, justification := p.analysis(v.Analysis, path+".analysis")
	for j, a := range *v.Affects {
		ap := fmt.Sprintf("%s.affects[%d]", path, j)
		key, ok := p.resolve(a.Ref, ap+".ref")
		if !ok {
			continue
		}
		ep := map[string]any{}
		var ranges []string
		st := status
		unaffected, n := 0, 0
		if a.Range != nil {
			for _, r := range *a.Range {
				n++
				switch r.Status {
				case cdx.VulnerabilityStatusAffected, "":
					if s := text.Clean(r.Range); s != "" {
						ranges = batch.AppendUnique(ranges, s)
					} else if s := text.Clean(r.Version); s != "" {
						ranges = batch.AppendUnique(ranges, s)
					}
				case cdx.VulnerabilityStatusNotAffected:
					unaffected++
				}
			}
		}
		if st == "" {
			st = "affected"
			if n > 0 && unaffected == n {
				st = "not_affected"
			}
		}
		ep["status"] = st
		sbom.SetString(ep, "versionRange", text.Cut(strings.Join(ranges, " || "), batch.MaxStringLen))
		sbom.SetString(ep, "justification", justification)
		p.b.Edge("AFFECTS", graph.NodeRef{Label: graph.LabelVulnerability, Key: id},
			graph.NodeRef{Label: graph.LabelComponent, Key: key}, ep)
	}
}

// ratings sets cvssScore, cvssVector and severity.
func (p *parser) ratings(ratings *[]cdx.VulnerabilityRating, path string, props map[string]any) {
	if ratings == nil {
		props["severity"] = severity.Unknown
		return
	}
	var best *cdx.VulnerabilityRating
	worst := ""
	for i := range *ratings {
		r := &(*ratings)[i]
		if sev := ratingSeverity(r.Severity); severity.Rank(sev) > severity.Rank(worst) {
			worst = sev
		}
		if r.Score == nil || !cvss3or4(r) {
			continue
		}
		if *r.Score < 0 || *r.Score > 10 {
			p.Warn(fmt.Sprintf("%s.ratings[%d].score", path, i), "outside 0–10; ignored")
			continue
		}
		if best == nil || *r.Score > *best.Score {
			best = r
		}
	}
	if best == nil {
		if worst == "" {
			worst = severity.Unknown
		}
		props["severity"] = worst
		return
	}
	props["cvssScore"] = *best.Score
	sbom.SetString(props, "cvssVector", text.Cut(text.Clean(best.Vector), 1024))
	sev := ratingSeverity(best.Severity)
	if sev == "" || sev == severity.Unknown {
		sev, _ = severity.FromCVSS(*best.Score) // within 0–10: checked above
	}
	props["severity"] = sev
}

func cvss3or4(r *cdx.VulnerabilityRating) bool {
	switch r.Method {
	case cdx.ScoringMethodCVSSv3, cdx.ScoringMethodCVSSv31, cdx.ScoringMethodCVSSv4, "CVSSv40":
		return true
	case "":
		v := strings.TrimSpace(r.Vector)
		return strings.HasPrefix(v, "CVSS:3.") || strings.HasPrefix(v, "CVSS:4.")
	}
	return false
}

// ratingSeverity maps the severity of a CycloneDX rating onto the model's; "" for none or a
// word CycloneDX does not define.
func ratingSeverity(s cdx.Severity) string {
	switch strings.ToLower(strings.TrimSpace(string(s))) {
	case "critical":
		return severity.Critical
	case "high":
		return severity.High
	case "medium", "moderate":
		return severity.Medium
	case "low":
		return severity.Low
	case "info", "none":
		return severity.None
	case "unknown":
		return severity.Unknown
	}
	return ""
}

// cwes reads CWE numbers; strings such as "CWE-79" or "79" are tolerated.
func (p *parser) cwes(raw json.RawMessage, path string) []string {
	var out []string
	for i, r := range p.Array(raw, path) {
		var n int64
		if err := json.Unmarshal(r, &n); err == nil {
			if n > 0 {
				out = batch.AppendUnique(out, fmt.Sprintf("CWE-%d", n))
			}
			continue
		}
		var s string
		if err := json.Unmarshal(r, &s); err == nil {
			digits := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "CWE-")
			if n, err := strconv.ParseInt(digits, 10, 64); err == nil && n > 0 {
				p.Warn(fmt.Sprintf("%s[%d]", path, i), "a CWE should be a number")
				out = batch.AppendUnique(out, fmt.Sprintf("CWE-%d", n))
				continue
			}
		}
		p.Warn(fmt.Sprintf("%s[%d]", path, i), "not a CWE number; ignored")
	}
	return out
}

// analysis maps a VEX analysis to an AFFECTS status and justification.
func (p *parser) analysis(a *cdx.VulnerabilityAnalysis, path string) (status, justification string) {
	if a == nil {
		return "", ""
	}
	justification = text.Cut(text.Clean(string(a.Justification)), 256)
	state := strings.TrimSpace(string(a.State))
	if l := strings.ToLower(state); l != state {
		p.Warn(path+".state", fmt.Sprintf("%q should be lower case", text.Cut(state, 100)))
		state = l
	}
	switch state {
	case "":
	case string(cdx.IASResolved), string(cdx.IASResolvedWithPedigree):
		status = "fixed"
	case string(cdx.IASExploitable):
		status = "affected"
	case string(cdx.IASInTriage):
		status = "under_investigation"
	case string(cdx.IASFalsePositive):
		status = "not_affected"
		if justification == "" {
			justification = "false_positive"
		}
	case string(cdx.IASNotAffected):
		status = "not_affected"
	case "affected", "fixed", "under_investigation":
		// OpenVEX's words for CycloneDX's states: clear enough.
		p.Warn(path+".state", fmt.Sprintf("%q is not a CycloneDX state; read as the VEX status it names", state))
		status = state
	default:
		p.Warn(path+".state", fmt.Sprintf("unknown state %q; read as under_investigation", text.Cut(state, 100)))
		status = "under_investigation"
	}
	return status, justification
}
