// The operations twin's detections and responses (docs/telemetry.md, docs/playbooks.md):
// anomalies keyed by their deterministic key, and the audit trail of playbook actions by id.
CREATE CONSTRAINT anomaly_key IF NOT EXISTS FOR (a:Anomaly) REQUIRE (a.twin, a.key) IS UNIQUE;
CREATE INDEX anomaly_at IF NOT EXISTS FOR (a:Anomaly) ON (a.twin, a.at);
CREATE CONSTRAINT response_action_id IF NOT EXISTS FOR (a:ResponseAction) REQUIRE (a.twin, a.id) IS UNIQUE;
