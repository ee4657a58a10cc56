package graph

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/neo4j/neo4j-go-driver/v5/neo4j"
)

// LiveState applies telemetry windows to the operations twin (see ops.go). It keeps, per twin,
// what makes a window cheap to apply at tens of thousands of events a second:
//
//   - the twin's Topology (hosts by name and address, their zones, the internet zones, REACHES
//     rules, the zones each host's services are EXPOSES-ed to, the services by name), so that
//     endpoints are resolved and a connection's designed flag decided in Go rather than by
//     Cypher subqueries per row. The topology is reloaded, inside the window's transaction,
//     when the twin's topologyVersion moves (DB.Write bumps it whenever a batch touches hosts,
//     zones, services or the edges between them), when the twin was recreated, and at the
//     latest after TopologyTTL (a safety net for writes that bypass DB.Write);
//   - when each entity's observedAt (lastSeen for ObservedEndpoints) was last written: they are
//     kept to SeenResolution of event time and written only when they move.
//
// Connections carry a key (a hash of twin, ends, port, proto and hour bucket, indexed by
// migration 0009): the connections a window has seen before are updated by key, and only
// those it has not go through endpoint resolution and MERGE.
//
// A LiveState serves one writer at a time per twin (the live-state worker holds the consumer's
// leadership); its caches change only after a window's transaction committed.
type LiveState struct {
	db *DB
	// SeenResolution: observedAt and lastSeen are event times truncated to this (default 1 s),
	// written when they move.
	SeenResolution time.Duration
	// TopologyTTL bounds how long a topology is trusted without a version change (default 30 s).
	TopologyTTL time.Duration
	// MaxSeen bounds how many entities' written times a twin keeps (default 200 000): unknown
	// endpoints (every address that ever scanned a site) would grow it without end. Past it a
	// twin keeps only what the last window wrote, which costs one more write of the others'
	// times at most.
	MaxSeen int

	mu    sync.Mutex
	twins map[string]*twinLive
}

type twinLive struct {
	mu   sync.Mutex // one window of a twin at a time
	topo *Topology
	seen map[endpoint]time.Time // what observedAt or lastSeen was last written, by entity
}

// NewLiveState returns a LiveState writing to db.
func NewLiveState(db *DB) *LiveState {
	return &LiveState{db: db, twins: map[string]*twinLive{}}
}

func (ls *LiveState) twin(name string) *twinLive {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	tl := ls.twins[name]
	if tl == nil {
		tl = &twinLive{seen: map[endpoint]time.Time{}}
		ls.twins[name] = tl
	}
	return tl
}

// ApplyOps applies one window of telemetry to a twin in one transaction, unless the twin's
// cursor is already at or past b.Through. It keeps no cache between calls: the live-state
// worker uses a LiveState.
func (db *DB) ApplyOps(ctx context.Context, twin string, b OpsBatch) (OpsResult, error) {
	return NewLiveState(db).ApplyOps(ctx, twin, b)
}

