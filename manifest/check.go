package manifest

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sectwin/sectwin/graph"
)

// Enumerations of the format.
var (
	criticalities   = []string{"LOW", "MEDIUM", "HIGH", "CRITICAL"}
	trustLevels     = []string{"UNTRUSTED", "LOW", "MEDIUM", "HIGH"}
	artifactTypes   = []string{"IMAGE", "BUILD", "PACKAGE"}
	identityTypes   = []string{"USER", "SERVICE", "ROLE"}
	credentialTypes = []string{"PASSWORD", "KEY", "TOKEN", "CERTIFICATE"}
	classifications = []string{"PUBLIC", "INTERNAL", "CONFIDENTIAL", "RESTRICTED"}
	protos          = []string{"tcp", "udp"}
	accessModes     = []string{"read", "write", "admin"}
)

var digestRE = regexp.MustCompile(`^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$`)

// Validate checks the manifest as Parse does: required fields, enumerations, names, duplicates and
// references. It returns an *Error, with positions when the manifest came from Parse.
func (m *Manifest) Validate() error {
	if m == nil {
		return &Error{Problems: []Problem{{Message: "no manifest"}}}
	}
	p := &problems{file: m.File}
	m.check(p)
	return p.err()
}

// checker runs the checks that need the whole manifest decoded.
type checker struct {
	m *Manifest
	p *problems

	zones, hosts, services, identities, credentials, dataStores map[string]int
	artifacts                                                   map[string]int   // by digest
	artifactNames                                               map[string][]int // by name
}

func (m *Manifest) check(p *problems) {
	c := &checker{m: m, p: p}
	c.header()
	s := &m.Spec
	c.zones = names(c, "spec.zones", s.Zones, func(z Zone) string { return z.Name })
	c.hosts = names(c, "spec.hosts", s.Hosts, func(h Host) string { return h.Name })
	c.services = names(c, "spec.services", s.Services, func(v Service) string { return v.Name })
	c.identities = names(c, "spec.identities", s.Identities, func(v Identity) string { return v.Name })
	c.credentials = names(c, "spec.credentials", s.Credentials, func(v Credential) string { return v.Name })
	c.dataStores = names(c, "spec.dataStores", s.DataStores, func(v DataStore) string { return v.Name })
	c.artifactIndex()

	for i, z := range s.Zones {
		path := fmt.Sprintf("spec.zones[%d]", i)
		c.str(path+".description", z.Description)
		c.enum(path+".trust", z.Trust, trustLevels)
		c.asset(path, z.Asset)
	}
	for i, h := range s.Hosts {
		path := fmt.Sprintf("spec.hosts[%d]", i)
		c.ref(path+".zone", h.Zone, c.zones, "zone", "spec.zones")
		c.str(path+".os", h.OS)
		c.str(path+".type", h.Type)
		c.propList(path+".addresses", h.Addresses)
		c.ref(path+".runsAs", h.RunsAs, c.identities, "identity", "spec.identities")
		c.refList(path+".credentials", h.Credentials, c.credentials, "credential", "spec.credentials")
		c.asset(path, h.Asset)
	}
	for i, a := range s.Artifacts {
		path := fmt.Sprintf("spec.artifacts[%d]", i)
		c.str(path+".name", a.Name)
		c.enum(path+".type", a.Type, artifactTypes)
		c.str(path+".uri", a.URI)
		c.asset(path, a.Asset)
	}
	for i, v := range s.Services {
		c.service(fmt.Sprintf("spec.services[%d]", i), v)
	}
	reaches := map[string]string{}
	for i, r := range s.Reaches {
		path := fmt.Sprintf("spec.reaches[%d]", i)
		from, ok1 := c.endpoint(path+".from", r.From, "zone", "host", "service")
		to, ok2 := c.endpoint(path+".to", r.To, "zone", "host", "service", "dataStore")
		okPort := c.port(path+".port", r.Port)
		c.enum(path+".proto", r.Proto, protos)
		c.str(path+".description", r.Description)
		if ok1 && ok2 && okPort {
			key := fmt.Sprintf("%s|%s|%d|%s", from, to, r.Port, cmp.Or(r.Proto, "tcp"))
			if first, dup := reaches[key]; dup {
				c.addf(path, "the same reach as %s (from, to, port and proto)", first)
			} else {
				reaches[key] = path
			}
		}
	}
	for i, id := range s.Identities {
		path := fmt.Sprintf("spec.identities[%d]", i)
		c.enum(path+".type", id.Type, identityTypes)
		c.asset(path, id.Asset)
		seen := map[string]string{}
		for j, a := range id.Access {
			apath := fmt.Sprintf("%s.access[%d]", path, j)
			target, ok := c.endpoint(apath, a.Ref, "dataStore", "service", "host", "credential")
			c.enum(apath+".mode", a.Mode, accessModes)
			if ok {
				if first, dup := seen[target]; dup {
					c.addf(apath, "access to the same %s as %s; give one entry per target", target, first)
				} else {
					seen[target] = apath
				}
			}
		}
	}
	for i, cr := range s.Credentials {
		path := fmt.Sprintf("spec.credentials[%d]", i)
		c.enum(path+".type", cr.Type, credentialTypes)
		c.ref(path+".authenticates", cr.Authenticates, c.identities, "identity", "spec.identities")
		c.asset(path, cr.Asset)
	}
	for i, ds := range s.DataStores {
		path := fmt.Sprintf("spec.dataStores[%d]", i)
		c.str(path+".type", ds.Type)
		c.enum(path+".classification", ds.Classification, classifications)
		c.ref(path+".host", ds.Host, c.hosts, "host", "spec.hosts")
		c.ref(path+".zone", ds.Zone, c.zones, "zone", "spec.zones")
		c.refList(path+".credentials", ds.Credentials, c.credentials, "credential", "spec.credentials")
		c.asset(path, ds.Asset)
	}
	flows := map[string]string{}
	for i, f := range s.DataFlows {
		path := fmt.Sprintf("spec.dataFlows[%d]", i)
		from, ok1 := c.endpoint(path+".from", f.From, "service", "dataStore")
		to, ok2 := c.endpoint(path+".to", f.To, "service", "dataStore")
		c.str(path+".data", f.Data)
		c.str(path+".protocol", f.Protocol)
		c.enum(path+".classification", f.Classification, classifications)
		if ok1 && ok2 {
			key := from + "|" + to
			if first, dup := flows[key]; dup {
				c.addf(path, "the same flow as %s (from and to); describe both data in one flow", first)
			} else {
				flows[key] = path
			}
		}
	}
}

