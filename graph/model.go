package graph

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The twin model. Every node carries the property twin (its namespace) and a natural key that is
// unique within the twin; a composite uniqueness constraint on (twin, key) per label comes from
// migrations. Every node and edge carries provenance: sources, firstSeen, lastSeen.
//
// The Go structs below are the read model: one per label, their `db` tags naming the Neo4j
// properties, ",key" marking the natural key. The kind table (Kinds) is derived from them, so a
// property exists in exactly one place. Writes take property maps checked against that table.

// Meta is what every node carries.
type Meta struct {
	Twin       string `db:"twin"`
	Provenance Provenance
}

// Provenance says where a node or edge came from and when it was seen.
type Provenance struct {
	Sources   []string  `db:"sources"`
	FirstSeen time.Time `db:"firstSeen"`
	LastSeen  time.Time `db:"lastSeen"`
}

// Asset is what every asset carries: how much it matters.
type Asset struct {
	Criticality string `db:"criticality"` // LOW, MEDIUM, HIGH, CRITICAL or empty
	CrownJewel  bool   `db:"crownJewel"`
	// Controls are the security controls declared on the asset (see Controls); they lower the
	// probability of the attack steps into it.
	Controls []string `db:"controls"`
	// CriticalityRank orders by criticality: 1 (LOW) to 4 (CRITICAL), 0 when unknown. Derived.
	CriticalityRank int `db:"criticalityRank,derived"`
}

// Twin is one system, or one stakeholder's view of it: the namespace of everything else.
type Twin struct {
	Meta
	Name        string    `db:"name,key"`
	Description string    `db:"description"`
	CreatedAt   time.Time `db:"createdAt"`
}

// Component is a software component, keyed by its package URL.
type Component struct {
	Meta
	Asset
	Purl     string   `db:"purl,key"`
	Name     string   `db:"name"`
	Version  string   `db:"version"`
	Type     string   `db:"type"`
	Hashes   []string `db:"hashes"` // "sha256:<hex>"
	Licenses []string `db:"licenses"`
	Supplier string   `db:"supplier"`
}

// Artifact is a container image or a build, keyed by its digest. It CONTAINS components.
type Artifact struct {
	Meta
	Asset
	Digest string `db:"digest,key"` // "sha256:<hex>"
	Name   string `db:"name"`
	Type   string `db:"type"` // IMAGE, BUILD, PACKAGE…
	URI    string `db:"uri"`  // e.g. registry/repo:tag
}

// Service is a deployed unit that RUNS an artifact and EXPOSES endpoints.
type Service struct {
	Meta
	Asset
	Name        string   `db:"name,key"`
	Description string   `db:"description"`
	Endpoints   []string `db:"endpoints"` // e.g. "https://signal-api:443/v1"
}

// Host is a machine, VM, node or device that services are DEPLOYED_ON.
type Host struct {
	Meta
	Asset
	Name      string   `db:"name,key"`
	OS        string   `db:"os"`
	Addresses []string `db:"addresses"`
	Type      string   `db:"type"` // VM, NODE, DEVICE, CONTROLLER…
}

// Zone is a network segment. Hosts are IN_ZONE; zones REACH each other. The zone marked internet
// stands for everything outside.
type Zone struct {
	Meta
	Asset
	Name        string `db:"name,key"`
	Description string `db:"description"`
	Internet    bool   `db:"internet"`
	Trust       string `db:"trust"` // UNTRUSTED, LOW, MEDIUM, HIGH
}

// Identity is a principal: a user, a service account or a role.
type Identity struct {
	Meta
	Asset
	Name       string `db:"name,key"`
	Type       string `db:"type"` // USER, SERVICE, ROLE
	Privileged bool   `db:"privileged"`
}

// Credential is a secret that AUTHENTICATES an identity: a password, key, token or certificate.
type Credential struct {
	Meta
	Asset
	Name string `db:"name,key"`
	Type string `db:"type"` // PASSWORD, KEY, TOKEN, CERTIFICATE
}

// DataStore holds data: a database, bucket, queue or file share.
type DataStore struct {
	Meta
	Asset
	Name           string `db:"name,key"`
	Type           string `db:"type"`
	Classification string `db:"classification"` // PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED
}