// ApplyOps applies one window of telemetry to a twin in one transaction, unless the twin's
// cursor is already at or past b.Through.
func (ls *LiveState) ApplyOps(ctx context.Context, twin string, b OpsBatch) (OpsResult, error) {
	tl := ls.twin(twin)
	tl.mu.Lock()
	defer tl.mu.Unlock()
	resolution := ls.SeenResolution
	if resolution <= 0 {
		resolution = time.Second
	}
	ttl := ls.TopologyTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	var (
		topo    *Topology
		renewed bool // the twin is another one of the same name, or the first seen
		written map[endpoint]time.Time
	)
	out, err := ls.db.WriteTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) {
		rec, err := single(ctx, tx, `MERGE (c:TelemetryCursor {twin: $twin, stream: $stream})
WITH c, coalesce(c.seq, 0) AS seq
SET c.seq = CASE WHEN seq < $through THEN $through ELSE seq END, c.at = datetime()
WITH seq
OPTIONAL MATCH (t:Twin {twin: $twin, name: $twin})
RETURN seq < $through, coalesce(elementId(t), ''), coalesce(t.topologyVersion, 0)`, map[string]any{"twin": twin, "stream": b.Stream, "through": int64(b.Through)})
		if err != nil {
			return nil, err
		}
		if rec.Values[0] != true {
			return OpsResult{}, nil
		}
		id, version := asString(rec.Values[1]), asInt(rec.Values[2])
		topo = tl.topo
		if topo == nil || topo.id != id || topo.version != version || time.Since(topo.loaded) > ttl {
			if topo, err = loadTopology(ctx, tx, twin); err != nil {
				return nil, err
			}
			topo.id, topo.version = id, version
		}
		prior := tl.seen
		if renewed = tl.topo == nil || tl.topo.id != topo.id; renewed {
			prior = map[endpoint]time.Time{} // another twin of the same name: write every entity's time once
		}
		w := opsWriter{twin: twin, topo: topo, res: OpsResult{Applied: true}}
		if err := w.deploys(ctx, tx, b.Deploys); err != nil {
			return nil, err
		}
		if err := w.flows(ctx, tx, b.Flows); err != nil {
			return nil, err
		}
		if err := w.alerts(ctx, tx, b.Alerts); err != nil {
			return nil, err
		}
		if err := w.health(ctx, tx, b.Health); err != nil {
			return nil, err
		}
		if written, err = w.seen(ctx, tx, b, prior, resolution); err != nil {
			return nil, err
		}
		return w.res, nil
	})
	if err != nil {
		return OpsResult{}, fmt.Errorf("apply telemetry to %s: %w", twin, err)
	}
	res := out.(OpsResult)
	if res.Applied {
		if renewed || len(tl.seen)+len(written) > cmp.Or(ls.MaxSeen, 200_000) {
			tl.seen = make(map[endpoint]time.Time, len(written))
		}
		tl.topo = topo
		for ep, at := range written {
			tl.seen[ep] = at
		}
	}
	return res, nil
}

// Topology is what a twin's design says about the network, as the live state needs it.
type Topology struct {
	id      string // the Twin node's element id: a recreated twin is another topology
	version int64
	loaded  time.Time

	resolve   map[string]endpoint // a host's name or address, or a service's name
	hostZones map[string][]string // host → its zones
	internet  []string            // the zones marked internet
	reaches   map[endpoint][]reachRule
	exposed   map[string][]exposure // host → where its services are exposed
}

type reachRule struct {
	to    endpoint // a Host or a Zone
	port  int      // 0: any
	proto string   // lower case; empty: any
}

type exposure struct {
	zone string
	port int // 0: any
}

// Resolve says which Host or Service an entity string of telemetry names (a host's name or
// one of its addresses first, then a service's name).
func (t *Topology) Resolve(entity string) (label, key string, ok bool) {
	ep, ok := t.resolve[entity]
	return ep.label, ep.key, ok
}

// end is the node an end of a flow is written as: the Host it resolves to, or else an
// ObservedEndpoint at that address (a service's name included).
func (t *Topology) end(entity string) NodeRef {
	if ep, ok := t.resolve[entity]; ok && ep.label == LabelHost {
		return NodeRef{Label: LabelHost, Key: ep.key}
	}
	return NodeRef{Label: LabelObservedEndpoint, Key: entity}
}

// hostName is a flow end's host, or "" for an ObservedEndpoint (as Designed takes them).
func hostName(n NodeRef) string {
	if n.Label == LabelHost {
		return n.Key
	}
	return ""
}

