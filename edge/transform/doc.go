// Package transform minimises edge records before they leave the edge: a fail-closed field
// allowlist, key and value masking, generalisation (IP prefixes, time buckets, geohash or a
// metric grid, numeric buckets), keyed pseudonyms with epoch rotation, drop rules and
// per-unit contribution bounding. Its vocabulary mirrors the OpenTelemetry redaction
// processor's (see Config).
//
// A pipeline's config is validated and compiled once, at start-up, into a Plan:
//
//	doc, err := transform.Parse("edge.yaml", data)  // strict YAML: file:line problems
//	plans, err := doc.Compile(transform.WithKeys(transform.EnvFileKeys{}))
//	out, dropped, err := plans["netflow"].Apply(rec)
//
// or, for a Config decoded elsewhere (an edge.yaml that embeds it),
//
//	plan, err := transform.Compile(cfg, transform.WithSource("edge.yaml", "pipelines.netflow", node))
//
// Apply runs the stages in order: allowlist → key/value masking → generalise → pseudonymise →
// drop/bound. Drop rules and the bound's privacy unit read the record as decoded, before any
// transform, so a rule can test a field that is not kept; a record they drop is dropped before
// its fields are processed. Summaries are counts only, never key names: a list of redacted
// keys leaks information.
//
// # Config
//
//	pipelines:
//	  netflow:
//	    privacy_unit: src_ip                   # bound counts records per value of this field
//	    allow_fields: [ts, src_ip, dst_ip, dst_port, proto, bytes, site, http.*]
//	    # allow_all_fields: true               # opt out of the allowlist (masking still applies)
//	    ignored_fields: [schema]               # kept untouched
//	    blocked_key_patterns: ['(?i)password|token']           # whole value → "****"
//	    blocked_values: ['[\w.+-]+@[\w.-]+\.\w+']              # each match → "****"
//	    allowed_values: ['[\w.+-]+@example\.com']              # matches kept despite blocked_values
//	    redact_all_types: false                # also scan numbers and booleans
//	    summary: silent                        # or info: redaction.*.count fields on each record
//	    generalize:
//	      src_ip: {ipv4_prefix: 24, ipv6_prefix: 48}           # → "198.51.100.0/24"
//	      ts: {bucket: 1m}                     # RFC 3339, Suricata, epoch s/ms/µs/ns, intervals
//	      gps.lat: {grid_m: 500, lon_field: gps.lon}           # snap to a 500 m cell's centre
//	      location.coordinates: {geohash: 6}   # GeoJSON [lon, lat] → "ez6h27"
//	      bytes: {buckets: [0, 1000, 10000, 100000]}           # → largest boundary ≤ value
//	    pseudonymize:
//	      fields: [device_id, user]
//	      fn: hmac-sha256                      # or hmac-sha512; unkeyed hashes are refused
//	      key_ref: env:EDGE_HMAC_KEY           # or file:/etc/sectwin/edge-hmac.key
//	      key_id: k                            # output "k2026q1:<22 chars>"
//	      rotation: quarterly                  # none, daily, weekly, monthly, quarterly, yearly
//	    drop:
//	      - {field: event_type, equals: stats}
//	      - {field: dest_port, in: [53, 123]}
//	      - {field: http.url, matches: '^/health'}
//	      - {field: probe, exists: true}
//	    bound: {max_records: 10, window: 60s, max_units: 100000}
//	    aggregate: {...}                       # the aggregate lane's; not read here
//
// # Keys and epochs
//
// The key for an epoch is HKDF-SHA256(base key, salt "sectwin/edge/pseudonymize/v1", info
// "sectwin/edge/pseudonymize/v1|<key_id>|<epoch label>"), so one base key serves every epoch,
// the base key itself never keys an HMAC, and pseudonyms of different epochs cannot be linked
// without it. Epochs are UTC, by processing time. A pseudonym is "<key_id><epoch label>:"
// followed by the base64url (unpadded) first 16 bytes of HMAC(epoch key, value's text). The
// same value has the same pseudonym in every field of a pipeline within an epoch, so joins
// (src and dst) still work. Base keys come from a Keys (EnvFileKeys reads env:NAME and
// file:PATH, raw or as base64:/hex:) and are held in a Secret, which never prints.
package transform
