// Package spdx reads SPDX 2.2 and 2.3 JSON documents into an ingest.Document.
//
// # Versions
//
// SPDX-2.2 and SPDX-2.3 are read without comment; SPDX-2.0 and 2.1 (never official JSON) and
// later 2.x are read with a warning, as is a version without its "SPDX-" prefix. SPDX 3 (JSON-LD)
// is refused with a *ingest.ParseError, as is JSON without spdxVersion — unless its SPDXID is
// SPDXRef-DOCUMENT, which is read with a warning.
//
// The element identifiers, checksums, suppliers and relationship vocabulary come from
// tools-golang's spdx/v2/common package. Its v2_2 and v2_3 document models are not used: they
// pull in github.com/anchore/go-struct-converter, which go.sum does not list, and they refuse a
// whole document over one malformed identifier or supplier, where this parser warns and goes on.
//
// # Mapping
//
//   - packages → Component nodes keyed by the first purl of externalRefs (referenceType purl,
//     category PACKAGE-MANAGER or PACKAGE_MANAGER), normalised by packageurl-go. A package
//     without one, or whose purl packageurl-go refuses (warning), gets pkg:generic/<name>@<version>
//     (version left out when NOASSERTION or NONE); when that identity is taken, an spdxid
//     qualifier (or a path qualifier) sets it apart, with a warning. Packages sharing a purl are
//     one node, their properties merged. Props: name, version (versionInfo), type
//     (primaryPackagePurpose in lower case), hashes from checksums ("sha256:<hex>",
//     "sha1:<hex>"…), licenses from licenseConcluded and licenseDeclared (NOASSERTION and NONE
//     skipped), supplier (the name after "Person:" or "Organization:").
//   - DESCRIBES (and DESCRIBED_BY, and documentDescribes) → Document.Subject: the first described
//     package (name, version, purl = its node key, digest from its SHA256 checksum or an OCI
//     purl, type IMAGE for a CONTAINER, PACKAGE for no purpose or application, library,
//     framework, platform, otherwise the purpose in upper case); when no package is described,
//     the document itself (its name, no type). Describing several packages is warned about.
//   - relationships between two packages → DEPENDS_ON edges, direct=true:
//     A DEPENDS_ON B → A→B; A DEPENDENCY_OF B → B→A; A {DEV,TEST,BUILD,OPTIONAL,PROVIDED,
//     RUNTIME}_DEPENDENCY_OF B → B→A with scope dev, test, build, optional, provided, runtime;
//     A DYNAMIC_LINK B → A→B scope runtime; A STATIC_LINK B → A→B; A CONTAINS B → A→B;
//     A CONTAINED_BY B → B→A; A HAS_PREREQUISITE B → A→B; A PREREQUISITE_FOR B → B→A;
//     A OPTIONAL_COMPONENT_OF B → B→A scope optional. Other types (GENERATED_FROM, COPY_OF,
//     OTHER…), relationships with files, snippets or the document, and self-loops make no edge.
//     An element of another document (DocumentRef-…) makes no edge, with a warning when the
//     type would have made one; an element defined nowhere is warned about.
//
// Counts: Components counts every entry of packages; Relationships the relationships of the
// dependency family (DEPENDS_ON and the *DEPENDENCY_OF types but DEPENDENCY_MANIFEST_OF),
// whatever their endpoints.
package spdx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/purl"
)

// maxWarnings bounds the warnings of one document; the last one says that the rest were left out.
const maxWarnings = 500

type rawDocument struct {
	SPDXVersion       json.RawMessage `json:"spdxVersion"`
	SPDXID            json.RawMessage `json:"SPDXID"`
	Name              json.RawMessage `json:"name"`
	Context           json.RawMessage `json:"@context"`
	DocumentDescribes json.RawMessage `json:"documentDescribes"`
	Packages          json.RawMessage `json:"packages"`
	Files             json.RawMessage `json:"files"`
	Snippets          json.RawMessage `json:"snippets"`
	Relationships     json.RawMessage `json:"relationships"`
}

type rawPackage struct {
	SPDXID                string            `json:"SPDXID"`
	Name                  string            `json:"name"`
	VersionInfo           string            `json:"versionInfo"`
	Supplier              string            `json:"supplier"`
	Checksums             []common.Checksum `json:"checksums"`
	LicenseConcluded      string            `json:"licenseConcluded"`
	LicenseDeclared       string            `json:"licenseDeclared"`
	ExternalRefs          []rawExternalRef  `json:"externalRefs"`
	PrimaryPackagePurpose string            `json:"primaryPackagePurpose"`
}

type rawExternalRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type rawRelationship struct {
	Element string `json:"spdxElementId"`
	Related string `json:"relatedSpdxElement"`
	Type    string `json:"relationshipType"`
}

// pkg is one package as read, before it has a key.
type pkg struct {
	path     string
	id       string
	purl     string // normalised; "" when absent or refused
	name     string
	version  string
	purpose  string
	hashes   []string
	licenses []string
	supplier string
	key      string
}

// relMap says which relationship types make a DEPENDS_ON edge, in which direction, with which
// scope.
var relMap = map[string]struct {
	reverse bool
	scope   string
}{
	common.TypeRelationshipDependsOn:            {false, ""},
	common.TypeRelationshipDependencyOf:         {true, ""},
	common.TypeRelationshipDevDependencyOf:      {true, "dev"},
	common.TypeRelationshipTestDependencyOf:     {true, "test"},
	common.TypeRelationshipBuildDependencyOf:    {true, "build"},
	common.TypeRelationshipOptionalDependencyOf: {true, "optional"},
	common.TypeRelationshipProvidedDependencyOf: {true, "provided"},
	common.TypeRelationshipRuntimeDependencyOf:  {true, "runtime"},
	common.TypeRelationshipDynamicLink:          {false, "runtime"},
	common.TypeRelationshipStaticLink:           {false, ""},
	common.TypeRelationshipContains:             {false, ""},
	common.TypeRelationshipContainedBy:          {true, ""},
	common.TypeRelationshipHasPrerequisite:      {false, ""},
	common.TypeRelationshipPrerequisiteFor:      {true, ""},
	common.TypeRelationshipOptionalComponentOf:  {true, "optional"},
}

// dependencyTypes are the relationships Counts.Relationships counts.
var dependencyTypes = map[string]bool{
	common.TypeRelationshipDependsOn:            true,
	common.TypeRelationshipDependencyOf:         true,
	common.TypeRelationshipDevDependencyOf:      true,
	common.TypeRelationshipTestDependencyOf:     true,
	common.TypeRelationshipBuildDependencyOf:    true,
	common.TypeRelationshipOptionalDependencyOf: true,
	common.TypeRelationshipProvidedDependencyOf: true,
	common.TypeRelationshipRuntimeDependencyOf:  true,
}

// knownTypes are the SPDX 2.3 relationship types.
var knownTypes = map[string]bool{}

func init() {
	for _, t := range []string{
		common.TypeRelationshipDescribe, common.TypeRelationshipDescribeBy, common.TypeRelationshipContains,
		common.TypeRelationshipContainedBy, common.TypeRelationshipDependsOn, common.TypeRelationshipDependencyOf,
		"DEPENDENCY_MANIFEST_OF", common.TypeRelationshipBuildDependencyOf, common.TypeRelationshipDevDependencyOf,
		common.TypeRelationshipOptionalDependencyOf, common.TypeRelationshipProvidedDependencyOf,
		common.TypeRelationshipTestDependencyOf, common.TypeRelationshipRuntimeDependencyOf,
		common.TypeRelationshipExampleOf, common.TypeRelationshipGenerates, common.TypeRelationshipGeneratedFrom,
		common.TypeRelationshipAncestorOf, common.TypeRelationshipDescendantOf, common.TypeRelationshipVariantOf,
		common.TypeRelationshipDistributionArtifact, common.TypeRelationshipPatchFor,
		common.TypeRelationshipPatchApplied, common.TypeRelationshipCopyOf, common.TypeRelationshipFileAdded,
		common.TypeRelationshipFileDeleted, common.TypeRelationshipFileModified,
		common.TypeRelationshipExpandedFromArchive, common.TypeRelationshipDynamicLink,
		common.TypeRelationshipStaticLink, common.TypeRelationshipDataFileOf, common.TypeRelationshipTestCaseOf,
		common.TypeRelationshipBuildToolOf, common.TypeRelationshipDevToolOf, common.TypeRelationshipTestOf,
		common.TypeRelationshipTestToolOf, common.TypeRelationshipDocumentationOf,
		common.TypeRelationshipOptionalComponentOf, common.TypeRelationshipMetafileOf,
		common.TypeRelationshipPackageOf, common.TypeRelationshipAmends, common.TypeRelationshipPrerequisiteFor,
		common.TypeRelationshipHasPrerequisite, common.TypeRelationshipRequirementDescriptionFor,
		common.TypeRelationshipSpecificationFor, common.TypeRelationshipOther,
	} {
		knownTypes[t] = true
	}
}

