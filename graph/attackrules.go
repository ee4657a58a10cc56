package graph

// Attack-graph derivation rules. Each rule is a Cypher pattern over the twin model that yields
// candidate attack steps (facts) from one attack-graph node to another; analytics/attackanalysis
// applies the rule's guard and probability model to each fact and stores the steps that pass as
// ATTACK relationships carrying the rule's id and version, so every hop of a path can say which
// rule made it and on what evidence.
//
// Every pattern returns the same columns:
//
//	from, to     internal ids of the attack-graph nodes (Zone, Host, Service, DataStore,
//	             Identity, Credential)
//	controls     the controls declared on the target (Asset.controls)
//	detail       strings that explain the structural fact (ports, access modes…)
//	vulns        for exploit rules: the open vulnerabilities of the target's components
//
// Bump a rule's Version whenever its pattern or its probability model changes: stored steps
// carry the version, so a report can tell which rules produced it.

// AttackRule is one derivation rule.
type AttackRule struct {
	ID          string
	Version     int
	Technique   string // ATT&CK technique of the step; empty for pure network reachability
	Description string
	// Exploit rules need an open, remotely exploitable vulnerability of the target (vulns).
	Exploit bool
	// Base is the step's probability when no vulnerability decides it.
	Base   float64
	cypher string
}

// Attack-graph node labels: the states an attacker can hold.
var attackLabels = []string{LabelZone, LabelHost, LabelService, LabelDataStore, LabelIdentity, LabelCredential}

// AttackLabels returns the labels of attack-graph nodes.
func AttackLabels() []string { return append([]string(nil), attackLabels...) }

// openVulns collects the open vulnerabilities of a service t's components: VEX statuses
// not_affected and fixed close them.
const openVulns = `MATCH (t)-[:RUNS]->(:Artifact)-[:CONTAINS]->(c:Component)<-[a:AFFECTS]-(v:Vulnerability)
WHERE NOT coalesce(a.status, '') IN ['not_affected', 'fixed']
WITH t, collect(DISTINCT {id: v.vulnerabilityId, epss: v.epss, cvss: v.cvssScore, vector: v.cvssVector,
  severity: v.severity, kev: v.kev, component: c.purl, status: coalesce(a.status, '')}) AS vulns`

