// Observed connections also carry a pair key (a hash of twin, ends, port and proto, without the
// hour bucket): whether a connection is the first between its ends on a port and proto is an
// index lookup, not an expansion of two busy hosts' connections (graph/livestate.go).
CREATE INDEX connects_to_pair IF NOT EXISTS FOR ()-[r:CONNECTS_TO]-() ON (r.pair);