type parser struct {
	doc    *ingest.Document
	b      *builder
	docID  string
	pkgs   []*pkg
	byID   map[string]*pkg // SPDXID → package
	others map[string]bool // SPDXIDs of files and snippets
	keys   map[string]bool // component keys taken
	listed map[string]bool // keys already in Document.Components
	warned int
}

// Parse reads an SPDX 2.2 or 2.3 JSON document. Malformed JSON and JSON that is not SPDX 2.x
// are a *ingest.ParseError; deviations whose meaning is clear are tolerated and listed as
// warnings.
func Parse(data []byte) (*ingest.Document, error) {
	var top rawDocument
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, jsonError(data, err)
	}
	p := &parser{
		doc:    &ingest.Document{Format: ingest.FormatSPDX},
		b:      newBuilder(),
		byID:   map[string]*pkg{},
		others: map[string]bool{},
		keys:   map[string]bool{},
		listed: map[string]bool{},
	}
	if err := p.header(top); err != nil {
		return nil, err
	}
	for i, r := range p.array(top.Packages, "packages") {
		p.doc.Counts.Components++
		p.readPackage(r, fmt.Sprintf("packages[%d]", i))
	}
	p.assignKeys()
	p.collectIDs(top.Files, "files")
	p.collectIDs(top.Snippets, "snippets")

	var described []string
	for i, r := range p.array(top.DocumentDescribes, "documentDescribes") {
		var id string
		if json.Unmarshal(r, &id) != nil {
			p.warn(fmt.Sprintf("documentDescribes[%d]", i), "not a string; ignored")
			continue
		}
		id = strings.TrimSpace(id)
		p.known(id, fmt.Sprintf("documentDescribes[%d]", i), false)
		described = append(described, id)
	}
	described = append(described, p.relationships(top.Relationships)...)
	p.subject(described, top.Name)

	p.doc.Batch = p.b.batch()
	if err := p.doc.Batch.Validate(); err != nil {
		// A bug, not the document's fault: never hand on a batch graph would refuse.
		return nil, fmt.Errorf("spdx: internal error: the batch fails validation: %w", err)
	}
	return p.doc, nil
}

func (p *parser) header(top rawDocument) error {
	id, _ := str(top.SPDXID)
	p.docID = strings.TrimSpace(id)
	if p.docID == "" {
		p.docID = "SPDXRef-DOCUMENT"
	}
	v, ok := str(top.SPDXVersion)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		if ctx := strings.ToLower(string(top.Context)); strings.Contains(ctx, "spdx") {
			return &ingest.ParseError{Format: ingest.FormatSPDX, Path: "@context",
				Msg: "SPDX 3 (JSON-LD) is not supported: this parser reads SPDX 2.2 and 2.3 JSON"}
		}
		if strings.TrimSpace(id) != "SPDXRef-DOCUMENT" {
			return &ingest.ParseError{Format: ingest.FormatSPDX, Path: "spdxVersion",
				Msg: "not an SPDX document: spdxVersion is missing"}
		}
		p.warn("spdxVersion", "missing; read as SPDX-2.3 because SPDXID is SPDXRef-DOCUMENT")
		return nil
	}
	p.doc.Version = cut(clean(v), 20)
	num, prefixed := strings.CutPrefix(strings.ToUpper(v), "SPDX-")
	parts := strings.SplitN(num, ".", 3)
	major, n, err := parts[0], 0, error(nil)
	if len(parts) < 2 {
		err = errors.New("no minor version")
	} else {
		n, err = strconv.Atoi(parts[1])
	}
	switch {
	case major == "3":
		return &ingest.ParseError{Format: ingest.FormatSPDX, Path: "spdxVersion",
			Msg: fmt.Sprintf("%s is not supported: this parser reads SPDX 2.2 and 2.3 JSON", cut(v, 20))}
	case major != "2" || err != nil || n < 0:
		return &ingest.ParseError{Format: ingest.FormatSPDX, Path: "spdxVersion",
			Msg: fmt.Sprintf("not an SPDX 2.x document: spdxVersion is %q", cut(v, 40))}
	case !prefixed || len(parts) > 2:
		p.warn("spdxVersion", fmt.Sprintf("%q should read SPDX-2.%d", cut(v, 20), n))
	}
	switch {
	case n < 2:
		p.warn("spdxVersion", v+" is older than SPDX-2.2, the oldest version this parser is tested against; read as SPDX-2.2")
	case n > 3:
		p.warn("spdxVersion", v+" is newer than SPDX-2.3; read as SPDX-2.3")
	}
	return nil
}