// Designed says whether the design allows a connection from src to dst (host names; "" for an
// ObservedEndpoint) on port and proto, and returns the zones of both ends (an unknown source
// counts as in the internet zones). A connection is designed when both ends are hosts sharing
// a zone; or when a REACHES rule from the source host or one of its zones leads to the
// destination host or one of its zones, on the port (rule port 0: any) and proto (rule proto
// empty: any); or when a service deployed on the destination is EXPOSES-ed to a zone of the
// source on the port (0: any).
func (t *Topology) Designed(src, dst string, port int, proto string) (designed bool, srcZones, dstZones []string) {
	if src == "" {
		srcZones = t.internet
	} else {
		srcZones = t.hostZones[src]
	}
	if dst != "" {
		dstZones = t.hostZones[dst]
	}
	if src != "" && dst != "" {
		for _, z := range srcZones {
			if slices.Contains(dstZones, z) {
				return true, srcZones, dstZones
			}
		}
	}
	proto = strings.ToLower(proto)
	allows := func(from endpoint) bool {
		for _, r := range t.reaches[from] {
			if (r.port != 0 && r.port != port) || (r.proto != "" && r.proto != proto) {
				continue
			}
			if (r.to.label == LabelHost && dst != "" && r.to.key == dst) || (r.to.label == LabelZone && slices.Contains(dstZones, r.to.key)) {
				return true
			}
		}
		return false
	}
	if src != "" && allows(endpoint{LabelHost, src}) {
		return true, srcZones, dstZones
	}
	for _, z := range srcZones {
		if allows(endpoint{LabelZone, z}) {
			return true, srcZones, dstZones
		}
	}
	if dst != "" {
		for _, x := range t.exposed[dst] {
			if (x.port == 0 || x.port == port) && slices.Contains(srcZones, x.zone) {
				return true, srcZones, dstZones
			}
		}
	}
	return false, srcZones, dstZones
}

// LoadTopology reads a twin's topology.
func (db *DB) LoadTopology(ctx context.Context, twin string) (*Topology, error) {
	out, err := db.ReadTx(ctx, func(tx neo4j.ManagedTransaction) (any, error) { return loadTopology(ctx, tx, twin) })
	if err != nil {
		return nil, fmt.Errorf("topology of %s: %w", twin, err)
	}
	return out.(*Topology), nil
}

func loadTopology(ctx context.Context, tx neo4j.ManagedTransaction, twin string) (*Topology, error) {
	t := &Topology{loaded: time.Now(), resolve: map[string]endpoint{}, hostZones: map[string][]string{},
		reaches: map[endpoint][]reachRule{}, exposed: map[string][]exposure{}}
	params := map[string]any{"twin": twin}
	each := func(cypher string, fn func(v []any)) error {
		res, err := tx.Run(ctx, cypher, params)
		if err != nil {
			return err
		}
		for res.Next(ctx) {
			fn(res.Record().Values)
		}
		return res.Err()
	}
	var addresses [][2]string // address, host: after every name, which wins
	if err := each(`MATCH (h:Host {twin: $twin})
RETURN h.name, coalesce(h.addresses, []), COLLECT { MATCH (h)-[:IN_ZONE]->(z:Zone) RETURN DISTINCT z.name }`, func(v []any) {
		name := asString(v[0])
		t.resolve[name] = endpoint{LabelHost, name}
		for _, a := range asList(v[1]) {
			addresses = append(addresses, [2]string{asString(a), name})
		}
		for _, z := range asList(v[2]) {
			t.hostZones[name] = append(t.hostZones[name], asString(z))
		}
	}); err != nil {
		return nil, err
	}
	for _, a := range addresses {
		if _, ok := t.resolve[a[0]]; !ok && a[0] != "" {
			t.resolve[a[0]] = endpoint{LabelHost, a[1]}
		}
	}
	if err := each(`MATCH (s:Service {twin: $twin})
RETURN s.name, COLLECT { MATCH (s)-[:DEPLOYED_ON]->(h:Host) RETURN DISTINCT h.name },
  COLLECT { MATCH (s)-[x:EXPOSES]->(z:Zone) RETURN [z.name, coalesce(x.port, 0)] }`, func(v []any) {
		name := asString(v[0])
		if _, ok := t.resolve[name]; !ok {
			t.resolve[name] = endpoint{LabelService, name}
		}
		for _, h := range asList(v[1]) {
			for _, x := range asList(v[2]) {
				pair := asList(x)
				if len(pair) == 2 {
					t.exposed[asString(h)] = append(t.exposed[asString(h)], exposure{zone: asString(pair[0]), port: int(asInt(pair[1]))})
				}
			}
		}
	}); err != nil {
		return nil, err
	}
	if err := each(`MATCH (z:Zone {twin: $twin}) WHERE z.internet = true RETURN z.name ORDER BY z.name`, func(v []any) {
		t.internet = append(t.internet, asString(v[0]))
	}); err != nil {
		return nil, err
	}
	if err := each(`CALL () {
  MATCH (a:Zone {twin: $twin}) RETURN a
  UNION
  MATCH (a:Host {twin: $twin}) RETURN a
}
MATCH (a)-[r:REACHES]->(b) WHERE b:Zone OR b:Host
RETURN labels(a)[0], a.name, CASE WHEN b:Zone THEN 'Zone' ELSE 'Host' END, b.name, coalesce(r.port, 0), toLower(coalesce(r.proto, ''))`, func(v []any) {
		from := endpoint{asString(v[0]), asString(v[1])}
		if from.label != LabelZone {
			from.label = LabelHost // a node both Zone and Host is not in the model
		}
		t.reaches[from] = append(t.reaches[from], reachRule{to: endpoint{asString(v[2]), asString(v[3])}, port: int(asInt(v[4])), proto: asString(v[5])})
	}); err != nil {
		return nil, err
	}
	return t, nil
}

