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
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/sectwin/sectwin/graph"
	"github.com/sectwin/sectwin/ingest"
	"github.com/sectwin/sectwin/ingest/internal/batch"
	"github.com/sectwin/sectwin/ingest/internal/purl"
	"github.com/sectwin/sectwin/ingest/internal/rawjson"
	"github.com/sectwin/sectwin/ingest/internal/sbom"
	"github.com/sectwin/sectwin/ingest/internal/text"
)

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
	CreationInfo      json.RawMessage `json:"creationInfo"`
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

// pkg is one package as read: ID is its SPDXID, Type its primary package purpose.
type pkg = sbom.Component

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
	sbom.Reader
	b      *batch.Builder
	docID  string
	pkgs   []*pkg
	byID   map[string]*pkg // SPDXID → package
	others map[string]bool // SPDXIDs of files and snippets
}

// Parse reads an SPDX 2.2 or 2.3 JSON document. Malformed JSON and JSON that is not SPDX 2.x
// are a *ingest.ParseError; deviations whose meaning is clear are tolerated and listed as
// warnings.
func Parse(data []byte) (*ingest.Document, error) {
	var top rawDocument
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, sbom.RootError(ingest.FormatSPDX, "not an SPDX document", data, err)
	}
	p := &parser{
		Reader: sbom.Reader{Doc: &ingest.Document{Format: ingest.FormatSPDX}},
		b:      batch.New(),
		byID:   map[string]*pkg{},
		others: map[string]bool{},
	}
	if err := p.header(top); err != nil {
		return nil, err
	}
	p.Doc.Tool = toolName(top.CreationInfo)
	for i, r := range p.Array(top.Packages, "packages") {
		p.Doc.Counts.Components++
		p.readPackage(r, fmt.Sprintf("packages[%d]", i))
	}
	p.assignKeys()
	p.collectIDs(top.Files, "files")
	p.collectIDs(top.Snippets, "snippets")

	var described []string
	for i, r := range p.Array(top.DocumentDescribes, "documentDescribes") {
		var id string
		if json.Unmarshal(r, &id) != nil {
			p.Warn(fmt.Sprintf("documentDescribes[%d]", i), "not a string; ignored")
			continue
		}
		id = strings.TrimSpace(id)
		p.known(id, fmt.Sprintf("documentDescribes[%d]", i), false)
		described = append(described, id)
	}
	described = append(described, p.relationships(top.Relationships)...)
	p.subject(described, top.Name)

	p.Doc.Batch = p.b.Batch()
	if err := p.Doc.Batch.Validate(); err != nil {
		// A bug, not the document's fault: never hand on a batch graph would refuse.
		return nil, fmt.Errorf("spdx: internal error: the batch fails validation: %w", err)
	}
	return p.Doc, nil
}

// maxToolName bounds the tool's name, in bytes.
const maxToolName = 200

// toolName is the first "Tool: name-version" of creationInfo.creators, without its version; ""
// when there is none. SPDX says nothing of the age of a tool's advisory data.
func toolName(raw json.RawMessage) string {
	var ci struct {
		Creators json.RawMessage `json:"creators"`
	}
	if !rawjson.IsObject(raw) || json.Unmarshal(raw, &ci) != nil {
		return ""
	}
	for _, c := range rawjson.Strings(ci.Creators) {
		kind, name, ok := strings.Cut(c, ":")
		if !ok || !strings.EqualFold(strings.TrimSpace(kind), "Tool") {
			continue
		}
		if n := withoutVersion(text.Clean(name)); n != "" {
			return text.Cut(n, maxToolName)
		}
	}
	return ""
}

// withoutVersion drops a trailing version from a tool's name: what follows its last '-' or
// space when that starts with a digit, or with v and a digit ("syft-1.2.0", "cdxgen-v9.9",
// "tool 2"). A name that is all version is kept.
func withoutVersion(s string) string {
	i := strings.LastIndexAny(s, "- ")
	if i <= 0 {
		return s
	}
	v := s[i+1:]
	if len(v) > 1 && (v[0] == 'v' || v[0] == 'V') {
		v = v[1:]
	}
	if v == "" || v[0] < '0' || v[0] > '9' {
		return s
	}
	return strings.TrimRight(s[:i], "- ")
}