func (p *parser) readPackage(raw json.RawMessage, path string) {
	if !isObject(raw) {
		p.warn(path, "not an object; skipped")
		return
	}
	var rp rawPackage
	if err := json.Unmarshal(raw, &rp); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			p.warn(path, fmt.Sprintf("cannot be read (%v); skipped", err))
			return
		}
		p.typeWarning(path, te)
	}
	k := &pkg{
		path:    path,
		id:      strings.TrimSpace(rp.SPDXID),
		name:    cut(clean(rp.Name), 4096),
		version: cut(clean(rp.VersionInfo), 1024),
		purpose: cut(strings.ToLower(clean(rp.PrimaryPackagePurpose)), 100),
	}
	if k.version == "NOASSERTION" || k.version == "NONE" {
		k.version = ""
	}
	switch {
	case k.id == "":
		p.warn(path+".SPDXID", "missing; relationships cannot refer to this package")
	case p.byID[k.id] != nil:
		p.warn(path+".SPDXID", fmt.Sprintf("%q is also the SPDXID of an earlier package; references go to the first", cut(k.id, 200)))
	default:
		if !validID(k.id) {
			p.warn(path+".SPDXID", fmt.Sprintf("%q is not of the form SPDXRef-<id>", cut(k.id, 200)))
		}
		p.byID[k.id] = k
	}
	if k.name == "" {
		p.warn(path+".name", "missing")
	}
	for j, r := range rp.ExternalRefs {
		if !strings.EqualFold(strings.TrimSpace(r.Type), common.TypePackageManagerPURL) {
			continue
		}
		rpath := fmt.Sprintf("%s.externalRefs[%d]", path, j)
		switch cat := strings.TrimSpace(r.Category); cat {
		case common.CategoryPackageManager, "PACKAGE_MANAGER":
		default:
			p.warn(rpath+".referenceCategory", fmt.Sprintf("a purl should be in category PACKAGE-MANAGER, not %q", cut(cat, 50)))
		}
		loc := strings.TrimSpace(r.Locator)
		n, err := purl.Normalize(loc)
		if err != nil {
			p.warn(rpath+".referenceLocator", fmt.Sprintf("unparsable purl %q (%v); ignored", cut(loc, 200), err))
			continue
		}
		if k.purl == "" {
			k.purl = n
		}
	}
	for j, c := range rp.Checksums {
		if h := hash(string(c.Algorithm), c.Value); h != "" {
			k.hashes = appendUnique(k.hashes, h)
		} else {
			p.warn(fmt.Sprintf("%s.checksums[%d]", path, j), "not a hex digest; ignored")
		}
	}
	for _, l := range []string{rp.LicenseConcluded, rp.LicenseDeclared} {
		if l = clean(l); l != "" && l != "NOASSERTION" && l != "NONE" {
			k.licenses = appendUnique(k.licenses, cut(l, 4096))
		}
	}
	if s := clean(rp.Supplier); s != "" && s != "NOASSERTION" {
		var sup common.Supplier
		if err := sup.UnmarshalJSON([]byte(s)); err != nil || sup.Supplier == "" {
			p.warn(path+".supplier", fmt.Sprintf("%q should read \"Person: …\" or \"Organization: …\"", cut(s, 200)))
			k.supplier = cut(s, 1024)
		} else {
			k.supplier = cut(sup.Supplier, 1024)
		}
	}
	p.pkgs = append(p.pkgs, k)
}