// opsWriter writes one window inside its transaction.
type opsWriter struct {
	twin string
	topo *Topology
	res  OpsResult
}

func (w *opsWriter) deploys(ctx context.Context, tx neo4j.ManagedTransaction, deploys []DeployRow) error {
	if len(deploys) == 0 {
		return nil
	}
	// The newest deploy of each service wins.
	newest := map[string]DeployRow{}
	for _, d := range deploys {
		if cur, ok := newest[d.Service]; !ok || d.At.After(cur.At) {
			newest[d.Service] = d
		}
	}
	rows := make([]map[string]any, 0, len(newest))
	for _, d := range newest {
		rows = append(rows, map[string]any{"service": d.Service, "digest": d.Digest, "at": d.At.UTC()})
	}
	result, err := tx.Run(ctx, `UNWIND $rows AS row
MATCH (s:Service {twin: $twin, name: row.service})
MERGE (a:Artifact {twin: $twin, digest: row.digest})
  ON CREATE SET a.firstSeen = datetime(), a.lastSeen = datetime(), a.sources = ['telemetry']
WITH s, a, row
OPTIONAL MATCH (s)-[old:RUNS]->(o:Artifact) WHERE o <> a
DELETE old
WITH DISTINCT s, a, row
MERGE (s)-[r:RUNS]->(a)
  ON CREATE SET r.firstSeen = datetime(), r.sources = ['telemetry']
SET r.lastSeen = datetime(), s.runningDigest = row.digest, s.deployedAt = row.at
RETURN s.name, a.digest`, map[string]any{"twin": w.twin, "rows": rows})
	if err != nil {
		return err
	}
	for result.Next(ctx) {
		v := result.Record().Values
		w.res.Nodes = append(w.res.Nodes, NodeRef{Label: LabelService, Key: asString(v[0])}, NodeRef{Label: LabelArtifact, Key: asString(v[1])})
	}
	return result.Err()
}

