// Package manifest reads declarative twin manifests, in the spirit of kubectl apply: one YAML
// file declares the zones, hosts, artifacts, services, reachability, identities, credentials,
// data stores and data flows of a twin, and Apply makes the twin hold them.
//
// Parse is strict: unknown fields, wrong types, bad enum values, duplicate names and dangling
// references are all reported together, each with its file, line, column and field path. A
// manifest that parses maps onto a graph.Batch that passes the model's validation.
//
// The format is documented in docs/manifest.md.
package manifest

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sectwin/sectwin/internal/auth"
)

// APIVersion and Kind are the only ones this version of sectwin reads.
const (
	APIVersion = "sectwin/v1"
	Kind       = "Twin"
)

// MaxSize bounds a manifest file: 4 MiB.
const MaxSize = 4 << 20

// SourcePrefix starts the provenance source of everything a manifest writes.
const SourcePrefix = "manifest:"

// Manifest is one parsed manifest file.
type Manifest struct {
	APIVersion string   `yaml:"apiVersion"`
	Kind       string   `yaml:"kind"`
	Metadata   Metadata `yaml:"metadata"`
	Spec       Spec     `yaml:"spec"`
	// File is the name Parse was given, used in errors.
	File string `yaml:"-"`

	// pos maps field paths ("spec.services[3].hosts[0]") to their YAML nodes, for positions in
	// problems found after parsing. Nil for manifests built in Go.
	pos map[string]*yaml.Node
	// bad holds the field paths Parse already reported, so later checks stay quiet about them.
	bad map[string]bool
}

// Metadata names a manifest and the twin it declares.
type Metadata struct {
	// Name identifies the manifest: its provenance source is "manifest:<name>", and --prune only
	// touches what that source wrote.
	Name string `yaml:"name"`
	// Twin is the twin to write to; it defaults to Name.
	Twin string `yaml:"twin"`
	// Description becomes the twin's description.
	Description string `yaml:"description"`
}

// Spec is what a manifest declares.
type Spec struct {
	Zones       []Zone       `yaml:"zones"`
	Hosts       []Host       `yaml:"hosts"`
	Artifacts   []Artifact   `yaml:"artifacts"`
	Services    []Service    `yaml:"services"`
	Reaches     []Reach      `yaml:"reaches"`
	Identities  []Identity   `yaml:"identities"`
	Credentials []Credential `yaml:"credentials"`
	DataStores  []DataStore  `yaml:"dataStores"`
	DataFlows   []DataFlow   `yaml:"dataFlows"`
}

// Asset is what every asset may carry: how much it matters. Unset fields are not written.
type Asset struct {
	Criticality string `yaml:"criticality"` // LOW, MEDIUM, HIGH, CRITICAL
	CrownJewel  *bool  `yaml:"crownJewel"`
	// Controls are declared security controls (graph.Controls): WAF, IPS, EDR, MFA…
	Controls []string `yaml:"controls"`
}

// Zone is a network segment (graph label Zone).
type Zone struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	Internet    *bool  `yaml:"internet"`
	Trust       string `yaml:"trust"` // UNTRUSTED, LOW, MEDIUM, HIGH
	Asset       `yaml:",inline"`
}

// Host is a machine, VM, node or device (graph label Host).
type Host struct {
	Name      string   `yaml:"name"`
	Zone      string   `yaml:"zone"` // → IN_ZONE
	OS        string   `yaml:"os"`
	Type      string   `yaml:"type"`
	Addresses []string `yaml:"addresses"`
	RunsAs    string   `yaml:"runsAs"` // identity → RUNS_AS
	// Credentials are the credentials the host stores (→ STORES).
	Credentials []string `yaml:"credentials"`
	Asset       `yaml:",inline"`
}

// Artifact is a container image, build or package (graph label Artifact), keyed by digest.
type Artifact struct {
	Digest string `yaml:"digest"` // sha256:<64 hex> or sha512:<128 hex>
	Name   string `yaml:"name"`
	Type   string `yaml:"type"` // IMAGE, BUILD, PACKAGE
	URI    string `yaml:"uri"`
	Asset  `yaml:",inline"`
}