// assignKeys gives every package its key — real purls first, so that generic identities never
// take one — and adds the Component nodes.
func (p *parser) assignKeys() {
	for _, k := range p.pkgs {
		if k.purl != "" {
			k.key = k.purl
			p.keys[k.key] = true
		}
	}
	for _, k := range p.pkgs {
		if k.key != "" {
			continue
		}
		name := k.name
		if name == "" {
			name = k.id
		}
		k.key = purl.Generic(name, k.version)
		if p.keys[k.key] {
			taken := k.key
			if k.id != "" {
				k.key = purl.Generic(name, k.version, purl.Qualifier{Key: "spdxid", Value: k.id})
			}
			if p.keys[k.key] {
				k.key = purl.Generic(name, k.version, purl.Qualifier{Key: "path", Value: k.path})
			}
			p.warn(k.path, fmt.Sprintf("no purl, and its identity %s is taken by another package; identified as %s", taken, k.key))
		}
		p.keys[k.key] = true
	}
	for _, k := range p.pkgs {
		props := map[string]any{}
		setString(props, "name", k.name)
		setString(props, "version", k.version)
		setString(props, "type", k.purpose)
		setString(props, "supplier", k.supplier)
		if len(k.hashes) > 0 {
			props["hashes"] = k.hashes
		}
		if len(k.licenses) > 0 {
			props["licenses"] = k.licenses
		}
		p.b.node(graph.LabelComponent, k.key, props)
		if !p.listed[k.key] {
			p.listed[k.key] = true
			p.doc.Components = append(p.doc.Components, k.key)
		}
	}
}

func (p *parser) collectIDs(raw json.RawMessage, path string) {
	for _, r := range p.array(raw, path) {
		var e struct {
			SPDXID string `json:"SPDXID"`
		}
		if json.Unmarshal(r, &e) == nil && strings.TrimSpace(e.SPDXID) != "" {
			p.others[strings.TrimSpace(e.SPDXID)] = true
		}
	}
}

// relationships adds the DEPENDS_ON edges and returns the ids the document describes.
func (p *parser) relationships(raw json.RawMessage) (described []string) {
	for i, r := range p.array(raw, "relationships") {
		path := fmt.Sprintf("relationships[%d]", i)
		if !isObject(r) {
			p.warn(path, "not an object; skipped")
			continue
		}
		var rel rawRelationship
		if err := json.Unmarshal(r, &rel); err != nil {
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				p.warn(path, fmt.Sprintf("cannot be read (%v); skipped", err))
				continue
			}
			p.typeWarning(path, te)
		}
		typ := strings.TrimSpace(rel.Type)
		if up := strings.ToUpper(strings.ReplaceAll(typ, "-", "_")); up != typ && knownTypes[up] {
			p.warn(path+".relationshipType", fmt.Sprintf("%q should read %s", cut(typ, 50), up))
			typ = up
		}
		if dependencyTypes[typ] {
			p.doc.Counts.Relationships++
		}
		if !knownTypes[typ] {
			p.warn(path+".relationshipType", fmt.Sprintf("unknown relationship type %q; ignored", cut(typ, 50)))
			continue
		}
		a, b := strings.TrimSpace(rel.Element), strings.TrimSpace(rel.Related)
		switch typ {
		case common.TypeRelationshipDescribe:
			if a == p.docID {
				p.known(b, path+".relatedSpdxElement", false)
				described = append(described, b)
				continue
			}
		case common.TypeRelationshipDescribeBy:
			if b == p.docID {
				p.known(a, path+".spdxElementId", false)
				described = append(described, a)
				continue
			}
		}
		m, mapped := relMap[typ]
		pa := p.known(a, path+".spdxElementId", mapped)
		pb := p.known(b, path+".relatedSpdxElement", mapped)
		if !mapped || pa == nil || pb == nil {
			continue
		}
		from, to := pa, pb
		if m.reverse {
			from, to = pb, pa
		}
		if from.key == to.key {
			continue
		}
		props := map[string]any{"direct": true}
		setString(props, "scope", m.scope)
		p.b.edge("DEPENDS_ON", graph.NodeRef{Label: graph.LabelComponent, Key: from.key},
			graph.NodeRef{Label: graph.LabelComponent, Key: to.key}, props)
	}
	return described
}

// known returns the package an element id names, or nil for anything else. Ids that name
// nothing in the document are warned about, as are elements of other documents when edge says
// the relationship would have made an edge.
func (p *parser) known(id, path string, edge bool) *pkg {
	switch {
	case id == "":
		p.warn(path, "missing")
		return nil
	case id == "NOASSERTION" || id == "NONE":
		return nil
	case strings.HasPrefix(id, "DocumentRef-"):
		if edge {
			p.warn(path, fmt.Sprintf("%q is an element of another document; no edge", cut(id, 200)))
		}
		return nil
	}
	if k := p.byID[id]; k != nil {
		return k
	}
	if id != p.docID && !p.others[id] {
		p.warn(path, fmt.Sprintf("%q is not defined in this document", cut(id, 200)))
	}
	return nil
}