// flows writes the window's connections: first by key those seen before (counters, last seen
// and the designed flag, which follows the current design), then the others are created
// between their ends (a Host, or an ObservedEndpoint merged by address), noting whether they
// are the first between their ends on the port and proto (by pair key). Connections are
// created rather than merged: a key not found is not in the graph, the worker being the twin's
// only writer; a connection written before keys existed may stand beside a keyed one of the
// same hour, which every read sums over.
func (w *opsWriter) flows(ctx context.Context, tx neo4j.ManagedTransaction, flows []FlowRow) error {
	if len(flows) == 0 {
		return nil
	}
	type conn struct {
		row  FlowRow
		key  string
		c    Connection // its ends: Hosts, or ObservedEndpoints by address
		done bool
	}
	byKey := map[string]int{}
	var conns []*conn
	for _, f := range flows {
		src, dst := w.topo.end(f.Src), w.topo.end(f.Dst)
		proto := strings.ToLower(f.Proto)
		key := connectionKey(w.twin, src, dst, f.Port, proto, f.Bucket)
		if i, ok := byKey[key]; ok { // two names of the same ends
			c := conns[i]
			c.row.Count += f.Count
			c.row.Bytes += f.Bytes
			c.row.First, c.row.Last = minTime(c.row.First, f.First), maxTime(c.row.Last, f.Last)
			continue
		}
		c := &conn{row: f, key: key}
		c.row.Proto = proto
		designed, sz, dz := w.topo.Designed(hostName(src), hostName(dst), f.Port, proto)
		c.c = Connection{Src: src, Dst: dst, Port: f.Port, Proto: proto, Bucket: f.Bucket.UTC(), Designed: designed, SrcZones: sz, DstZones: dz}
		byKey[key] = len(conns)
		conns = append(conns, c)
	}
	read := func(result neo4j.ResultWithContext, fresh bool) error {
		for result.Next(ctx) {
			v := result.Record().Values
			c := conns[asInt(v[0])]
			c.done, c.c.Count, c.c.Bytes = true, asInt(v[1]), asInt(v[2])
			if fresh {
				c.c.New = v[3] == true
			}
		}
		return result.Err()
	}
	// Seen before: found by key, with the few values that change.
	rows := make([]map[string]any, len(conns))
	for i, c := range conns {
		rows[i] = map[string]any{"i": i, "key": c.key, "count": c.row.Count, "bytes": c.row.Bytes, "first": c.row.First.UTC(), "last": c.row.Last.UTC(),
			"designed": c.c.Designed}
	}
	for chunk := range slices.Chunk(rows, chunkSize) {
		result, err := tx.Run(ctx, `UNWIND $rows AS f
MATCH ()-[c:CONNECTS_TO {key: f.key}]->()
SET c.count = c.count + f.count, c.bytes = c.bytes + f.bytes,
  c.lastSeen = CASE WHEN c.lastSeen IS NULL OR c.lastSeen < f.last THEN f.last ELSE c.lastSeen END,
  c.firstSeen = CASE WHEN c.firstSeen IS NULL OR f.first < c.firstSeen THEN f.first ELSE c.firstSeen END
FOREACH (_ IN CASE WHEN c.designed IS NULL OR c.designed <> f.designed THEN [1] ELSE [] END |
  SET c.designed = f.designed, c.deviation = NOT f.designed)
RETURN f.i, c.count, c.bytes`, map[string]any{"rows": chunk})
		if err != nil {
			return err
		}
		if err := read(result, false); err != nil {
			return err
		}
	}
	// Not seen before: the unknown ends are merged once each, then the connections created,
	// one statement per kind of ends so that each end is an index lookup.
	unknown := map[string]time.Time{} // address → first seen in the window
	groups := map[[2]string][]map[string]any{}
	for i, c := range conns {
		if c.done {
			continue
		}
		for _, end := range []NodeRef{c.c.Src, c.c.Dst} {
			if first, ok := unknown[end.Key]; end.Label == LabelObservedEndpoint && (!ok || c.row.First.Before(first)) {
				unknown[end.Key] = c.row.First
			}
		}
		// The pair key is the connection's key without its hour bucket.
		pair := connectionKey(w.twin, c.c.Src, c.c.Dst, c.row.Port, c.row.Proto, time.Time{})
		g := [2]string{c.c.Src.Label, c.c.Dst.Label}
		groups[g] = append(groups[g], map[string]any{"i": i, "key": c.key, "pair": pair, "s": c.c.Src.Key, "d": c.c.Dst.Key,
			"port": c.row.Port, "proto": c.row.Proto, "bucket": c.row.Bucket.UTC(), "count": c.row.Count, "bytes": c.row.Bytes,
			"first": c.row.First.UTC(), "last": c.row.Last.UTC(), "designed": c.c.Designed})
	}
	if len(unknown) > 0 {
		ends := make([]map[string]any, 0, len(unknown))
		for a, first := range unknown {
			ends = append(ends, map[string]any{"address": a, "first": first.UTC()})
		}
		for chunk := range slices.Chunk(ends, chunkSize) {
			if err := run(ctx, tx, `UNWIND $rows AS row
MERGE (e:ObservedEndpoint {twin: $twin, address: row.address})
SET e.firstSeen = CASE WHEN e.firstSeen IS NULL OR row.first < e.firstSeen THEN row.first ELSE e.firstSeen END`, map[string]any{"twin": w.twin, "rows": chunk}); err != nil {
				return err
			}
		}
	}
	prop := map[string]string{LabelHost: "name", LabelObservedEndpoint: "address"}
	for _, g := range slices.SortedFunc(maps.Keys(groups), func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }) {
		for chunk := range slices.Chunk(groups[g], chunkSize) {
			result, err := tx.Run(ctx, fmt.Sprintf(`UNWIND $rows AS f
MATCH (s:%s {twin: $twin, %s: f.s})
MATCH (d:%s {twin: $twin, %s: f.d})
WITH f, s, d, NOT EXISTS { MATCH ()-[x:CONNECTS_TO {pair: f.pair}]->() } AS fresh
CREATE (s)-[c:CONNECTS_TO {port: f.port, proto: f.proto, bucket: f.bucket, twin: $twin, key: f.key, pair: f.pair,
  count: f.count, bytes: f.bytes, firstSeen: f.first, lastSeen: f.last, designed: f.designed, deviation: NOT f.designed}]->(d)
RETURN f.i, c.count, c.bytes, fresh`, g[0], prop[g[0]], g[1], prop[g[1]]), map[string]any{"twin": w.twin, "rows": chunk})
			if err != nil {
				return err
			}
			if err := read(result, true); err != nil {
				return err
			}
		}
	}
	for _, c := range conns {
		if !c.done {
			continue // a host deleted since the topology was read: its connections are not kept
		}
		w.res.Connections = append(w.res.Connections, c.c)
		if c.c.New {
			w.res.Nodes = append(w.res.Nodes, c.c.Src, c.c.Dst)
		}
	}
	return nil
}

