package twingen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/sectwin/sectwin/graph"
)

// Rows: property maps are derived when rows are materialised, from the seed and the node's (or
// edge's) index alone, so they are deterministic without being stored.

// rng is the random source of one node's or edge's properties.
func (t *Twin) rng(kind uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(t.cfg.Seed)^kind, uint64(i)*0x9e3779b97f4a7c15+kind))
}

const (
	rngNode = 0x6e6f6465
	rngEdge = 0x65646765
)

// Rows is the number of rows Write writes: every node and every edge.
func (t *Twin) Rows() int { return len(t.keys) + len(t.edges) }

// Batches yields the twin as batches of at most rows rows: every node first, label by label,
// then every edge. A batch holds nodes or edges, never both. rows <= 0 means the config's
// BatchRows.
func (t *Twin) Batches(rows int) iter.Seq[graph.Batch] {
	if rows <= 0 {
		rows = t.cfg.BatchRows
	}
	return func(yield func(graph.Batch) bool) {
		for lo := 0; lo < len(t.keys); lo += rows {
			b := graph.Batch{Nodes: make([]graph.NodeRow, 0, min(rows, len(t.keys)-lo))}
			for gi := lo; gi < min(lo+rows, len(t.keys)); gi++ {
				b.Nodes = append(b.Nodes, t.node(int32(gi)))
			}
			if !yield(b) {
				return
			}
		}
		for lo := 0; lo < len(t.edges); lo += rows {
			b := graph.Batch{Edges: make([]graph.EdgeRow, 0, min(rows, len(t.edges)-lo))}
			for i := lo; i < min(lo+rows, len(t.edges)); i++ {
				b.Edges = append(b.Edges, t.edge(i))
			}
			if !yield(b) {
				return
			}
		}
	}
}

func (t *Twin) ref(gi int32) graph.NodeRef {
	return graph.NodeRef{Label: labelNames[t.labelOf(gi)], Key: t.keys[gi]}
}

// pkgOf returns the package of a component by global index.
func (t *Twin) pkgOf(gi int32) pkg { return t.pkgs[t.aux[gi]] }

// version is the version part of a component's purl.
func (t *Twin) version(gi int32) string {
	k := t.keys[gi]
	return k[strings.LastIndexByte(k, '@')+1:]
}

func pick[T any](r *rand.Rand, list ...T) T { return list[r.IntN(len(list))] }

// criticality: most assets are unrated, a few are CRITICAL.
func criticality(r *rand.Rand, props map[string]any, rated float64) {
	if r.Float64() < rated {
		props["criticality"] = []string{"LOW", "MEDIUM", "MEDIUM", "HIGH", "HIGH", "CRITICAL"}[r.IntN(6)]
		if r.Float64() < 0.08 {
			props["crownJewel"] = true
		}
	}
}

