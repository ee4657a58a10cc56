package transform

// Config is one pipeline's minimisation section. Its names mirror the OpenTelemetry redaction
// processor's (allowed_keys → allow_fields, ignored_keys → ignored_fields, blocked_key_patterns,
// blocked_values, allowed_values, redact_all_types, summary). Field names are a decoded
// record's flat names ("src_ip", "alert.signature", "id.orig_h").
//
// A later edge.yaml embeds it inline in each pipeline, next to sections that other packages
// own (aggregate).
type Config struct {
	// PrivacyUnit names the field whose value identifies whom DP protects (a person, a
	// device); Bound limits records per value of it.
	PrivacyUnit string `yaml:"privacy_unit"`

	// AllowFields fails closed: only these fields are kept, an empty list keeps none, and
	// fields not named are always dropped. "name.*" keeps every field under name. Fields named
	// in Pseudonymize and Generalize are kept too, transformed. A wildcard keeps the names
	// under it as they come: do not use one where field names may carry personal data.
	AllowFields []string `yaml:"allow_fields"`
	// AllowAllFields opts out of the allowlist: every field is kept (and still masked).
	AllowAllFields bool `yaml:"allow_all_fields"`
	// IgnoredFields are kept untouched: allowed, and never masked.
	IgnoredFields []string `yaml:"ignored_fields"`

	// BlockedKeyPatterns are regular expressions on field names; a matching field's whole
	// value is masked (also for keys of objects inside arrays). Fields that are generalised or
	// pseudonymised are left to those transforms, and ignored fields are never masked.
	BlockedKeyPatterns []string `yaml:"blocked_key_patterns"`
	// BlockedValues are regular expressions on string values; each match is masked.
	BlockedValues []string `yaml:"blocked_values"`
	// AllowedValues take precedence over BlockedValues: a blocked match that an allowed
	// pattern matches in full is kept.
	AllowedValues []string `yaml:"allowed_values"`
	// RedactAllTypes applies BlockedValues to numbers and booleans too (as text).
	RedactAllTypes bool `yaml:"redact_all_types"`
	// Summary "info" adds redaction.redacted.count, redaction.masked.count,
	// redaction.ignored.count, redaction.generalized.count and redaction.pseudonymized.count
	// to each record; "silent" (the default) adds nothing. Key names are never reported.
	Summary string `yaml:"summary"`

	Generalize   map[string]Generalize `yaml:"generalize"`
	Pseudonymize *Pseudonymize         `yaml:"pseudonymize"`
	Drop         []DropRule            `yaml:"drop"`
	Bound        *Bound                `yaml:"bound"`
}

// Generalize coarsens one field. Give exactly one kind:
//
//   - ipv4_prefix and/or ipv6_prefix (IP addresses → "a.b.c.0/24"; the other family defaults
//     to /24 or /48; IPv4-mapped IPv6 counts as IPv4);
//   - bucket, a duration (RFC 3339 and similar timestamps, ISO 8601 intervals and epoch
//     numbers are truncated to it, aligned to the Unix epoch);
//   - geohash (precision 1..12) or grid_m (snap to the centre of a grid cell of that many
//     metres), for GeoJSON positions [lon, lat] (or lists of them), "lat,lon" strings, or,
//     with lon_field, this field as latitude and lon_field as longitude;
//   - buckets, increasing boundaries: a number becomes the largest boundary ≤ it (the first
//     one for smaller numbers).
//
// A value that cannot be generalised is masked.
type Generalize struct {
	IPv4Prefix *int      `yaml:"ipv4_prefix"`
	IPv6Prefix *int      `yaml:"ipv6_prefix"`
	Bucket     string    `yaml:"bucket"`
	Geohash    *int      `yaml:"geohash"`
	GridM      *float64  `yaml:"grid_m"`
	LonField   string    `yaml:"lon_field"`
	Buckets    []float64 `yaml:"buckets"`
}

// Pseudonymize replaces fields' values with keyed HMACs: "<key_id><epoch>:<base64url of the
// first 16 bytes of the MAC>". The key for an epoch is HKDF-SHA256 of the base key (from
// key_ref) with info "sectwin/edge/pseudonymize/v1|<key_id>|<epoch>", so pseudonyms are
// stable within an epoch and unlinkable across epochs, and the base key is never used
// directly.
type Pseudonymize struct {
	Fields []string `yaml:"fields"`
	// Fn is hmac-sha256 (the default) or hmac-sha512. Unkeyed hashes are refused.
	Fn string `yaml:"fn"`
	// KeyRef is env:NAME or file:PATH; the key itself never appears in config or logs.
	KeyRef string `yaml:"key_ref"`
	// KeyID starts every pseudonym; letters, digits, '-' and '_'.
	KeyID string `yaml:"key_id"`
	// Rotation is the epoch length: none (the default), daily, weekly (ISO weeks), monthly,
	// quarterly or yearly. Epoch labels are 20260315, 2026w11, 2026m03, 2026q1 and 2026 (UTC,
	// processing time).
	Rotation string `yaml:"rotation"`
}

// DropRule drops a record when its field, as decoded (before any transform), satisfies the
// one condition given. Rules are ORed.
type DropRule struct {
	Field   string `yaml:"field"`
	Equals  any    `yaml:"equals"`  // a scalar; numbers compare numerically
	In      []any  `yaml:"in"`      // scalars
	Matches string `yaml:"matches"` // a regular expression on the value's text
	Exists  *bool  `yaml:"exists"`
}

// Bound is contribution bounding in the real-time lane: at most MaxRecords records per value
// of privacy_unit per Window (tumbling windows of processing time). Further records are
// dropped.
type Bound struct {
	MaxRecords int    `yaml:"max_records"`
	Window     string `yaml:"window"`
	// MaxUnits caps how many units are tracked per window (default 100000); records of units
	// beyond it are dropped, failing closed.
	MaxUnits int `yaml:"max_units"`
}