// connectionKey identifies a CONNECTS_TO: the twin, its ends (a Host by name, or an
// ObservedEndpoint by address), port, proto and hour bucket, hashed so that no name can make
// two keys collide by its separators.
func connectionKey(twin string, src, dst NodeRef, port int, proto string, bucket time.Time) string {
	h := sha256.New()
	var num [8]byte
	field := func(s string) {
		binary.BigEndian.PutUint64(num[:], uint64(len(s)))
		h.Write(num[:])
		h.Write([]byte(s))
	}
	field(twin)
	for _, end := range []NodeRef{src, dst} {
		if end.Label == LabelHost {
			field("h:" + end.Key)
		} else {
			field("o:" + end.Key)
		}
	}
	field(proto)
	binary.BigEndian.PutUint64(num[:], uint64(port))
	h.Write(num[:])
	binary.BigEndian.PutUint64(num[:], uint64(bucket.Unix()))
	h.Write(num[:])
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:18])
}

func (w *opsWriter) alerts(ctx context.Context, tx neo4j.ManagedTransaction, alerts []AlertRow) error {
	if len(alerts) == 0 {
		return nil
	}
	rows := make([]map[string]any, 0, len(alerts))
	for _, a := range alerts {
		row := map[string]any{"key": a.Key, "source": a.Source, "rule": a.Rule, "severity": a.Severity, "entity": a.Entity,
			"technique": a.Technique, "message": a.Message, "count": a.Count, "first": a.First.UTC(), "last": a.Last.UTC(),
			"label": nil, "target": nil}
		if ep, ok := w.topo.resolve[a.Entity]; ok {
			row["label"], row["target"] = ep.label, ep.key
		}
		rows = append(rows, row)
	}
	for chunk := range slices.Chunk(rows, chunkSize) {
		result, err := tx.Run(ctx, `UNWIND $rows AS row
OPTIONAL MATCH (old:Alert {twin: $twin, key: row.key})
WITH row, old IS NULL AS created
MERGE (a:Alert {twin: $twin, key: row.key})
  ON CREATE SET a.source = row.source, a.rule = row.rule, a.entity = row.entity, a.technique = row.technique,
    a.count = 0, a.firstSeen = row.first
WITH a, row, created, a.lastSeen IS NULL OR a.lastSeen <= row.last AS newest
SET a.count = a.count + row.count,
  a.severity = CASE WHEN newest THEN row.severity ELSE a.severity END,
  a.message = CASE WHEN newest THEN row.message ELSE a.message END,
  a.lastSeen = CASE WHEN newest THEN row.last ELSE a.lastSeen END,
  a.firstSeen = CASE WHEN row.first < a.firstSeen THEN row.first ELSE a.firstSeen END
WITH a, row, created
CALL (a, row) {
  WITH a, row WHERE row.target IS NOT NULL AND NOT EXISTS { (a)-[:ABOUT]->() }
  OPTIONAL MATCH (h:Host {twin: $twin, name: row.target}) WHERE row.label = 'Host'
  OPTIONAL MATCH (v:Service {twin: $twin, name: row.target}) WHERE row.label = 'Service'
  WITH a, coalesce(h, v) AS t WHERE t IS NOT NULL
  MERGE (a)-[:ABOUT]->(t)
}
RETURN a.key, created`, map[string]any{"twin": w.twin, "rows": chunk})
		if err != nil {
			return err
		}
		for result.Next(ctx) {
			v := result.Record().Values
			if v[1] == true {
				w.res.AlertsCreated = append(w.res.AlertsCreated, asString(v[0]))
			}
		}
		if err := result.Err(); err != nil {
			return err
		}
	}
	return nil
}