// Service is a deployed unit (graph label Service).
type Service struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Hosts it is deployed on (→ DEPLOYED_ON).
	Hosts []string `yaml:"hosts"`
	// Zone it is in (→ IN_ZONE), meant for services without hosts.
	Zone string `yaml:"zone"`
	// Runs names artifacts by digest or by name (→ RUNS).
	Runs        []string   `yaml:"runs"`
	Endpoints   []string   `yaml:"endpoints"`
	Exposes     []Exposure `yaml:"exposes"` // → EXPOSES
	RunsAs      string     `yaml:"runsAs"`  // identity → RUNS_AS
	Credentials []string   `yaml:"credentials"`
	Asset       `yaml:",inline"`
}

// Exposure is a port a service exposes to a zone (→ EXPOSES).
type Exposure struct {
	Zone     string `yaml:"zone"`
	Port     int    `yaml:"port"`
	Proto    string `yaml:"proto"` // tcp (default) or udp
	Endpoint string `yaml:"endpoint"`
}

// Ref names one node of the manifest by kind: exactly one field is set. Which kinds a ref may name
// depends on where it is (see docs/manifest.md).
type Ref struct {
	Zone       string `yaml:"zone"`
	Host       string `yaml:"host"`
	Service    string `yaml:"service"`
	DataStore  string `yaml:"dataStore"`
	Credential string `yaml:"credential"`
}

// Reach says that from can open connections to to on a port (→ REACHES).
type Reach struct {
	From        Ref    `yaml:"from"` // zone, host or service
	To          Ref    `yaml:"to"`   // zone, host, service or dataStore
	Port        int    `yaml:"port"`
	Proto       string `yaml:"proto"` // tcp (default) or udp
	Description string `yaml:"description"`
}

// Identity is a principal (graph label Identity).
type Identity struct {
	Name       string   `yaml:"name"`
	Type       string   `yaml:"type"` // USER, SERVICE, ROLE
	Privileged *bool    `yaml:"privileged"`
	Access     []Access `yaml:"access"` // → HAS_ACCESS
	Asset      `yaml:",inline"`
}

// Access is what an identity may do to a data store, service, host or credential.
type Access struct {
	Ref  `yaml:",inline"`
	Mode string `yaml:"mode"` // read, write, admin
}

// Credential is a secret (graph label Credential).
type Credential struct {
	Name          string `yaml:"name"`
	Type          string `yaml:"type"`          // PASSWORD, KEY, TOKEN, CERTIFICATE
	Authenticates string `yaml:"authenticates"` // identity → AUTHENTICATES
	Asset         `yaml:",inline"`
}

// DataStore holds data (graph label DataStore).
type DataStore struct {
	Name           string   `yaml:"name"`
	Type           string   `yaml:"type"`
	Classification string   `yaml:"classification"` // PUBLIC, INTERNAL, CONFIDENTIAL, RESTRICTED
	Host           string   `yaml:"host"`           // → DEPLOYED_ON
	Zone           string   `yaml:"zone"`           // → IN_ZONE
	Credentials    []string `yaml:"credentials"`    // → STORES
	Asset          `yaml:",inline"`
}

// DataFlow is data moving between services and data stores (→ FLOWS_TO).
type DataFlow struct {
	From           Ref    `yaml:"from"` // service or dataStore
	To             Ref    `yaml:"to"`   // service or dataStore
	Data           string `yaml:"data"`
	Protocol       string `yaml:"protocol"`
	Encrypted      *bool  `yaml:"encrypted"`
	Classification string `yaml:"classification"`
}

// TwinName is the twin the manifest writes to: Metadata.Twin, or Metadata.Name without one.
func (m *Manifest) TwinName() string {
	if m.Metadata.Twin != "" {
		return m.Metadata.Twin
	}
	return m.Metadata.Name
}

// Source is the provenance source of what the manifest writes, "manifest:<name>": it scopes prune.
func (m *Manifest) Source() string { return SourcePrefix + m.Metadata.Name }

// ValidName reports whether s is a legal manifest or twin name: lower-case letters, digits, '-'
// and '_', starting with a letter or digit, at most 63 characters.
func ValidName(s string) bool { return auth.ValidTwinName(s) }

// Problem is one thing wrong with a manifest.
type Problem struct {
	File   string
	Line   int // 1-based; 0 when the problem has no position (an empty file)
	Column int // 1-based; 0 when unknown (YAML syntax errors)
	// Field is the path of the field at fault, "spec.services[3].exposes[0].port"; empty for
	// problems with the file as a whole.
	Field   string
	Message string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Column > 0 {
			fmt.Fprintf(&b, ":%d", p.Column)
		}
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists everything wrong with a manifest, in file order. Nothing is written.
type Error struct{ Problems []Problem }

// Error joins the problems, one a line: "file:line:col: field: message".
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