// Vulnerability is a known weakness: a CVE, GHSA, OSV id…
type Vulnerability struct {
	Meta
	VulnerabilityID string   `db:"vulnerabilityId,key"`
	Aliases         []string `db:"aliases"`
	Summary         string   `db:"summary"`
	Severity        string   `db:"severity"`  // NONE, LOW, MEDIUM, HIGH, CRITICAL, UNKNOWN
	CVSSScore       *float64 `db:"cvssScore"` // nil: unknown
	CVSSVector      string   `db:"cvssVector"`
	EPSS            *float64 `db:"epss"` // probability of exploitation in 30 days, 0–1; nil: unknown
	KEV             bool     `db:"kev"`  // in CISA's Known Exploited Vulnerabilities catalogue
	CWEs            []string `db:"cwes"`
}

// Finding is one scanner result, FOUND_IN a component, artifact, service or host.
type Finding struct {
	Meta
	Fingerprint  string `db:"fingerprint,key"`
	Tool         string `db:"tool"`
	RuleID       string `db:"ruleId"`
	Severity     string `db:"severity"`
	SeverityRank int    `db:"severityRank,derived"`
	Message      string `db:"message"`
	Location     string `db:"location"` // file:line, URL or resource path
	Status       string `db:"status"`   // OPEN, FIXED, SUPPRESSED
}

// Threat is a MITRE ATT&CK technique with its tactics.
type Threat struct {
	Meta
	TechniqueID string   `db:"techniqueId,key"` // T1190, T1078.004…
	Name        string   `db:"name"`
	Tactics     []string `db:"tactics"` // initial-access, lateral-movement…
	URL         string   `db:"url"`
}

// PropType is the type of a node or edge property.
type PropType int

// Property types.
const (
	PropString PropType = iota
	PropStrings
	PropBool
	PropInt
	PropFloat
	PropTime
)

func (t PropType) String() string {
	return [...]string{"string", "list of strings", "boolean", "integer", "number", "date-time"}[t]
}

// Kind describes one node label.
type Kind struct {
	Label    string              // Neo4j label and GraphQL type
	Key      string              // natural-key property
	Subgraph string              // the named subgraph a federation grant shares it under
	Props    map[string]PropType // readable properties, Key and Meta excluded
	Derived  map[string]string   // properties sectwin derives, from the property they derive from
	goType   reflect.Type
	writable map[string]PropType // Props without Derived: what writes may set
}

// EdgeKind describes one relationship type and the labels it may join.
type EdgeKind struct {
	Type  string
	Pairs [][2]string // allowed (from, to) labels
	Props map[string]PropType
	// KeyProps tell apart several edges of this type between the same two nodes (REACHES on
	// port 443 and on port 22). They are required on writes.
	KeyProps []string
}

// Allows reports whether an edge of this kind may join from to to.
func (e EdgeKind) Allows(from, to string) bool {
	return slices.Contains(e.Pairs, [2]string{from, to})
}

// metaProps are maintained by sectwin; writes cannot set them.
var metaProps = []string{"twin", "sources", "firstSeen", "lastSeen"}

// Labels of the model.
const (
	LabelTwin          = "Twin"
	LabelComponent     = "Component"
	LabelArtifact      = "Artifact"
	LabelService       = "Service"
	LabelHost          = "Host"
	LabelZone          = "Zone"
	LabelIdentity      = "Identity"
	LabelCredential    = "Credential"
	LabelDataStore     = "DataStore"
	LabelVulnerability = "Vulnerability"
	LabelFinding       = "Finding"
	LabelThreat        = "Threat"
)

// kindTable and edgeTable are built once and never modified.
var kindTable = buildKinds(map[string]any{
	LabelTwin:          Twin{},
	LabelComponent:     Component{},
	LabelArtifact:      Artifact{},
	LabelService:       Service{},
	LabelHost:          Host{},
	LabelZone:          Zone{},
	LabelIdentity:      Identity{},
	LabelCredential:    Credential{},
	LabelDataStore:     DataStore{},
	LabelVulnerability: Vulnerability{},
	LabelFinding:       Finding{},
	LabelThreat:        Threat{},
})

// Controls are the security controls an asset may declare. analytics/attackanalysis says how much
// each lowers which attack steps.
var Controls = []string{"WAF", "IPS", "EDR", "MFA", "PAM", "ENCRYPTION"}

