// Observed connections carry a key (a hash of twin, ends, port, proto and hour bucket) so that
// the live state updates the connections it has seen before by key, without matching their
// ends (graph/livestate.go).
CREATE INDEX connects_to_key IF NOT EXISTS FOR ()-[r:CONNECTS_TO]-() ON (r.key);
