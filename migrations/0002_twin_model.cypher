// The twin model (docs/model.md). Every node belongs to one twin, and its natural key is unique
// within the twin: one composite uniqueness constraint per label, which also serves lookups.
CREATE CONSTRAINT twin_key IF NOT EXISTS FOR (n:Twin) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT component_key IF NOT EXISTS FOR (n:Component) REQUIRE (n.twin, n.purl) IS UNIQUE;
CREATE CONSTRAINT artifact_key IF NOT EXISTS FOR (n:Artifact) REQUIRE (n.twin, n.digest) IS UNIQUE;
CREATE CONSTRAINT service_key IF NOT EXISTS FOR (n:Service) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT host_key IF NOT EXISTS FOR (n:Host) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT zone_key IF NOT EXISTS FOR (n:Zone) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT identity_key IF NOT EXISTS FOR (n:Identity) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT credential_key IF NOT EXISTS FOR (n:Credential) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT datastore_key IF NOT EXISTS FOR (n:DataStore) REQUIRE (n.twin, n.name) IS UNIQUE;
CREATE CONSTRAINT vulnerability_key IF NOT EXISTS FOR (n:Vulnerability) REQUIRE (n.twin, n.vulnerabilityId) IS UNIQUE;
CREATE CONSTRAINT finding_key IF NOT EXISTS FOR (n:Finding) REQUIRE (n.twin, n.fingerprint) IS UNIQUE;
CREATE CONSTRAINT threat_key IF NOT EXISTS FOR (n:Threat) REQUIRE (n.twin, n.techniqueId) IS UNIQUE;

// Federation: one grant per (owner twin, grantee twin).
CREATE CONSTRAINT twin_grant_key IF NOT EXISTS FOR (g:TwinGrant) REQUIRE (g.twin, g.grantee) IS UNIQUE;
CREATE INDEX twin_grant_grantee IF NOT EXISTS FOR (g:TwinGrant) ON (g.grantee);

// Name filters, search and ordering by name within a twin.
CREATE INDEX component_name IF NOT EXISTS FOR (n:Component) ON (n.twin, n.name);
CREATE INDEX artifact_name IF NOT EXISTS FOR (n:Artifact) ON (n.twin, n.name);
CREATE INDEX vulnerability_severity IF NOT EXISTS FOR (n:Vulnerability) ON (n.twin, n.severity);
CREATE INDEX finding_tool IF NOT EXISTS FOR (n:Finding) ON (n.twin, n.tool);