// assetLabels are the labels that carry Asset (criticality and crown-jewel marking).
var assetLabels = []string{LabelComponent, LabelArtifact, LabelService, LabelHost, LabelZone, LabelIdentity, LabelCredential, LabelDataStore}

var edgeTable = buildEdges([]EdgeKind{
	{Type: "DEPENDS_ON", Pairs: pairs([]string{LabelComponent}, []string{LabelComponent}),
		Props: map[string]PropType{"scope": PropString, "direct": PropBool}},
	{Type: "CONTAINS", Pairs: pairs([]string{LabelArtifact}, []string{LabelComponent}),
		Props: map[string]PropType{"path": PropString}},
	{Type: "RUNS", Pairs: pairs([]string{LabelService}, []string{LabelArtifact})},
	{Type: "DEPLOYED_ON", Pairs: pairs([]string{LabelService, LabelDataStore}, []string{LabelHost})},
	{Type: "IN_ZONE", Pairs: pairs([]string{LabelHost, LabelService, LabelDataStore}, []string{LabelZone})},
	{Type: "EXPOSES", Pairs: pairs([]string{LabelService}, []string{LabelZone}),
		Props:    map[string]PropType{"port": PropInt, "proto": PropString, "endpoint": PropString},
		KeyProps: []string{"port", "proto"}},
	{Type: "REACHES", Pairs: pairs([]string{LabelZone, LabelHost, LabelService}, []string{LabelZone, LabelHost, LabelService, LabelDataStore}),
		Props:    map[string]PropType{"port": PropInt, "proto": PropString, "description": PropString},
		KeyProps: []string{"port", "proto"}},
	{Type: "RUNS_AS", Pairs: pairs([]string{LabelService, LabelHost}, []string{LabelIdentity})},
	{Type: "HAS_ACCESS", Pairs: pairs([]string{LabelIdentity}, []string{LabelDataStore, LabelService, LabelHost, LabelCredential}),
		Props: map[string]PropType{"mode": PropString}},
	{Type: "AUTHENTICATES", Pairs: pairs([]string{LabelCredential}, []string{LabelIdentity})},
	{Type: "STORES", Pairs: pairs([]string{LabelHost, LabelService, LabelDataStore}, []string{LabelCredential})},
	{Type: "FLOWS_TO", Pairs: pairs([]string{LabelService, LabelDataStore}, []string{LabelService, LabelDataStore}),
		Props: map[string]PropType{"data": PropString, "protocol": PropString, "encrypted": PropBool, "classification": PropString}},
	{Type: "AFFECTS", Pairs: pairs([]string{LabelVulnerability}, []string{LabelComponent}),
		// status and justification carry VEX analysis: affected, not_affected, fixed or
		// under_investigation, and why.
		Props: map[string]PropType{"versionRange": PropString, "fixedVersion": PropString, "status": PropString, "justification": PropString}},
	{Type: "FOUND_IN", Pairs: pairs([]string{LabelFinding}, []string{LabelComponent, LabelArtifact, LabelService, LabelHost})},
	{Type: "IDENTIFIES", Pairs: pairs([]string{LabelFinding}, []string{LabelVulnerability})},
	{Type: "ENABLES", Pairs: pairs([]string{LabelVulnerability}, []string{LabelThreat})},
	{Type: "THREATENS", Pairs: pairs([]string{LabelThreat}, assetLabels)},
})

// KindOf returns the kind with this label.
func KindOf(label string) (Kind, bool) {
	k, ok := kindTable[label]
	return k, ok
}

// EdgeKindOf returns the edge kind of this relationship type.
func EdgeKindOf(typ string) (EdgeKind, bool) {
	e, ok := edgeTable[typ]
	return e, ok
}

