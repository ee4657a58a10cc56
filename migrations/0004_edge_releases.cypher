// What edge collectors release (docs/edge.md): minimised events and DP aggregates, each kept
// once by its content hash, with the privacy manifest it arrived with.
CREATE CONSTRAINT edge_event_key IF NOT EXISTS FOR (e:EdgeEvent) REQUIRE (e.twin, e.id) IS UNIQUE;
CREATE INDEX edge_event_at IF NOT EXISTS FOR (e:EdgeEvent) ON (e.twin, e.receivedAt);
CREATE CONSTRAINT edge_aggregate_key IF NOT EXISTS FOR (a:EdgeAggregate) REQUIRE (a.twin, a.id) IS UNIQUE;
CREATE INDEX edge_aggregate_window IF NOT EXISTS FOR (a:EdgeAggregate) ON (a.twin, a.windowStart);