func (c *checker) header() {
	m := c.m
	switch {
	case m.APIVersion == "":
		c.required("apiVersion", fmt.Sprintf("; this sectwin reads apiVersion: %s", APIVersion))
	case m.APIVersion != APIVersion:
		c.addf("apiVersion", "unsupported apiVersion %q; this sectwin reads %s", m.APIVersion, APIVersion)
	}
	switch {
	case m.Kind == "":
		c.required("kind", "; want kind: "+Kind)
	case m.Kind != Kind:
		c.addf("kind", "unsupported kind %q; want %s", m.Kind, Kind)
	}
	if m.Metadata.Name == "" {
		c.required("metadata.name", "")
	} else if !ValidName(m.Metadata.Name) {
		c.addf("metadata.name", "%q is not a valid name: want lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters", m.Metadata.Name)
	}
	if m.Metadata.Twin != "" && !ValidName(m.Metadata.Twin) {
		c.addf("metadata.twin", "%q is not a valid twin name: want lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters", m.Metadata.Twin)
	}
	c.str("metadata.description", m.Metadata.Description)
	if m.pos != nil && m.pos["spec"] == nil {
		c.required("spec", "; write spec: {} to declare nothing")
	}
}

func (c *checker) service(path string, v Service) {
	c.str(path+".description", v.Description)
	c.refList(path+".hosts", v.Hosts, c.hosts, "host", "spec.hosts")
	c.ref(path+".zone", v.Zone, c.zones, "zone", "spec.zones")
	seen := map[string]string{}
	for j, r := range v.Runs {
		rpath := fmt.Sprintf("%s.runs[%d]", path, j)
		digest, ok := c.artifact(rpath, r)
		if !ok {
			continue
		}
		if first, dup := seen[digest]; dup {
			c.addf(rpath, "the same artifact as %s", first)
		} else {
			seen[digest] = rpath
		}
	}
	c.propList(path+".endpoints", v.Endpoints)
	exposes := map[string]string{}
	for j, e := range v.Exposes {
		epath := fmt.Sprintf("%s.exposes[%d]", path, j)
		okZone := c.requiredRef(epath+".zone", e.Zone, c.zones, "zone", "spec.zones")
		okPort := c.port(epath+".port", e.Port)
		c.enum(epath+".proto", e.Proto, protos)
		c.str(epath+".endpoint", e.Endpoint)
		if okZone && okPort {
			key := fmt.Sprintf("%s|%d|%s", e.Zone, e.Port, cmp.Or(e.Proto, "tcp"))
			if first, dup := exposes[key]; dup {
				c.addf(epath, "the same exposure as %s (zone, port and proto)", first)
			} else {
				exposes[key] = epath
			}
		}
	}
	c.ref(path+".runsAs", v.RunsAs, c.identities, "identity", "spec.identities")
	c.refList(path+".credentials", v.Credentials, c.credentials, "credential", "spec.credentials")
	c.asset(path, v.Asset)
}