var attackRules = []AttackRule{
	{
		ID: "exposed-exploit", Version: 1, Technique: "T1190", Exploit: true,
		Description: "A service exposed to a zone runs a component with an open, remotely exploitable vulnerability: an attacker in that zone can exploit it.",
		cypher: `MATCH (t:Service {twin: $twin})-[:EXPOSES]->(:Zone)
WITH DISTINCT t
` + openVulns + `
MATCH (t)-[e:EXPOSES]->(z:Zone)
WITH z, t, vulns, collect(DISTINCT coalesce(e.proto, 'tcp') + '/' + toString(e.port)) AS detail
RETURN id(z) AS from, id(t) AS to, t.controls AS controls, detail, vulns`,
	},
	{
		ID: "reachable-exploit", Version: 1, Technique: "T1210", Exploit: true,
		Description: "A service reachable from a zone, host or service (declared REACHES, or the same zone) runs a component with an open vulnerability exploitable over the network or an adjacent one.",
		cypher: `MATCH (t:Service {twin: $twin})-[:RUNS]->(:Artifact)
WITH DISTINCT t
` + openVulns + `
CALL (t) {
  MATCH (x)-[r:REACHES]->(t) RETURN x, 'reaches it on ' + coalesce(r.proto, 'tcp') + '/' + toString(r.port) AS how
  UNION
  MATCH (t)-[:IN_ZONE]->(x:Zone) RETURN x, 'same zone' AS how
  UNION
  MATCH (t)-[:DEPLOYED_ON]->(:Host)-[:IN_ZONE]->(x:Zone) RETURN x, 'same zone' AS how
}
WITH x, t, vulns, collect(DISTINCT how) AS detail
RETURN id(x) AS from, id(t) AS to, t.controls AS controls, detail, vulns`,
	},
	{
		ID: "foothold", Version: 1, Base: 1,
		Description: "A compromised service, host or data store gives the attacker a network position in its zone.",
		cypher: `MATCH (z:Zone {twin: $twin})<-[:IN_ZONE]-(x) WHERE x:Service OR x:Host OR x:DataStore
RETURN id(x) AS from, id(z) AS to, z.controls AS controls, ['in zone'] AS detail, null AS vulns
UNION
MATCH (z:Zone {twin: $twin})<-[:IN_ZONE]-(:Host)<-[:DEPLOYED_ON]-(x:Service)
RETURN id(x) AS from, id(z) AS to, z.controls AS controls, ['on a host in the zone'] AS detail, null AS vulns`,
	},
	{
		ID: "zone-reach", Version: 1, Base: 1,
		Description: "A declared REACHES to a zone lets an attacker holding the source send traffic into that zone.",
		cypher: `MATCH (z:Zone {twin: $twin})<-[r:REACHES]-(x)
WITH x, z, collect(DISTINCT coalesce(r.proto, 'tcp') + '/' + toString(r.port)) AS detail
RETURN id(x) AS from, id(z) AS to, z.controls AS controls, detail, null AS vulns`,
	},
	{
		ID: "datastore-network-access", Version: 1, Technique: "T1078.001", Base: 0.05,
		Description: "A data store reachable over the network may be entered with default or weak credentials.",
		cypher: `MATCH (d:DataStore {twin: $twin})
CALL (d) {
  MATCH (x)-[r:REACHES]->(d) RETURN x, 'reaches it on ' + coalesce(r.proto, 'tcp') + '/' + toString(r.port) AS how
  UNION
  MATCH (d)-[:IN_ZONE]->(x:Zone) RETURN x, 'same zone' AS how
  UNION
  MATCH (d)-[:DEPLOYED_ON]->(:Host)-[:IN_ZONE]->(x:Zone) RETURN x, 'same zone' AS how
}
WITH x, d, collect(DISTINCT how) AS detail
RETURN id(x) AS from, id(d) AS to, d.controls AS controls, detail, null AS vulns`,
	},
	{
		ID: "host-control", Version: 1, Technique: "T1609", Base: 1,
		Description: "Control of a host gives control of the services and data stores deployed on it.",
		cypher: `MATCH (h:Host {twin: $twin})<-[:DEPLOYED_ON]-(t)
RETURN id(h) AS from, id(t) AS to, t.controls AS controls, ['deployed on it'] AS detail, null AS vulns`,
	},
	{
		ID: "container-escape", Version: 1, Technique: "T1611", Base: 0.2,
		Description: "Code execution in a service may escape to the host it is deployed on.",
		cypher: `MATCH (s:Service {twin: $twin})-[:DEPLOYED_ON]->(h:Host)
RETURN id(s) AS from, id(h) AS to, h.controls AS controls, ['deployed on it'] AS detail, null AS vulns`,
	},
	{
		ID: "runs-as", Version: 1, Technique: "T1078", Base: 0.9,
		Description: "A compromised workload can act as the identity it runs as.",
		cypher: `MATCH (i:Identity {twin: $twin})<-[:RUNS_AS]-(x)
RETURN id(x) AS from, id(i) AS to, i.controls AS controls, ['runs as it'] AS detail, null AS vulns`,
	},
	{
		ID: "identity-access", Version: 1, Technique: "T1078", Base: 0.9,
		Description: "An identity can use the access it has been granted.",
		cypher: `MATCH (i:Identity {twin: $twin})-[a:HAS_ACCESS]->(t)
RETURN id(i) AS from, id(t) AS to, t.controls AS controls, ['has ' + coalesce(a.mode, '') + ' access'] AS detail, null AS vulns`,
	},
	{
		ID: "stored-credential", Version: 1, Technique: "T1552", Base: 0.8,
		Description: "Control of a host, service or data store exposes the credentials stored there.",
		cypher: `MATCH (c:Credential {twin: $twin})<-[:STORES]-(x)
RETURN id(x) AS from, id(c) AS to, c.controls AS controls, ['stores it'] AS detail, null AS vulns`,
	},
	{
		ID: "credential-use", Version: 1, Technique: "T1078", Base: 0.9,
		Description: "A stolen credential authenticates as its identity.",
		cypher: `MATCH (c:Credential {twin: $twin})-[:AUTHENTICATES]->(i:Identity)
RETURN id(c) AS from, id(i) AS to, i.controls AS controls, ['authenticates it'] AS detail, null AS vulns`,
	},
	{
		ID: "data-flow", Version: 1, Technique: "T1078", Base: 0.6,
		Description: "A compromised service can use its own connection to where its data flows.",
		cypher: `MATCH (s:Service {twin: $twin})-[f:FLOWS_TO]->(t)
WITH s, t, collect(DISTINCT coalesce(f.data, '') + CASE WHEN f.protocol IS NULL THEN '' ELSE ' over ' + f.protocol END) AS detail
RETURN id(s) AS from, id(t) AS to, t.controls AS controls, detail, null AS vulns`,
	},
}

// AttackRules returns the derivation rules, in the order they run.
func AttackRules() []AttackRule { return append([]AttackRule(nil), attackRules...) }

// AttackRuleByID returns the rule with this id.
func AttackRuleByID(id string) (AttackRule, bool) {
	for _, r := range attackRules {
		if r.ID == id {
			return r, true
		}
	}
	return AttackRule{}, false
}