// health sets health and healthAt on the Hosts and Services the window's health metrics name,
// unless a later one was already applied.
func (w *opsWriter) health(ctx context.Context, tx neo4j.ManagedTransaction, rows []HealthRow) error {
	latest := map[endpoint]HealthRow{}
	for _, h := range rows {
		if ep, ok := w.topo.resolve[h.Entity]; ok {
			if cur, ok := latest[ep]; !ok || !h.At.Before(cur.At) {
				latest[ep] = h
			}
		}
	}
	params := map[string][]map[string]any{}
	for ep, h := range latest {
		health := HealthDown
		if h.Up {
			health = HealthUp
		}
		params[ep.label] = append(params[ep.label], map[string]any{"key": ep.key, "health": health, "at": h.At.UTC()})
		w.res.Nodes = append(w.res.Nodes, NodeRef{Label: ep.label, Key: ep.key})
	}
	for _, label := range []string{LabelHost, LabelService} {
		if len(params[label]) == 0 {
			continue
		}
		if err := run(ctx, tx, fmt.Sprintf(`UNWIND $rows AS row
MATCH (n:%s {twin: $twin, name: row.key})
WITH n, row WHERE n.healthAt IS NULL OR n.healthAt <= row.at
SET n.health = row.health, n.healthAt = row.at`, label), map[string]any{"twin": w.twin, "rows": params[label]}); err != nil {
			return err
		}
	}
	return nil
}

