package manifest

import (
	"cmp"

	"github.com/sectwin/sectwin/graph"
)

// props builds a node's or edge's property map from the fields a manifest sets: unset fields are
// left out, so applying a manifest never erases what other sources wrote.
type props map[string]any

func (p props) str(name, v string) props {
	if v != "" {
		p[name] = v
	}
	return p
}

func (p props) flag(name string, v *bool) props {
	if v != nil {
		p[name] = *v
	}
	return p
}

func (p props) list(name string, v []string) props {
	if len(v) > 0 {
		p[name] = v
	}
	return p
}

func (p props) asset(a Asset) props {
	return p.str("criticality", a.Criticality).flag("crownJewel", a.CrownJewel).list("controls", a.Controls)
}

// Batch returns the nodes and edges the manifest declares. For a manifest that passed Parse or
// Validate it passes graph's Batch.Validate.
func (m *Manifest) Batch() graph.Batch {
	var b graph.Batch
	s := &m.Spec
	node := func(label, key string, p props) {
		b.Nodes = append(b.Nodes, graph.NodeRow{Label: label, Key: key, Props: p})
	}
	edge := func(typ string, from, to graph.NodeRef, p props) {
		if p == nil {
			p = props{}
		}
		b.Edges = append(b.Edges, graph.EdgeRow{Type: typ, From: from, To: to, Props: p})
	}
	ref := func(label, key string) graph.NodeRef { return graph.NodeRef{Label: label, Key: key} }
	stores := func(from graph.NodeRef, creds []string) {
		for _, c := range creds {
			edge("STORES", from, ref(graph.LabelCredential, c), nil)
		}
	}

	for _, z := range s.Zones {
		node(graph.LabelZone, z.Name, props{}.str("description", z.Description).flag("internet", z.Internet).
			str("trust", z.Trust).asset(z.Asset))
	}
	for _, h := range s.Hosts {
		node(graph.LabelHost, h.Name, props{}.str("os", h.OS).str("type", h.Type).list("addresses", h.Addresses).asset(h.Asset))
		self := ref(graph.LabelHost, h.Name)
		if h.Zone != "" {
			edge("IN_ZONE", self, ref(graph.LabelZone, h.Zone), nil)
		}
		if h.RunsAs != "" {
			edge("RUNS_AS", self, ref(graph.LabelIdentity, h.RunsAs), nil)
		}
		stores(self, h.Credentials)
	}
	byName := map[string][]string{}
	digests := map[string]bool{}
	for _, a := range s.Artifacts {
		node(graph.LabelArtifact, a.Digest, props{}.str("name", a.Name).str("type", a.Type).str("uri", a.URI).asset(a.Asset))
		digests[a.Digest] = true
		if a.Name != "" {
			byName[a.Name] = append(byName[a.Name], a.Digest)
		}
	}
	// artifact resolves a runs entry: a declared digest, else the digest of the one artifact
	// with that name, else the entry itself (which Validate reports).
	artifact := func(v string) string {
		if !digests[v] && len(byName[v]) == 1 {
			return byName[v][0]
		}
		return v
	}
	for _, v := range s.Services {
		node(graph.LabelService, v.Name, props{}.str("description", v.Description).list("endpoints", v.Endpoints).asset(v.Asset))
		self := ref(graph.LabelService, v.Name)
		for _, h := range v.Hosts {
			edge("DEPLOYED_ON", self, ref(graph.LabelHost, h), nil)
		}
		if v.Zone != "" {
			edge("IN_ZONE", self, ref(graph.LabelZone, v.Zone), nil)
		}
		for _, r := range v.Runs {
			edge("RUNS", self, ref(graph.LabelArtifact, artifact(r)), nil)
		}
		for _, e := range v.Exposes {
			edge("EXPOSES", self, ref(graph.LabelZone, e.Zone),
				props{"port": e.Port, "proto": cmp.Or(e.Proto, "tcp")}.str("endpoint", e.Endpoint))
		}
		if v.RunsAs != "" {
			edge("RUNS_AS", self, ref(graph.LabelIdentity, v.RunsAs), nil)
		}
		stores(self, v.Credentials)
	}
	for _, r := range s.Reaches {
		edge("REACHES", r.From.node(), r.To.node(),
			props{"port": r.Port, "proto": cmp.Or(r.Proto, "tcp")}.str("description", r.Description))
	}
	for _, id := range s.Identities {
		node(graph.LabelIdentity, id.Name, props{}.str("type", id.Type).flag("privileged", id.Privileged).asset(id.Asset))
		for _, a := range id.Access {
			edge("HAS_ACCESS", ref(graph.LabelIdentity, id.Name), a.node(), props{}.str("mode", a.Mode))
		}
	}
	for _, c := range s.Credentials {
		node(graph.LabelCredential, c.Name, props{}.str("type", c.Type).asset(c.Asset))
		if c.Authenticates != "" {
			edge("AUTHENTICATES", ref(graph.LabelCredential, c.Name), ref(graph.LabelIdentity, c.Authenticates), nil)
		}
	}
	for _, ds := range s.DataStores {
		node(graph.LabelDataStore, ds.Name, props{}.str("type", ds.Type).str("classification", ds.Classification).asset(ds.Asset))
		self := ref(graph.LabelDataStore, ds.Name)
		if ds.Host != "" {
			edge("DEPLOYED_ON", self, ref(graph.LabelHost, ds.Host), nil)
		}
		if ds.Zone != "" {
			edge("IN_ZONE", self, ref(graph.LabelZone, ds.Zone), nil)
		}
		stores(self, ds.Credentials)
	}
	for _, f := range s.DataFlows {
		edge("FLOWS_TO", f.From.node(), f.To.node(), props{}.str("data", f.Data).str("protocol", f.Protocol).
			flag("encrypted", f.Encrypted).str("classification", f.Classification))
	}
	return b
}

// node is the graph node a ref names: the first kind set. Validate makes sure exactly one is.
func (r Ref) node() graph.NodeRef {
	switch {
	case r.Zone != "":
		return graph.NodeRef{Label: graph.LabelZone, Key: r.Zone}
	case r.Host != "":
		return graph.NodeRef{Label: graph.LabelHost, Key: r.Host}
	case r.Service != "":
		return graph.NodeRef{Label: graph.LabelService, Key: r.Service}
	case r.DataStore != "":
		return graph.NodeRef{Label: graph.LabelDataStore, Key: r.DataStore}
	case r.Credential != "":
		return graph.NodeRef{Label: graph.LabelCredential, Key: r.Credential}
	}
	return graph.NodeRef{}
}
