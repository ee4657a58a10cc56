// Package twingen generates synthetic twins for benchmarks: seeded, deterministic (the same
// Config gives the same rows, byte for byte) and shaped like a real estate.
//
// About 85% of the nodes are components (npm, Maven, PyPI and Go modules, several versions of
// each package) whose DEPENDS_ON edges grow by preferential attachment, so a few core packages
// are depended on by thousands and most by a handful; 8% are vulnerabilities, each affecting a
// few versions of a package chosen with the same popularity bias; the rest are artifacts
// (images and builds that CONTAIN the dependency closures of applications, 50 to 400
// components), services (each RUNS one artifact, is DEPLOYED_ON hosts, some EXPOSES to the
// internet zone), hosts IN_ZONE, 5 to 20 zones with sparse REACHES rules, identities,
// credentials, data stores and scanner findings.
//
// The twin is held compactly (keys, and edges as index pairs); property maps are derived from
// the seed when rows are materialised, batch by batch, so a million-node twin fits in memory.
//
//	t := twingen.Generate(twingen.Config{Seed: 1, Nodes: 100_000})
//	reused, err := t.Load(ctx, db, twingen.Name(cfg), false, progress)
package twingen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/sectwin/sectwin/graph"
)

// Source is the provenance source of everything twingen writes.
const Source = "twingen"

// shapeVersion is part of every stamp (see Stamp). Bump it whenever Generate's output for a
// given Config changes, so that twins stored by an older generator are regenerated, not reused.
const shapeVersion = 1

// DefaultBatchRows is how many rows Write puts in one transaction unless Config says otherwise.
const DefaultBatchRows = 20_000

// MinNodes is the smallest twin Generate makes; smaller targets are raised to it.
const MinNodes = 1000

// Config says which twin to generate.
type Config struct {
	// Seed chooses the twin: the same seed and size give the same rows.
	Seed int64
	// Nodes is the target number of nodes, meant for 10k to 1M (at least MinNodes). Generate
	// makes exactly this many.
	Nodes int
	// BatchRows bounds the rows (nodes or edges) of one transaction in Write; 0 means
	// DefaultBatchRows.
	BatchRows int
}

// Name is the conventional twin name for a config: "gen-s<seed>-n<nodes>".
func Name(cfg Config) string {
	seed := fmt.Sprint(cfg.Seed)
	if cfg.Seed < 0 {
		seed = "m" + fmt.Sprint(-cfg.Seed)
	}
	return fmt.Sprintf("gen-s%s-n%d", seed, max(cfg.Nodes, MinNodes))
}

// Node labels in the order Write writes them (every edge is written after all nodes).
const (
	lZone = iota
	lHost
	lIdentity
	lCredential
	lDataStore
	lService
	lArtifact
	lComponent
	lVulnerability
	lFinding
	numLabels
)

var labelNames = [numLabels]string{
	graph.LabelZone, graph.LabelHost, graph.LabelIdentity, graph.LabelCredential, graph.LabelDataStore,
	graph.LabelService, graph.LabelArtifact, graph.LabelComponent, graph.LabelVulnerability, graph.LabelFinding,
}

// Relationship types twingen makes.
const (
	eDependsOn uint8 = iota
	eContains
	eRuns
	eDeployedOn
	eInZone
	eExposes
	eReaches
	eRunsAs
	eHasAccess
	eAuthenticates
	eStores
	eFlowsTo
	eAffects
	eFoundIn
	eIdentifies
	numEdgeTypes
)

var edgeNames = [numEdgeTypes]string{
	"DEPENDS_ON", "CONTAINS", "RUNS", "DEPLOYED_ON", "IN_ZONE", "EXPOSES", "REACHES", "RUNS_AS",
	"HAS_ACCESS", "AUTHENTICATES", "STORES", "FLOWS_TO", "AFFECTS", "FOUND_IN", "IDENTIFIES",
}

// edge is one relationship between two nodes by global index. port is the key property of
// EXPOSES and REACHES (proto is always tcp).
type edge struct {
	from, to int32
	port     uint16
	typ      uint8
}