func (p *parser) subject(described []string, name json.RawMessage) {
	var first *pkg
	n := 0
	seen := map[*pkg]bool{}
	for _, id := range described {
		if k := p.byID[id]; k != nil && !seen[k] {
			seen[k] = true
			n++
			if first == nil {
				first = k
			}
		}
	}
	if first == nil {
		docName, _ := str(name)
		if docName = clean(docName); docName != "" {
			p.doc.Subject = &ingest.Subject{Name: cut(docName, 1024)}
		}
		return
	}
	if n > 1 {
		p.warn("relationships", fmt.Sprintf("the document describes %d packages; the first, %s, is its subject", n, cut(first.id, 200)))
	}
	s := &ingest.Subject{Name: first.name, Version: first.version, Purl: first.key, Type: subjectType(first.purpose)}
	for _, h := range first.hashes {
		if strings.HasPrefix(h, "sha256:") {
			s.Digest = h
			break
		}
	}
	if s.Digest == "" && first.purl != "" {
		s.Digest = purl.OCIDigest(first.purl)
	}
	if s.Name == "" {
		s.Name = cut(clean(first.id), 4096)
	}
	p.doc.Subject = s
}

func subjectType(purpose string) string {
	switch purpose {
	case "container":
		return "IMAGE"
	case "", "application", "library", "framework", "platform":
		return "PACKAGE"
	}
	return strings.ToUpper(cut(purpose, 50))
}

func validID(id string) bool {
	var e common.DocElementID
	return e.UnmarshalJSON([]byte(id)) == nil && e.DocumentRefID == "" && e.SpecialID == ""
}

// hash renders an SPDX checksum as "<alg>:<hex>": SHA256 → sha256, SHA3-256 → sha3-256,
// BLAKE2b-256 → blake2b-256. It returns "" for a value that is not hex.
func hash(alg, value string) string {
	a := strings.ToLower(strings.TrimSpace(alg))
	if strings.HasPrefix(a, "sha-") {
		a = "sha" + a[4:]
	}
	v := strings.ToLower(strings.TrimSpace(value))
	if a == "" || v == "" || len(v) > 1024 || len(a) > 32 {
		return ""
	}
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return ""
		}
	}
	return a + ":" + v
}

func setString(props map[string]any, k, v string) {
	if v != "" {
		props[k] = v
	}
}

// array reads a JSON array, warning when the value is something else.
func (p *parser) array(raw json.RawMessage, path string) []json.RawMessage {
	if len(raw) == 0 || isNull(raw) {
		return nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		p.warn(path, "not an array; ignored")
		return nil
	}
	return out
}

func (p *parser) typeWarning(path string, te *json.UnmarshalTypeError) {
	if te.Field != "" {
		path += "." + te.Field
	}
	p.warn(path, fmt.Sprintf("a JSON %s where %s is expected; ignored (later mismatches in this entry go unreported)", te.Value, kindName(te.Type)))
}

// kindName names the JSON kind a Go type decodes from.
func kindName(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8,
		reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "another kind of value"
}

func (p *parser) warn(path, msg string) {
	p.warned++
	switch {
	case p.warned < maxWarnings:
		p.doc.Warnings = append(p.doc.Warnings, ingest.Warning{Path: path, Message: msg})
	case p.warned == maxWarnings:
		p.doc.Warnings = append(p.doc.Warnings, ingest.Warning{Message: "too many warnings; the rest are left out"})
	}
}

func str(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}

// jsonError turns a failure to read the top level into a *ingest.ParseError.
func jsonError(data []byte, err error) error {
	pe := &ingest.ParseError{Format: ingest.FormatSPDX, Msg: err.Error()}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		pe.Msg = "empty document"
	case errors.As(err, &se):
		pe.Line, pe.Column = lineCol(data, se.Offset, strings.Contains(se.Error(), "unexpected end"))
		pe.Msg = "malformed JSON: " + se.Error()
	case errors.As(err, &te):
		pe.Msg = fmt.Sprintf("not an SPDX document: the document is a JSON %s, not an object", te.Value)
	}
	return pe
}

// lineCol converts the offset of a json.SyntaxError into a 1-based line and column (in bytes).
// The offset is just past the offending byte, or the end of the input when it ended too early.
func lineCol(data []byte, off int64, atEnd bool) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	if off > 0 && !atEnd {
		off-- // point at the byte that failed, not past it
	}
	head := data[:off]
	line = bytes.Count(head, []byte{'\n'}) + 1
	col = int(off) - (bytes.LastIndexByte(head, '\n') + 1) + 1
	return line, col
}
