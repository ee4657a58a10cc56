// The operations twin's live state (docs/telemetry.md): alerts deduplicated by key, endpoints
// telemetry names that the twin does not know, observed connections by bucket, and the cursor
// that keeps a redelivered telemetry window from being counted twice.
CREATE CONSTRAINT alert_key IF NOT EXISTS FOR (a:Alert) REQUIRE (a.twin, a.key) IS UNIQUE;
CREATE INDEX alert_last_seen IF NOT EXISTS FOR (a:Alert) ON (a.twin, a.lastSeen);
CREATE CONSTRAINT observed_endpoint_address IF NOT EXISTS FOR (e:ObservedEndpoint) REQUIRE (e.twin, e.address) IS UNIQUE;
CREATE CONSTRAINT telemetry_cursor IF NOT EXISTS FOR (c:TelemetryCursor) REQUIRE (c.twin, c.stream) IS UNIQUE;
CREATE INDEX connects_to_twin IF NOT EXISTS FOR ()-[r:CONNECTS_TO]-() ON (r.twin, r.deviation);
