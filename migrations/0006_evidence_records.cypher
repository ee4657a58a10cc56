// Evidence records (docs/assurance.md, Evidence records): the scan runs the ingest pipeline
// records, keyed by provenance source and artifact and read per artifact and format, and manual
// attestations, keyed by id and read by id or by topic.
CREATE CONSTRAINT scan_run_key IF NOT EXISTS FOR (s:ScanRun) REQUIRE (s.twin, s.key) IS UNIQUE;
CREATE INDEX scan_run_artifact IF NOT EXISTS FOR (s:ScanRun) ON (s.twin, s.artifact, s.format);
CREATE CONSTRAINT attestation_key IF NOT EXISTS FOR (a:Attestation) REQUIRE (a.twin, a.id) IS UNIQUE;
CREATE INDEX attestation_topic IF NOT EXISTS FOR (a:Attestation) ON (a.twin, a.topic);
