package graph

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// Node is any node of the model, decoded: a *Component, *Service, *Vulnerability…
type Node interface {
	// Ref names the node: its label and natural key.
	Ref() NodeRef
	// TwinName is the twin the node belongs to.
	TwinName() string
}

// NodeRef names a node within a twin.
type NodeRef struct {
	Label string
	Key   string
}

func (r NodeRef) String() string { return r.Label + " " + r.Key }

// GlobalID returns a node's global id (see ID).
func GlobalID(n Node) string { r := n.Ref(); return ID(r.Label, n.TwinName(), r.Key) }

// TwinName implements Node.
func (m *Meta) TwinName() string { return m.Twin }

// Ref implementations: one per label.
func (n *Twin) Ref() NodeRef          { return NodeRef{LabelTwin, n.Name} }
func (n *Component) Ref() NodeRef     { return NodeRef{LabelComponent, n.Purl} }
func (n *Artifact) Ref() NodeRef      { return NodeRef{LabelArtifact, n.Digest} }
func (n *Service) Ref() NodeRef       { return NodeRef{LabelService, n.Name} }
func (n *Host) Ref() NodeRef          { return NodeRef{LabelHost, n.Name} }
func (n *Zone) Ref() NodeRef          { return NodeRef{LabelZone, n.Name} }
func (n *Identity) Ref() NodeRef      { return NodeRef{LabelIdentity, n.Name} }
func (n *Credential) Ref() NodeRef    { return NodeRef{LabelCredential, n.Name} }
func (n *DataStore) Ref() NodeRef     { return NodeRef{LabelDataStore, n.Name} }
func (n *Vulnerability) Ref() NodeRef { return NodeRef{LabelVulnerability, n.VulnerabilityID} }
func (n *Finding) Ref() NodeRef       { return NodeRef{LabelFinding, n.Fingerprint} }
func (n *Threat) Ref() NodeRef        { return NodeRef{LabelThreat, n.TechniqueID} }

// Projections: a read that knows which properties its caller will use returns only those (with
// twin and the key, which every node needs), as a map, instead of the whole node. Property names
// come from the model only, never from input.

// project returns the Cypher expression for variable v of label: the node itself when props is
// nil, else a map projection of the props the label has.
func project(v, label string, props []string) string {
	if props == nil {
		return v
	}
	k, ok := KindOf(label)
	if !ok {
		return v
	}
	parts := []string{".twin", "." + k.Key}
	for _, p := range props {
		if _, ok := k.Props[p]; ok {
			parts = append(parts, "."+p)
		}
		if p == "provenance" {
			parts = append(parts, ".sources", ".firstSeen", ".lastSeen")
		}
	}
	return fmt.Sprintf("%s {%s}", v, strings.Join(parts, ", "))
}

// decodeAs turns what project returned into the label's struct: a node, or a projected map.
func decodeAs(label string, v any) (Node, error) {
	switch x := v.(type) {
	case neo4j.Node:
		return decodeNode(x)
	case map[string]any:
		k, ok := KindOf(label)
		if !ok {
			return nil, fmt.Errorf("unknown label %q", label)
		}
		n := reflect.New(k.goType)
		decodeInto(n.Interface(), x)
		return n.Interface().(Node), nil
	}
	return nil, fmt.Errorf("cannot decode %T as %s", v, label)
}

// decodeNode turns a Neo4j node of the model into its struct, chosen by label.
func decodeNode(n neo4j.Node) (Node, error) {
	for _, l := range n.Labels {
		k, ok := KindOf(l)
		if !ok {
			continue
		}
		v := reflect.New(k.goType)
		decodeInto(v.Interface(), n.Props)
		return v.Interface().(Node), nil
	}
	return nil, fmt.Errorf("node with labels %v is not part of the twin model", n.Labels)
}

// ID implementations: each node's global id (see ID).
func (n *Twin) ID() string          { return GlobalID(n) }
func (n *Component) ID() string     { return GlobalID(n) }
func (n *Artifact) ID() string      { return GlobalID(n) }
func (n *Service) ID() string       { return GlobalID(n) }
func (n *Host) ID() string          { return GlobalID(n) }
func (n *Zone) ID() string          { return GlobalID(n) }
func (n *Identity) ID() string      { return GlobalID(n) }
func (n *Credential) ID() string    { return GlobalID(n) }
func (n *DataStore) ID() string     { return GlobalID(n) }
func (n *Vulnerability) ID() string { return GlobalID(n) }
func (n *Finding) ID() string       { return GlobalID(n) }
func (n *Threat) ID() string        { return GlobalID(n) }

// InternetExposed reports an exposure to a zone marked internet.
func (a AffectedService) InternetExposed() bool {
	for _, e := range a.Exposures {
		if e.Internet {
			return true
		}
	}
	return false
}