func (p *parser) header(top rawDocument) error {
	id, _ := rawjson.String(top.SPDXID)
	p.docID = strings.TrimSpace(id)
	if p.docID == "" {
		p.docID = "SPDXRef-DOCUMENT"
	}
	v, ok := rawjson.String(top.SPDXVersion)
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
		p.Warn("spdxVersion", "missing; read as SPDX-2.3 because SPDXID is SPDXRef-DOCUMENT")
		return nil
	}
	p.Doc.Version = text.Cut(text.Clean(v), 20)
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
			Msg: fmt.Sprintf("%s is not supported: this parser reads SPDX 2.2 and 2.3 JSON", text.Cut(v, 20))}
	case major != "2" || err != nil || n < 0:
		return &ingest.ParseError{Format: ingest.FormatSPDX, Path: "spdxVersion",
			Msg: fmt.Sprintf("not an SPDX 2.x document: spdxVersion is %q", text.Cut(v, 40))}
	case !prefixed || len(parts) > 2:
		p.Warn("spdxVersion", fmt.Sprintf("%q should read SPDX-2.%d", text.Cut(v, 20), n))
	}
	switch {
	case n < 2:
		p.Warn("spdxVersion", v+" is older than SPDX-2.2, the oldest version this parser is tested against; read as SPDX-2.2")
	case n > 3:
		p.Warn("spdxVersion", v+" is newer than SPDX-2.3; read as SPDX-2.3")
	}
	return nil
}

func (p *parser) readPackage(raw json.RawMessage, path string) {
	var rp rawPackage
	if !p.Entry(raw, path, &rp) {
		return
	}
	k := &pkg{
		Path:    path,
		ID:      strings.TrimSpace(rp.SPDXID),
		Name:    text.Cut(text.Clean(rp.Name), 4096),
		Version: text.Cut(text.Clean(rp.VersionInfo), 1024),
		Type:    text.Cut(strings.ToLower(text.Clean(rp.PrimaryPackagePurpose)), 100),
	}
	if k.Version == "NOASSERTION" || k.Version == "NONE" {
		k.Version = ""
	}
	switch {
	case k.ID == "":
		p.Warn(path+".SPDXID", "missing; relationships cannot refer to this package")
	case p.byID[k.ID] != nil:
		p.Warn(path+".SPDXID", fmt.Sprintf("%q is also the SPDXID of an earlier package; references go to the first", text.Cut(k.ID, 200)))
	default:
		if !validID(k.ID) {
			p.Warn(path+".SPDXID", fmt.Sprintf("%q is not of the form SPDXRef-<id>", text.Cut(k.ID, 200)))
		}
		p.byID[k.ID] = k
	}
	if k.Name == "" {
		p.Warn(path+".name", "missing")
	}
	for j, r := range rp.ExternalRefs {
		if !strings.EqualFold(strings.TrimSpace(r.Type), common.TypePackageManagerPURL) {
			continue
		}
		rpath := fmt.Sprintf("%s.externalRefs[%d]", path, j)
		switch cat := strings.TrimSpace(r.Category); cat {
		case common.CategoryPackageManager, "PACKAGE_MANAGER":
		default:
			p.Warn(rpath+".referenceCategory", fmt.Sprintf("a purl should be in category PACKAGE-MANAGER, not %q", text.Cut(cat, 50)))
		}
		loc := strings.TrimSpace(r.Locator)
		n, err := purl.Normalize(loc)
		if err != nil {
			p.Warn(rpath+".referenceLocator", fmt.Sprintf("unparsable purl %q (%v); ignored", text.Cut(loc, 200), err))
			continue
		}
		if k.Purl == "" {
			k.Purl = n
		}
	}
	for j, c := range rp.Checksums {
		if h := sbom.Hash(string(c.Algorithm), c.Value); h != "" {
			k.Hashes = batch.AppendUnique(k.Hashes, h)
		} else {
			p.Warn(fmt.Sprintf("%s.checksums[%d]", path, j), "not a hex digest; ignored")
		}
	}
	for _, l := range []string{rp.LicenseConcluded, rp.LicenseDeclared} {
		if l = text.Clean(l); l != "" && l != "NOASSERTION" && l != "NONE" {
			k.Licenses = batch.AppendUnique(k.Licenses, text.Cut(l, 4096))
		}
	}
	if s := text.Clean(rp.Supplier); s != "" && s != "NOASSERTION" {
		var sup common.Supplier
		if err := sup.UnmarshalJSON([]byte(s)); err != nil || sup.Supplier == "" {
			p.Warn(path+".supplier", fmt.Sprintf("%q should read \"Person: …\" or \"Organization: …\"", text.Cut(s, 200)))
			k.Supplier = text.Cut(s, 1024)
		} else {
			k.Supplier = text.Cut(sup.Supplier, 1024)
		}
	}
	p.pkgs = append(p.pkgs, k)
}