// pkg is one package: consecutive component ordinals first..first+n-1 are its versions, oldest
// first.
type pkg struct {
	name  string // as the purl names it, unescaped: "@babel/core", "org.slf4j/slf4j-api"
	first int32
	n     int32
	eco   uint8
}

// Twin is a generated twin. It is immutable once Generate returns, so its methods may be used
// from several goroutines.
type Twin struct {
	cfg   Config
	off   [numLabels + 1]int32 // global node index range of each label: [off[l], off[l+1])
	keys  []string             // natural key by global index
	aux   []int32              // per node: component→package, host→zone, vulnerability→first affected component+1, finding→vulnerability+1
	edges []edge
	pkgs  []pkg
	deps  [][]int32 // DEPENDS_ON targets by component ordinal, as component ordinals
}

// Generate builds the twin cfg describes. It is deterministic; 100k nodes (about 940k edges)
// take some 0.2 s and 115 MB.
func Generate(cfg Config) *Twin {
	cfg.Nodes = max(cfg.Nodes, MinNodes)
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = DefaultBatchRows
	}
	t := &Twin{cfg: cfg}
	counts := plan(cfg.Nodes)
	for l := range numLabels {
		t.off[l+1] = t.off[l] + int32(counts[l])
	}
	t.keys = make([]string, cfg.Nodes)
	t.aux = make([]int32, cfg.Nodes)
	g := &gen{t: t, r: rand.New(rand.NewPCG(uint64(cfg.Seed), 0x7e1ae5)), n: counts}
	g.zones()
	g.hosts()
	g.identities()
	g.credentials()
	g.dataStores()
	g.components()
	g.artifacts()
	g.services()
	g.vulnerabilities()
	g.findings()
	return t
}

// plan splits n nodes between the labels.
func plan(n int) [numLabels]int {
	var c [numLabels]int
	c[lZone] = min(20, 5+n/60_000)
	share := func(l int, f float64, least int) { c[l] = max(least, int(math.Round(float64(n)*f))) }
	share(lVulnerability, 0.080, 40)
	share(lArtifact, 0.012, 8)
	share(lService, 0.010, 6)
	share(lHost, 0.010, 6)
	share(lIdentity, 0.008, 4)
	share(lCredential, 0.006, 4)
	share(lDataStore, 0.004, 3)
	share(lFinding, 0.020, 10)
	rest := n
	for l, v := range c {
		if l != lComponent {
			rest -= v
		}
	}
	c[lComponent] = rest
	return c
}

// Config returns the config the twin was generated from, defaults applied.
func (t *Twin) Config() Config { return t.cfg }

// Nodes is the number of nodes.
func (t *Twin) Nodes() int { return len(t.keys) }

// Edges is the number of edges.
func (t *Twin) Edges() int { return len(t.edges) }

// Stats counts the nodes by label and the edges by type, as graph.DB.Stats reports a twin.
func (t *Twin) Stats() graph.Stats {
	s := graph.Stats{Nodes: map[string]int{}, Edges: map[string]int{}}
	for l := range numLabels {
		if n := int(t.off[l+1] - t.off[l]); n > 0 {
			s.Nodes[labelNames[l]] = n
		}
	}
	for _, e := range t.edges {
		s.Edges[edgeNames[e.typ]]++
	}
	return s
}

// Keys returns the natural keys of every node of a label, in generation order (for components,
// oldest packages first: the most depended-on come early).
func (t *Twin) Keys(label string) []string {
	l := slices.Index(labelNames[:], label)
	if l < 0 {
		return nil
	}
	return slices.Clone(t.keys[t.off[l]:t.off[l+1]])
}

// gi is the global index of the i-th node of label l.
func (t *Twin) gi(l, i int) int32 { return t.off[l] + int32(i) }

func (t *Twin) count(l int) int { return int(t.off[l+1] - t.off[l]) }

func (t *Twin) labelOf(gi int32) int {
	for l := range numLabels {
		if gi < t.off[l+1] {
			return l
		}
	}
	panic(fmt.Sprintf("twingen: node index %d out of range", gi))
}