// Labels returns every node label of the model, sorted.
func Labels() []string {
	out := make([]string, 0, len(kindTable))
	for l := range kindTable {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// EdgeTypes returns every relationship type of the model, sorted.
func EdgeTypes() []string {
	out := make([]string, 0, len(edgeTable))
	for t := range edgeTable {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// Subgraphs returns the names a federation grant can share: one per label but Twin, sorted.
func Subgraphs() []string {
	var out []string
	for _, k := range kindTable {
		if k.Subgraph != "" {
			out = append(out, k.Subgraph)
		}
	}
	slices.Sort(out)
	return out
}

// LabelOfSubgraph returns the label a subgraph name shares.
func LabelOfSubgraph(sub string) (string, bool) {
	for _, k := range kindTable {
		if k.Subgraph != "" && k.Subgraph == sub {
			return k.Label, true
		}
	}
	return "", false
}

func pairs(from, to []string) [][2]string {
	var out [][2]string
	for _, f := range from {
		for _, t := range to {
			out = append(out, [2]string{f, t})
		}
	}
	return out
}

func buildEdges(list []EdgeKind) map[string]EdgeKind {
	out := make(map[string]EdgeKind, len(list))
	for _, e := range list {
		if e.Props == nil {
			e.Props = map[string]PropType{}
		}
		out[e.Type] = e
	}
	return out
}

var (
	typeTime    = reflect.TypeFor[time.Time]()
	typeStrings = reflect.TypeFor[[]string]()
)

func buildKinds(structs map[string]any) map[string]Kind {
	out := make(map[string]Kind, len(structs))
	for label, v := range structs {
		k := Kind{Label: label, Props: map[string]PropType{}, Derived: map[string]string{}, goType: reflect.TypeOf(v)}
		if label != LabelTwin {
			k.Subgraph = subgraphName(label)
		}
		walkFields(k.goType, func(f reflect.StructField, name, opt string) {
			switch opt {
			case "key":
				k.Key = name
			case "derived":
				k.Derived[name] = strings.TrimSuffix(name, "Rank")
			}
			if slices.Contains(metaProps, name) {
				return
			}
			k.Props[name] = propTypeOf(f.Type)
		})
		if k.Key == "" {
			panic("graph: kind " + label + " has no key")
		}
		delete(k.Props, k.Key)
		k.writable = map[string]PropType{}
		for name, t := range k.Props {
			if _, derived := k.Derived[name]; !derived {
				k.writable[name] = t
			}
		}
		out[label] = k
	}
	return out
}

// subgraphName is a label's plural in lower case: Component → components, DataStore → datastores.
func subgraphName(label string) string {
	l := strings.ToLower(label)
	if strings.HasSuffix(l, "y") {
		return strings.TrimSuffix(l, "y") + "ies"
	}
	return l + "s"
}

func propTypeOf(t reflect.Type) PropType {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == typeTime:
		return PropTime
	case t == typeStrings:
		return PropStrings
	}
	switch t.Kind() {
	case reflect.String:
		return PropString
	case reflect.Bool:
		return PropBool
	case reflect.Int, reflect.Int64:
		return PropInt
	case reflect.Float64:
		return PropFloat
	}
	panic(fmt.Sprintf("graph: unsupported property type %s", t))
}

// walkFields calls fn for every db-tagged field of t, descending into embedded and untagged
// struct fields (Meta, Asset, Provenance).
func walkFields(t reflect.Type, fn func(f reflect.StructField, name, opt string)) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("db")
		if !ok {
			if f.Type.Kind() == reflect.Struct && f.Type != typeTime {
				walkFields(f.Type, fn)
			}
			continue
		}
		name, opt, _ := strings.Cut(tag, ",")
		fn(f, name, opt)
	}
}

// ID is a node's global id: opaque to clients, derived from label, twin and key, so it is stable
// across re-ingests and never stored.
func ID(label, twin, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(label + "\x1f" + twin + "\x1f" + key))
}

// ParseID reverses ID. It fails on ids that sectwin did not make.
func ParseID(id string) (label, twin, key string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return "", "", "", fmt.Errorf("malformed id %q", id)
	}
	parts := strings.SplitN(string(b), "\x1f", 3)
	if len(parts) != 3 || parts[1] == "" || parts[2] == "" {
		return "", "", "", fmt.Errorf("malformed id %q", id)
	}
	if _, ok := KindOf(parts[0]); !ok {
		return "", "", "", fmt.Errorf("malformed id %q", id)
	}
	return parts[0], parts[1], parts[2], nil
}

// AssetLabels lists the labels that carry criticality and crown-jewel marking.
func AssetLabels() []string { return slices.Clone(assetLabels) }