// addf reports a problem with the field at path, positioned at its node or, for a missing field,
// at the nearest enclosing one.
func (c *checker) addf(path, format string, args ...any) {
	pr := Problem{Field: path, Message: fmt.Sprintf(format, args...)}
	if n := c.node(path); n != nil {
		pr.Line, pr.Column = n.Line, n.Column
	}
	c.p.add(pr)
}

// node is the YAML node of path or of its nearest ancestor that has one.
func (c *checker) node(path string) *yaml.Node {
	if c.m.pos == nil {
		return nil
	}
	for {
		if n := c.m.pos[path]; n != nil {
			return n
		}
		if path == "" {
			return nil
		}
		path = parent(path)
	}
}

// parent strips the last field or index from a path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// quiet reports whether Parse already reported path or a field enclosing it: checks that depend
// on its value would only repeat the problem.
func (c *checker) quiet(path string) bool {
	if c.m.bad == nil {
		return false
	}
	for {
		if c.m.bad[path] {
			return true
		}
		if path == "" {
			return false
		}
		path = parent(path)
	}
}

func (c *checker) required(path, hint string) {
	if !c.quiet(path) {
		c.addf(path, "required%s", hint)
	}
}

// str checks a string property's length; the decoder does too, but manifests built in Go skip it.
func (c *checker) str(path, v string) {
	if len(v) > maxStringLen {
		c.addf(path, "longer than %d bytes", maxStringLen)
	}
}

func (c *checker) enum(path, v string, allowed []string) {
	c.str(path, v)
	if v != "" && !slices.Contains(allowed, v) && len(v) <= maxStringLen {
		hint := ""
		for _, a := range allowed {
			if strings.EqualFold(a, v) {
				hint = fmt.Sprintf(" (did you mean %s?)", a)
			}
		}
		c.addf(path, "%q is not one of %s%s", truncate(v), strings.Join(allowed, ", "), hint)
	}
}

func (c *checker) asset(path string, a Asset) {
	c.enum(path+".criticality", a.Criticality, criticalities)
	for i, ctl := range a.Controls {
		c.enum(fmt.Sprintf("%s.controls[%d]", path, i), ctl, graph.Controls)
	}
}

func (c *checker) propList(path string, list []string) {
	if len(list) > maxListLen {
		c.addf(path, "more than %d items", maxListLen)
	}
	for i, v := range list {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		c.str(ipath, v)
		if v == "" {
			c.required(ipath, ": empty items are not allowed")
		}
	}
}

func (c *checker) port(path string, port int) bool {
	switch {
	case c.quiet(path):
		return false
	case port == 0 && c.m.pos != nil && c.m.pos[path] == nil:
		c.addf(path, "required: a port from 1 to 65535")
		return false
	case port < 1 || port > 65535:
		c.addf(path, "%d is not a port: want 1 to 65535", port)
		return false
	}
	return true
}

// names checks the keys of one list: present, short enough, unique. It returns them by index.
func names[T any](c *checker, list string, items []T, name func(T) string) map[string]int {
	out := make(map[string]int, len(items))
	for i, it := range items {
		path := fmt.Sprintf("%s[%d].name", list, i)
		n := name(it)
		switch {
		case n == "":
			c.required(path, "")
			continue
		case len(n) > maxKeyLen:
			c.addf(path, "longer than %d bytes", maxKeyLen)
			continue
		}
		if first, dup := out[n]; dup {
			c.addf(path, "duplicate name %q: %s[%d] has it already", truncate(n), list, first)
			continue
		}
		out[n] = i
	}
	return out
}