// assignKeys gives every package its key (sbom.Reader.Keys) and adds the Component nodes.
func (p *parser) assignKeys() {
	p.Keys(p.pkgs, "spdxid", "package")
	for _, k := range p.pkgs {
		p.b.Node(graph.LabelComponent, k.Key, k.Props())
		p.ListComponent(k.Key)
	}
}

func (p *parser) collectIDs(raw json.RawMessage, path string) {
	for _, r := range p.Array(raw, path) {
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
	for i, r := range p.Array(raw, "relationships") {
		path := fmt.Sprintf("relationships[%d]", i)
		var rel rawRelationship
		if !p.Entry(r, path, &rel) {
			continue
		}
		typ := strings.TrimSpace(rel.Type)
		if up := strings.ToUpper(strings.ReplaceAll(typ, "-", "_")); up != typ && knownTypes[up] {
			p.Warn(path+".relationshipType", fmt.Sprintf("%q should read %s", text.Cut(typ, 50), up))
			typ = up
		}
		if dependencyTypes[typ] {
			p.Doc.Counts.Relationships++
		}
		if !knownTypes[typ] {
			p.Warn(path+".relationshipType", fmt.Sprintf("unknown relationship type %q; ignored", text.Cut(typ, 50)))
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
		if from.Key == to.Key {
			continue
		}
		props := map[string]any{"direct": true}
		sbom.SetString(props, "scope", m.scope)
		p.b.Edge("DEPENDS_ON", graph.NodeRef{Label: graph.LabelComponent, Key: from.Key},
			graph.NodeRef{Label: graph.LabelComponent, Key: to.Key}, props)
	}
	return described
}

// known returns the package an element id names, or nil for anything else. Ids that name
// nothing in the document are warned about, as are elements of other documents when edge says
// the relationship would have made an edge.
func (p *parser) known(id, path string, edge bool) *pkg {
	switch {
	case id == "":
		p.Warn(path, "missing")
		return nil
	case id == "NOASSERTION" || id == "NONE":
		return nil
	case strings.HasPrefix(id, "DocumentRef-"):
		if edge {
			p.Warn(path, fmt.Sprintf("%q is an element of another document; no edge", text.Cut(id, 200)))
		}
		return nil
	}
	if k := p.byID[id]; k != nil {
		return k
	}
	if id != p.docID && !p.others[id] {
		p.Warn(path, fmt.Sprintf("%q is not defined in this document", text.Cut(id, 200)))
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
		docName, _ := rawjson.String(name)
		if docName = text.Clean(docName); docName != "" {
			p.Doc.Subject = &ingest.Subject{Name: text.Cut(docName, 1024)}
		}
		return
	}
	if n > 1 {
		p.Warn("relationships", fmt.Sprintf("the document describes %d packages; the first, %s, is its subject", n, text.Cut(first.ID, 200)))
	}
	p.Doc.Subject = first.Subject()
}

func validID(id string) bool {
	var e common.DocElementID
	return e.UnmarshalJSON([]byte(id)) == nil && e.DocumentRefID == "" && e.SpecialID == ""
}