// gen holds generation state; one rand source, used in a fixed order, makes it deterministic.
type gen struct {
	t *Twin
	r *rand.Rand
	n [numLabels]int

	zoneNames []string
	dataZones []int // zone ordinals that hold data stores
	hostZone  []int // zone ordinal of each host
	ecoComps  [numEcos][]int32
	urn       [numEcos][]int32 // component ordinals, each once plus once per DEPENDS_ON into it
}

func (g *gen) set(l, i int, key string, aux int32) {
	gi := g.t.gi(l, i)
	g.t.keys[gi] = key
	g.t.aux[gi] = aux
}

func (g *gen) edge(typ uint8, fromL, from, toL, to int, port uint16) {
	g.t.edges = append(g.t.edges, edge{from: g.t.gi(fromL, from), to: g.t.gi(toL, to), typ: typ, port: port})
}

// pickDistinct returns k distinct values of pick (fewer if pick keeps repeating).
func pickDistinct(k int, pick func() int) []int {
	out := make([]int, 0, k)
	for tries := 0; len(out) < k && tries < 4*k+8; tries++ {
		if v := pick(); !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// weighted picks an index with probability proportional to its weight.
func (g *gen) weighted(w []float64) int {
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	u := g.r.Float64() * sum
	for i, x := range w {
		if u < x {
			return i
		}
		u -= x
	}
	return len(w) - 1
}

// logUniform draws an integer between lo and hi whose logarithm is uniform.
func (g *gen) logUniform(lo, hi int) int {
	return int(math.Round(math.Exp(math.Log(float64(lo)) + g.r.Float64()*(math.Log(float64(hi))-math.Log(float64(lo))))))
}

var zoneCatalogue = []string{"internet", "dmz", "corp", "prod-app", "prod-data", "staging", "mgmt", "ci",
	"prod-eu", "prod-us", "prod-apac", "partner", "payments", "analytics", "backup-data", "lab", "iot",
	"ot-plant", "guest", "vpn"}

const internetZone = 0

func (g *gen) zones() {
	n := g.n[lZone]
	g.zoneNames = zoneCatalogue[:n]
	for i, name := range g.zoneNames {
		g.set(lZone, i, name, 0)
		if name == "prod-data" || name == "payments" || name == "backup-data" || name == "analytics" {
			g.dataZones = append(g.dataZones, i)
		}
	}
	type rule struct {
		from, to int
		port     uint16
	}
	var rules []rule
	add := func(from, to int, port uint16) {
		r := rule{from, to, port}
		if from != to && !slices.Contains(rules, r) {
			rules = append(rules, r)
		}
	}
	// The internet reaches the DMZ; the DMZ reaches some inner zones; inner zones reach data.
	add(internetZone, 1, 443)
	add(internetZone, 1, 80)
	for z := 2; z < n; z++ {
		if slices.Contains(g.dataZones, z) {
			continue
		}
		if z == 3 || g.r.Float64() < 0.5 {
			add(1, z, 8443)
		}
		for _, d := range g.dataZones {
			if g.r.Float64() < 0.6 {
				add(z, d, 5432)
			}
		}
		if g.r.Float64() < 0.3 {
			add(2, z, 22) // corp admins
		}
	}
	for range n / 3 { // a few odd rules
		add(1+g.r.IntN(n-1), 1+g.r.IntN(n-1), []uint16{22, 443, 3389, 6379, 9092}[g.r.IntN(5)])
	}
	for _, r := range rules {
		g.edge(eReaches, lZone, r.from, lZone, r.to, r.port)
	}
}

// innerZone picks a zone that is not the internet, the DMZ less often.
func (g *gen) innerZone() int {
	if g.r.Float64() < 0.1 {
		return 1
	}
	return 2 + g.r.IntN(len(g.zoneNames)-2)
}

func (g *gen) hosts() {
	n := g.n[lHost]
	g.hostZone = make([]int, n)
	for i := range n {
		z := g.innerZone()
		g.hostZone[i] = z
		g.set(lHost, i, fmt.Sprintf("%s-%s%05d", g.zoneNames[z], []string{"vm", "node", "srv"}[g.r.IntN(3)], i), int32(z))
		g.edge(eInZone, lHost, i, lZone, z, 0)
		if g.r.Float64() < 0.1 {
			g.edge(eRunsAs, lHost, i, lIdentity, g.r.IntN(g.n[lIdentity]), 0)
		}
		if g.r.Float64() < 0.1 {
			g.edge(eStores, lHost, i, lCredential, g.r.IntN(g.n[lCredential]), 0)
		}
	}
}

func (g *gen) identities() {
	for i := range g.n[lIdentity] {
		prefix := []string{"user", "sa", "role"}[g.weighted([]float64{0.45, 0.4, 0.15})]
		g.set(lIdentity, i, fmt.Sprintf("%s-%s-%d", prefix, word(g.r), i), 0)
		seen := map[[2]int]bool{}
		for range 1 + g.r.IntN(3) {
			var l int
			switch g.weighted([]float64{0.5, 0.25, 0.15, 0.1}) {
			case 0:
				l = lDataStore
			case 1:
				l = lService
			case 2:
				l = lHost
			default:
				l = lCredential
			}
			to := g.r.IntN(g.n[l])
			if !seen[[2]int{l, to}] {
				seen[[2]int{l, to}] = true
				g.edge(eHasAccess, lIdentity, i, l, to, 0)
			}
		}
	}
}

func (g *gen) credentials() {
	for i := range g.n[lCredential] {
		g.set(lCredential, i, fmt.Sprintf("cred-%s-%d", word(g.r), i), 0)
		g.edge(eAuthenticates, lCredential, i, lIdentity, g.r.IntN(g.n[lIdentity]), 0)
	}
}

func (g *gen) dataStores() {
	for i := range g.n[lDataStore] {
		kind := []string{"pg", "mysql", "s3", "redis", "kafka", "mongo", "nfs"}[g.r.IntN(7)]
		g.set(lDataStore, i, fmt.Sprintf("%s-%s-%d", kind, word(g.r), i), 0)
		z := 2
		if len(g.dataZones) > 0 {
			z = g.dataZones[g.r.IntN(len(g.dataZones))]
		}
		g.edge(eInZone, lDataStore, i, lZone, z, 0)
		if kind != "s3" && g.r.Float64() < 0.7 {
			g.edge(eDeployedOn, lDataStore, i, lHost, g.r.IntN(g.n[lHost]), 0)
		}
	}
}

// outDegree is how many packages a component version declares: none for one in eight, then
// log-normal around 7 (mostly 3 to 15), and now and then a framework with dozens.
func (g *gen) outDegree() int {
	switch u := g.r.Float64(); {
	case u < 0.12:
		return 0
	case u < 0.135:
		return 20 + g.r.IntN(41)
	}
	return min(40, max(1, int(math.Round(math.Exp(math.Log(7)+0.45*g.r.NormFloat64())))))
}

func (g *gen) components() {
	n := g.n[lComponent]
	t := g.t
	t.deps = make([][]int32, n)
	used := [numEcos]map[string]bool{}
	for e := range used {
		used[e] = map[string]bool{}
	}
	coreNext := [numEcos]int{}
	ord := 0
	newPackage := func(eco int, name string) {
		used[eco][name] = true
		nv := 1
		for nv < 6 && g.r.Float64() < 0.45 {
			nv++
		}
		nv = min(nv, n-ord)
		p := int32(len(t.pkgs))
		t.pkgs = append(t.pkgs, pkg{name: name, first: int32(ord), n: int32(nv), eco: uint8(eco)})
		var prev []int32
		for _, v := range versions(g.r, eco, nv) {
			g.set(lComponent, ord, purl(eco, name, v), p)
			prev = g.dependencies(ord, eco, p, prev)
			g.ecoComps[eco] = append(g.ecoComps[eco], int32(ord))
			g.urn[eco] = append(g.urn[eco], int32(ord))
			ord++
		}
	}
	// The well-known packages come first, so preferential attachment makes them the core.
	for more := true; more && ord < n; {
		more = false
		for e := range numEcos {
			if coreNext[e] < len(ecosystems[e].core) && ord < n {
				newPackage(e, ecosystems[e].core[coreNext[e]])
				coreNext[e]++
				more = true
			}
		}
	}
	weights := make([]float64, numEcos)
	for e := range numEcos {
		weights[e] = ecosystems[e].weight
	}
	for ord < n {
		e := g.weighted(weights)
		name := packageName(g.r, e)
		for i := 2; used[e][name]; i++ {
			name = fmt.Sprintf("%s%d", packageName(g.r, e), i)
		}
		newPackage(e, name)
	}
}

// dependencies draws the DEPENDS_ON targets of component ord, a version of package p: most of
// the previous version's, topped up by preferential attachment within the ecosystem (a package
// is picked with probability proportional to 1 + the edges already into it), one version per
// package, never its own package.
func (g *gen) dependencies(ord, eco int, p int32, prev []int32) []int32 {
	t := g.t
	d := g.outDegree()
	var out []int32
	has := func(c int32) bool {
		for _, x := range out {
			if x == c || t.aux[t.gi(lComponent, int(x))] == t.aux[t.gi(lComponent, int(c))] {
				return true
			}
		}
		return false
	}
	for _, c := range prev {
		if g.r.Float64() < 0.85 && !has(c) {
			out = append(out, c)
		}
	}
	urn := g.urn[eco]
	for tries := 0; len(out) < d && len(urn) > 0 && tries < 4*d+8; tries++ {
		c := urn[g.r.IntN(len(urn))]
		if t.aux[t.gi(lComponent, int(c))] != p && !has(c) {
			out = append(out, c)
		}
	}
	for _, c := range out {
		g.edge(eDependsOn, lComponent, ord, lComponent, int(c), 0)
		g.urn[eco] = append(g.urn[eco], c)
	}
	t.deps[ord] = out
	return out
}

// artifacts: each contains the dependency closures of one or more applications of one
// ecosystem (components late in the ecosystem, breadth first), 50 to 400 components.
func (g *gen) artifacts() {
	t := g.t
	weights := make([]float64, numEcos)
	for e := range numEcos {
		weights[e] = ecosystems[e].weight
	}
	for a := range g.n[lArtifact] {
		sum := sha256.Sum256(fmt.Appendf(nil, "twingen/%d/artifact/%d", t.cfg.Seed, a))
		g.set(lArtifact, a, "sha256:"+hex.EncodeToString(sum[:]), 0)
		e := g.weighted(weights)
		members := g.ecoComps[e]
		if len(members) == 0 {
			continue
		}
		k := min(g.logUniform(50, 400), len(members))
		in := make(map[int32]bool, k)
		var list []int32
		add := func(c int32) {
			if !in[c] && len(list) < k {
				in[c] = true
				list = append(list, c)
			}
		}
		for roots := 0; len(list) < k && roots < 64; roots++ {
			root := members[int(float64(len(members))*math.Sqrt(g.r.Float64()))]
			queue := []int32{root}
			add(root)
			for len(queue) > 0 && len(list) < k {
				c := queue[0]
				queue = queue[1:]
				for _, d := range t.deps[c] {
					if !in[d] {
						add(d)
						queue = append(queue, d)
					}
				}
			}
		}
		for tries := 0; len(list) < k && tries < 8*k; tries++ {
			add(g.urn[e][g.r.IntN(len(g.urn[e]))])
		}
		for _, c := range list {
			g.edge(eContains, lArtifact, a, lComponent, int(c), 0)
		}
	}
}

func (g *gen) services() {
	nArt := g.n[lArtifact]
	perm := g.r.Perm(nArt)
	for s := range g.n[lService] {
		kind := []string{"api", "web", "worker", "gateway", "svc", "batch"}[g.r.IntN(6)]
		g.set(lService, s, fmt.Sprintf("%s-%s-%d", word(g.r), kind, s), 0)
		g.edge(eRuns, lService, s, lArtifact, perm[s%nArt], 0)
		hosts := pickDistinct(1+g.weighted([]float64{0.8, 0.15, 0.05}), func() int { return g.r.IntN(g.n[lHost]) })
		for _, h := range hosts {
			g.edge(eDeployedOn, lService, s, lHost, h, 0)
		}
		if g.r.Float64() < 0.05 {
			g.edge(eExposes, lService, s, lZone, internetZone, 443)
		}
		if g.r.Float64() < 0.3 {
			g.edge(eExposes, lService, s, lZone, g.hostZone[hosts[0]], 8080)
		}
		if g.r.Float64() < 0.6 {
			g.edge(eRunsAs, lService, s, lIdentity, g.r.IntN(g.n[lIdentity]), 0)
		}
		if g.r.Float64() < 0.4 {
			for _, d := range pickDistinct(1+g.r.IntN(2), func() int { return g.r.IntN(g.n[lDataStore]) }) {
				g.edge(eFlowsTo, lService, s, lDataStore, d, 0)
			}
		}
		if s > 0 && g.r.Float64() < 0.2 {
			g.edge(eFlowsTo, lService, s, lService, g.r.IntN(s), 0)
		}
		if g.r.Float64() < 0.05 {
			g.edge(eStores, lService, s, lCredential, g.r.IntN(g.n[lCredential]), 0)
		}
	}
}

// vulnerabilities: each affects one to three versions of a package (now and then more, rarely
// none yet), the package picked with the popularity bias of DEPENDS_ON.
func (g *gen) vulnerabilities() {
	t := g.t
	weights := make([]float64, numEcos)
	for e := range numEcos {
		weights[e] = ecosystems[e].weight
	}
	ids := map[string]bool{}
	for v := range g.n[lVulnerability] {
		id := vulnID(g.r)
		for ids[id] {
			id = vulnID(g.r)
		}
		ids[id] = true
		var k int
		switch u := g.r.Float64(); {
		case u < 0.04:
			k = 0
		case u < 0.60:
			k = 1
		case u < 0.82:
			k = 2
		case u < 0.96:
			k = 3
		default:
			k = 4 + g.r.IntN(7)
		}
		first := int32(0)
		if e := g.weighted(weights); k > 0 && len(g.urn[e]) > 0 {
			c := g.urn[e][g.r.IntN(len(g.urn[e]))]
			p := t.pkgs[t.aux[t.gi(lComponent, int(c))]]
			// c and the versions just before it: the affected range.
			hi := int(c)
			lo := max(int(p.first), hi-k+1)
			for x := lo; x <= hi; x++ {
				g.edge(eAffects, lVulnerability, v, lComponent, x, 0)
			}
			first = int32(hi) + 1
		}
		g.set(lVulnerability, v, id, first)
	}
}

// findings: from vulnerability scanners (they identify a vulnerability, found in an affected
// component) and from other tools (found in an artifact, service or host).
func (g *gen) findings() {
	t := g.t
	var affects []edge
	for _, e := range t.edges {
		if e.typ == eAffects {
			affects = append(affects, e)
		}
	}
	for f := range g.n[lFinding] {
		sum := sha256.Sum256(fmt.Appendf(nil, "twingen/%d/finding/%d", t.cfg.Seed, f))
		aux := int32(0)
		if len(affects) > 0 && g.r.Float64() < 0.6 {
			a := affects[g.r.IntN(len(affects))]
			v := int(a.from - t.off[lVulnerability])
			g.edge(eIdentifies, lFinding, f, lVulnerability, v, 0)
			g.edge(eFoundIn, lFinding, f, lComponent, int(a.to-t.off[lComponent]), 0)
			aux = int32(v) + 1
		} else {
			l := []int{lArtifact, lService, lHost}[g.weighted([]float64{0.4, 0.4, 0.2})]
			g.edge(eFoundIn, lFinding, f, l, g.r.IntN(g.n[l]), 0)
		}
		g.set(lFinding, f, hex.EncodeToString(sum[:16]), aux)
	}
}