func (c *checker) artifactIndex() {
	c.artifacts = map[string]int{}
	c.artifactNames = map[string][]int{}
	for i, a := range c.m.Spec.Artifacts {
		path := fmt.Sprintf("spec.artifacts[%d].digest", i)
		if a.Name != "" {
			c.artifactNames[a.Name] = append(c.artifactNames[a.Name], i)
		}
		switch {
		case a.Digest == "":
			c.required(path, ": sha256:<64 hex digits> or sha512:<128 hex digits>")
			continue
		case !digestRE.MatchString(a.Digest):
			c.addf(path, "%q is not a digest: want sha256:<64 lower-case hex digits> or sha512:<128>", truncate(a.Digest))
			continue
		}
		if first, dup := c.artifacts[a.Digest]; dup {
			c.addf(path, "duplicate digest: spec.artifacts[%d] has it already", first)
			continue
		}
		c.artifacts[a.Digest] = i
	}
}

// artifact resolves a runs entry, a digest or a name, to a declared artifact's digest.
func (c *checker) artifact(path, v string) (string, bool) {
	if c.quiet(path) {
		return "", false
	}
	if v == "" {
		c.required(path, ": an artifact's digest or name")
		return "", false
	}
	if _, ok := c.artifacts[v]; ok {
		return v, true
	}
	switch idx := c.artifactNames[v]; len(idx) {
	case 0:
		c.addf(path, "no artifact with digest or name %q in spec.artifacts", truncate(v))
		return "", false
	case 1:
		return c.m.Spec.Artifacts[idx[0]].Digest, true
	default:
		where := make([]string, len(idx))
		for i, j := range idx {
			where[i] = fmt.Sprintf("spec.artifacts[%d]", j)
		}
		c.addf(path, "ambiguous: artifacts %s are all named %q; name one by its digest", strings.Join(where, ", "), truncate(v))
		return "", false
	}
}

// ref checks an optional reference to a declared node.
func (c *checker) ref(path, v string, declared map[string]int, what, list string) bool {
	if v == "" || c.quiet(path) {
		return false
	}
	if _, ok := declared[v]; !ok {
		c.addf(path, "no %s named %q in %s", what, truncate(v), list)
		return false
	}
	return true
}

func (c *checker) requiredRef(path, v string, declared map[string]int, what, list string) bool {
	if v == "" {
		c.required(path, ": the name of a "+what+" in "+list)
		return false
	}
	return c.ref(path, v, declared, what, list)
}

func (c *checker) refList(path string, list []string, declared map[string]int, what, in string) {
	seen := map[string]int{}
	for i, v := range list {
		ipath := fmt.Sprintf("%s[%d]", path, i)
		if !c.requiredRef(ipath, v, declared, what, in) {
			continue
		}
		if first, dup := seen[v]; dup {
			c.addf(ipath, "%q is listed twice (also at %s[%d])", truncate(v), path, first)
			continue
		}
		seen[v] = i
	}
}

// endpoint checks a Ref that may name one of the given kinds, and returns a key for it.
func (c *checker) endpoint(path string, r Ref, allowed ...string) (string, bool) {
	if c.quiet(path) {
		return "", false
	}
	set := map[string]string{"zone": r.Zone, "host": r.Host, "service": r.Service, "dataStore": r.DataStore, "credential": r.Credential}
	var named []string
	ok := true
	for _, k := range []string{"zone", "host", "service", "dataStore", "credential"} {
		if set[k] == "" {
			continue
		}
		if !slices.Contains(allowed, k) {
			c.addf(join(path, k), "cannot name a %s here; name one of %s", k, strings.Join(allowed, ", "))
			ok = false
			continue
		}
		named = append(named, k)
	}
	if !ok {
		return "", false
	}
	switch len(named) {
	case 0:
		c.required(path, ": name one of "+strings.Join(allowed, ", "))
		return "", false
	case 1:
	default:
		c.addf(path, "names %s at once; name exactly one of %s", strings.Join(named, " and "), strings.Join(allowed, ", "))
		return "", false
	}
	k := named[0]
	declared, list := c.index(k)
	if !c.ref(join(path, k), set[k], declared, k, list) {
		return "", false
	}
	return k + ":" + set[k], true
}

func (c *checker) index(kind string) (map[string]int, string) {
	switch kind {
	case "zone":
		return c.zones, "spec.zones"
	case "host":
		return c.hosts, "spec.hosts"
	case "service":
		return c.services, "spec.services"
	case "dataStore":
		return c.dataStores, "spec.dataStores"
	default:
		return c.credentials, "spec.credentials"
	}
}

func truncate(s string) string {
	if len(s) <= 60 {
		return s
	}
	return s[:60] + "…"
}