// seen moves observedAt on the Hosts and Services the window named, and lastSeen on the
// ObservedEndpoints its flows touched, where it moved by at least resolution since it was last
// written (prior). It returns what it wrote.
func (w *opsWriter) seen(ctx context.Context, tx neo4j.ManagedTransaction, b OpsBatch, prior map[endpoint]time.Time, resolution time.Duration) (map[endpoint]time.Time, error) {
	latest := map[endpoint]time.Time{}
	note := func(ep endpoint, at time.Time) {
		if at.After(latest[ep]) {
			latest[ep] = at
		}
	}
	entity := func(e string, at time.Time) {
		if ep, ok := w.topo.resolve[e]; ok {
			note(ep, at)
		}
	}
	end := func(e string, at time.Time) {
		if n := w.topo.end(e); n.Key != "" {
			note(endpoint{n.Label, n.Key}, at)
		}
	}
	for _, s := range b.Seen {
		entity(s.Entity, s.At)
	}
	for _, f := range b.Flows {
		end(f.Src, f.Last)
		end(f.Dst, f.Last)
	}
	rows := map[string][]map[string]any{}
	written := map[endpoint]time.Time{}
	for ep, at := range latest {
		// Observed times are kept to the resolution, so that they do not depend on how the
		// events fell into windows (a replay leaves the same).
		at = at.Truncate(resolution)
		if last, ok := prior[ep]; ok && !at.After(last) {
			continue
		}
		rows[ep.label] = append(rows[ep.label], map[string]any{"key": ep.key, "at": at.UTC()})
		written[ep] = at
		if ep.label != LabelObservedEndpoint {
			w.res.Nodes = append(w.res.Nodes, NodeRef{Label: ep.label, Key: ep.key})
		}
	}
	for _, label := range []string{LabelHost, LabelService, LabelObservedEndpoint} {
		prop, key := "observedAt", "name"
		if label == LabelObservedEndpoint {
			prop, key = "lastSeen", "address"
		}
		for chunk := range slices.Chunk(rows[label], chunkSize) {
			if err := run(ctx, tx, fmt.Sprintf(`UNWIND $rows AS row
MATCH (n:%s {twin: $twin, %s: row.key})
SET n.%s = CASE WHEN n.%[3]s IS NULL OR n.%[3]s < row.at THEN row.at ELSE n.%[3]s END`, label, key, prop),
				map[string]any{"twin": w.twin, "rows": chunk}); err != nil {
				return nil, err
			}
		}
	}
	return written, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TelemetryCursor returns the stream sequence of the last telemetry event applied to the twin.
func (ls *LiveState) TelemetryCursor(ctx context.Context, twin, stream string) (uint64, error) {
	return ls.db.TelemetryCursor(ctx, twin, stream)
}

// RecordAnomalies is DB.RecordAnomalies, with each anomaly's entity resolved (by a host's name
// or address, or a service's name) through the twin's topology as the last window read it.
func (ls *LiveState) RecordAnomalies(ctx context.Context, twin string, rows []AnomalyRow) ([]string, error) {
	ls.mu.Lock()
	tl := ls.twins[twin]
	ls.mu.Unlock()
	var topo *Topology
	if tl != nil {
		tl.mu.Lock()
		topo = tl.topo
		tl.mu.Unlock()
	}
	if topo != nil {
		rows = slices.Clone(rows)
		for i := range rows {
			if label, key, ok := topo.Resolve(rows[i].Entity); ok && rows[i].About == nil {
				rows[i].About = &NodeRef{Label: label, Key: key}
			}
		}
	}
	return ls.db.RecordAnomalies(ctx, twin, rows)
}

// HasLiveState says whether a twin has any live state: observed connections, alerts, unknown
// endpoints or a telemetry cursor.
func (db *DB) HasLiveState(ctx context.Context, twin string) (bool, error) {
	recs, err := db.collect(ctx, `RETURN EXISTS { MATCH (c:TelemetryCursor {twin: $twin}) }
  OR EXISTS { MATCH (a:Alert {twin: $twin}) }
  OR EXISTS { MATCH (e:ObservedEndpoint {twin: $twin}) }
  OR EXISTS { MATCH (h:Host {twin: $twin})-[:CONNECTS_TO]->() }`, map[string]any{"twin": twin})
	if err != nil {
		return false, fmt.Errorf("live state of %s: %w", twin, err)
	}
	return len(recs) == 1 && recs[0].Values[0] == true, nil
}

// ClearLiveState deletes a twin's live state (observed connections, alerts, unknown endpoints,
// telemetry cursors, observed times; deploys' RUNS are kept), in batches, and returns how many
// nodes and relationships it deleted. The twin's design is untouched.
func (db *DB) ClearLiveState(ctx context.Context, twin string) (int64, error) {
	var total int64
	for _, cypher := range []string{
		`MATCH (h:Host {twin: $twin})-[c:CONNECTS_TO]->() WITH c LIMIT 10000 DELETE c RETURN count(*)`,
		`MATCH (e:ObservedEndpoint {twin: $twin}) WITH e LIMIT 2000 DETACH DELETE e RETURN count(*)`,
		`MATCH (a:Alert {twin: $twin}) WITH a LIMIT 5000 DETACH DELETE a RETURN count(*)`,
		`MATCH (c:TelemetryCursor {twin: $twin}) WITH c LIMIT 5000 DETACH DELETE c RETURN count(*)`,
	} {
		for {
			recs, err := db.collectWrite(ctx, cypher, map[string]any{"twin": twin})
			if err != nil {
				return total, fmt.Errorf("clear live state of %s: %w", twin, err)
			}
			n := asInt(recs[0][0])
			total += n
			if n == 0 {
				break
			}
		}
	}
	for _, label := range []string{LabelHost, LabelService} {
		if _, err := db.collectWrite(ctx, fmt.Sprintf(`MATCH (n:%s {twin: $twin}) WHERE n.observedAt IS NOT NULL REMOVE n.observedAt`, label),
			map[string]any{"twin": twin}); err != nil {
			return total, fmt.Errorf("clear live state of %s: %w", twin, err)
		}
	}
	return total, nil
}