func (t *Twin) node(gi int32) graph.NodeRow {
	l := t.labelOf(gi)
	r := t.rng(rngNode, int(gi))
	key := t.keys[gi]
	p := map[string]any{}
	switch l {
	case lZone:
		z := int(gi - t.off[lZone])
		p["internet"] = z == internetZone
		switch {
		case z == internetZone:
			p["trust"], p["description"] = "UNTRUSTED", "everything outside"
		case z == 1:
			p["trust"], p["description"] = "LOW", "demilitarised zone"
		case strings.Contains(key, "data") || key == "payments":
			p["trust"], p["criticality"] = "HIGH", "HIGH"
		default:
			p["trust"] = pick(r, "MEDIUM", "MEDIUM", "HIGH")
		}
	case lHost:
		z := t.aux[gi]
		i := gi - t.off[lHost]
		p["os"] = pick(r, "ubuntu-22.04", "ubuntu-24.04", "rhel-9", "debian-12", "amazonlinux-2023", "windows-server-2022")
		p["type"] = pick(r, "VM", "VM", "NODE", "NODE", "DEVICE")
		p["addresses"] = []string{fmt.Sprintf("10.%d.%d.%d", z, i/250, 1+i%250)}
		criticality(r, p, 0.3)
	case lIdentity:
		p["type"] = map[string]string{"user": "USER", "sa": "SERVICE", "role": "ROLE"}[key[:strings.IndexByte(key, '-')]]
		p["privileged"] = r.Float64() < 0.06
		criticality(r, p, 0.2)
	case lCredential:
		p["type"] = pick(r, "PASSWORD", "KEY", "TOKEN", "TOKEN", "CERTIFICATE")
		criticality(r, p, 0.3)
	case lDataStore:
		p["type"] = map[string]string{"pg": "postgres", "mysql": "mysql", "s3": "bucket", "redis": "redis",
			"kafka": "queue", "mongo": "mongodb", "nfs": "file-share"}[key[:strings.IndexByte(key, '-')]]
		p["classification"] = pick(r, "PUBLIC", "INTERNAL", "INTERNAL", "CONFIDENTIAL", "CONFIDENTIAL", "RESTRICTED")
		criticality(r, p, 0.6)
	case lService:
		p["description"] = "synthetic service " + key
		p["endpoints"] = []string{fmt.Sprintf("https://%s:443/", key)}
		criticality(r, p, 0.7)
	case lArtifact:
		name := fmt.Sprintf("%s/%s", pick(r, "payments", "platform", "web", "data", "identity", "mobile"), word(r))
		tag := fmt.Sprintf("%d.%d.%d", r.IntN(5), r.IntN(30), r.IntN(20))
		p["name"] = name
		p["type"] = pick(r, "IMAGE", "IMAGE", "IMAGE", "IMAGE", "BUILD")
		p["uri"] = "registry.example.com/" + name + ":" + tag
		criticality(r, p, 0.2)
	case lComponent:
		pk := t.pkgOf(gi)
		eco := ecosystems[pk.eco]
		sum := sha256.Sum256([]byte(key))
		p["name"] = displayName(int(pk.eco), pk.name)
		p["version"] = t.version(gi)
		p["type"] = "library"
		p["licenses"] = []string{pick(r, eco.licenses...)}
		p["hashes"] = []string{"sha256:" + hex.EncodeToString(sum[:])}
		if pk.eco == ecoMaven {
			p["supplier"] = pk.name[:strings.IndexByte(pk.name, '/')]
		}
		criticality(r, p, 0.02)
	case lVulnerability:
		vulnProps(r, p, t, gi)
	case lFinding:
		findingProps(r, p, t, gi)
	}
	return graph.NodeRow{Label: labelNames[l], Key: key, Props: p}
}

// vulnProps: CVSS roughly normal around 6.8, severity from it; EPSS heavy-tailed (most near
// zero, a few percent above 0.1); KEV for a fraction of the likely exploited.
func vulnProps(r *rand.Rand, p map[string]any, t *Twin, gi int32) {
	cwe := pick(r, "CWE-79", "CWE-89", "CWE-20", "CWE-22", "CWE-400", "CWE-502", "CWE-787", "CWE-918", "CWE-1321", "CWE-94")
	what := "a component"
	if first := t.aux[gi]; first > 0 {
		c := t.gi(lComponent, int(first-1))
		what = t.pkgOf(c).name + " before " + nextPatch(t.version(c))
	}
	p["summary"] = fmt.Sprintf("Synthetic %s weakness in %s", cwe, what)
	p["cwes"] = []string{cwe}
	if id := t.keys[gi]; strings.HasPrefix(id, "GHSA-") && r.Float64() < 0.7 {
		p["aliases"] = []string{fmt.Sprintf("CVE-%d-%d", 2018+r.IntN(8), 100000+r.IntN(50000))}
	}
	if r.Float64() < 0.03 {
		p["severity"] = "UNKNOWN"
	} else {
		cvss := math.Round(min(10, max(1, 6.8+1.6*r.NormFloat64()))*10) / 10
		p["cvssScore"] = cvss
		p["cvssVector"] = fmt.Sprintf("CVSS:3.1/AV:%s/AC:%s/PR:N/UI:N/S:U/C:H/I:%s/A:%s",
			pick(r, "N", "N", "N", "A", "L"), pick(r, "L", "L", "H"), pick(r, "H", "L", "N"), pick(r, "H", "L", "N"))
		switch {
		case cvss < 4:
			p["severity"] = "LOW"
		case cvss < 7:
			p["severity"] = "MEDIUM"
		case cvss < 9:
			p["severity"] = "HIGH"
		default:
			p["severity"] = "CRITICAL"
		}
	}
	if r.Float64() < 0.9 {
		epss := math.Round(min(0.97, math.Exp(-6.2+2.0*r.NormFloat64()))*1e5) / 1e5
		p["epss"] = epss
		p["kev"] = (epss > 0.2 && r.Float64() < 0.35) || r.Float64() < 0.002
	} else {
		p["kev"] = false
	}
}

func findingProps(r *rand.Rand, p map[string]any, t *Twin, gi int32) {
	if v := t.aux[gi]; v > 0 {
		id := t.keys[t.gi(lVulnerability, int(v-1))]
		p["tool"] = pick(r, "trivy", "grype", "osv-scanner")
		p["ruleId"] = id
		p["message"] = "vulnerable dependency: " + id
		p["severity"] = pick(r, "LOW", "MEDIUM", "HIGH", "HIGH", "CRITICAL")
		p["location"] = "package-lock.json"
	} else {
		tool := pick(r, "semgrep", "zap", "checkov", "gitleaks")
		p["tool"] = tool
		p["ruleId"] = fmt.Sprintf("%s.rule-%03d", tool, r.IntN(400))
		p["message"] = "synthetic " + tool + " finding"
		p["severity"] = pick(r, "LOW", "LOW", "MEDIUM", "MEDIUM", "HIGH", "CRITICAL")
		p["location"] = fmt.Sprintf("src/%s.go:%d", word(r), 1+r.IntN(900))
	}
	p["status"] = pick(r, "OPEN", "OPEN", "OPEN", "FIXED", "SUPPRESSED")
}

// nextPatch bumps the patch number of a semantic version: the fixed version of an advisory.
func nextPatch(v string) string {
	i := strings.LastIndexByte(v, '.')
	var n int
	fmt.Sscan(v[i+1:], &n)
	return fmt.Sprintf("%s.%d", v[:i], n+1)
}

func (t *Twin) edge(i int) graph.EdgeRow {
	e := t.edges[i]
	row := graph.EdgeRow{Type: edgeNames[e.typ], From: t.ref(e.from), To: t.ref(e.to)}
	r := t.rng(rngEdge, i)
	switch e.typ {
	case eDependsOn:
		row.Props = map[string]any{"scope": pick(r, "runtime", "runtime", "runtime", "runtime", "runtime", "runtime", "dev", "dev", "optional", "test"), "direct": true}
	case eContains:
		pk := t.pkgOf(e.to)
		switch pk.eco {
		case ecoNpm:
			row.Props = map[string]any{"path": "/app/node_modules/" + pk.name}
		case ecoMaven:
			row.Props = map[string]any{"path": fmt.Sprintf("/app/lib/%s-%s.jar", displayName(ecoMaven, pk.name), t.version(e.to))}
		case ecoPypi:
			row.Props = map[string]any{"path": "/usr/lib/python3/site-packages/" + pk.name}
		}
	case eExposes:
		row.Props = map[string]any{"port": int64(e.port), "proto": "tcp", "endpoint": fmt.Sprintf("https://%s:%d/", t.keys[e.from], e.port)}
	case eReaches:
		row.Props = map[string]any{"port": int64(e.port), "proto": "tcp", "description": "firewall rule"}
	case eHasAccess:
		row.Props = map[string]any{"mode": pick(r, "read", "read", "write", "admin")}
	case eFlowsTo:
		row.Props = map[string]any{"data": pick(r, "orders", "customers", "events", "payments", "logs"),
			"protocol": pick(r, "https", "grpc", "postgres", "kafka"), "encrypted": r.Float64() < 0.8,
			"classification": pick(r, "INTERNAL", "CONFIDENTIAL", "RESTRICTED")}
	case eAffects:
		pk := t.pkgOf(e.to)
		last := t.gi(lComponent, int(t.aux[e.from]-1))
		fixed := nextPatch(t.version(last))
		if last == pk.first+pk.n-1+t.off[lComponent] && r.Float64() < 0.3 {
			row.Props = map[string]any{"versionRange": ">=" + t.version(t.gi(lComponent, int(pk.first)))}
		} else {
			row.Props = map[string]any{"versionRange": "<" + fixed, "fixedVersion": fixed}
		}
	}
	return row
}
