package transform

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Option tunes Compile.
type Option func(*options)

type options struct {
	keys       Keys
	now        func() time.Time
	file, path string
	node       *yaml.Node
}

// WithKeys sets where pseudonymisation keys come from (default EnvFileKeys{}).
func WithKeys(k Keys) Option { return func(o *options) { o.keys = k } }

// WithClock sets the clock for pseudonym epochs and bounding windows (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSource says where the config came from, so that problems read
// "edge.yaml:12: pipelines.netflow.generalize.src_ip.ipv4_prefix: must be 0..32": file is the
// file name, path the config's place in it, node the config's YAML mapping (for lines). Any
// may be empty or nil.
func WithSource(file, path string, node *yaml.Node) Option {
	return func(o *options) { o.file, o.path, o.node = file, path, node }
}

const mask = "****"

// Compile validates cfg and compiles it into a Plan. Every problem found is reported, in a
// *ConfigError, with its field path (and file and line, given WithSource). Keys are loaded
// here, so a missing key fails at start-up, not on the first record.
func Compile(cfg Config, opts ...Option) (*Plan, error) {
	o := options{keys: EnvFileKeys{}, now: time.Now}
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	if o.keys == nil {
		o.keys = EnvFileKeys{}
	}
	if o.now == nil {
		o.now = time.Now
	}
	ps := &problems{file: o.file, root: o.node}
	if o.path != "" {
		ps.prefix = []seg{raw(o.path)}
	}
	c := &compiler{ps: ps}
	exact := map[string]field{} // every field the config names
	p := &Plan{now: o.now, allowAll: cfg.AllowAllFields}

	// Fields.
	if cfg.AllowAllFields && len(cfg.AllowFields) > 0 {
		ps.add([]seg{key("allow_all_fields")}, nil, "allow_all_fields keeps every field; remove it or allow_fields")
	}
	for i, f := range cfg.AllowFields {
		at := []seg{key("allow_fields"), idx(i)}
		switch {
		case f == "" || f == "*" || f == ".*":
			ps.add(at, nil, "want a field name or name.*; to keep every field, set allow_all_fields: true")
		case strings.HasSuffix(f, ".*"):
			if strings.Contains(strings.TrimSuffix(f, ".*"), "*") {
				ps.add(at, nil, "only a trailing .* is a wildcard")
			}
			p.prefixes = append(p.prefixes, strings.TrimSuffix(f, "*"))
		case strings.Contains(f, "*"):
			ps.add(at, nil, "only a trailing .* is a wildcard")
		default:
			setClass(exact, f, cAllowed)
		}
	}
	ignored := map[string]bool{}
	for i, f := range cfg.IgnoredFields {
		if f == "" {
			ps.add([]seg{key("ignored_fields"), idx(i)}, nil, "want a field name")
			continue
		}
		ignored[f] = true
		setClass(exact, f, cAllowed|cIgnored)
	}

	// Masking.
	p.blockedKeys = c.union([]seg{key("blocked_key_patterns")}, cfg.BlockedKeyPatterns, false)
	p.blockedValues = c.union([]seg{key("blocked_values")}, cfg.BlockedValues, false)
	p.allowedValues = c.union([]seg{key("allowed_values")}, cfg.AllowedValues, true)
	if len(cfg.AllowedValues) > 0 && len(cfg.BlockedValues) == 0 {
		ps.add([]seg{key("allowed_values")}, nil, "allowed_values only make exceptions to blocked_values, and there are none")
	}
	if cfg.RedactAllTypes && len(cfg.BlockedValues) == 0 {
		ps.add([]seg{key("redact_all_types")}, nil, "redact_all_types applies blocked_values, and there are none")
	}
	p.redactAll = cfg.RedactAllTypes
	switch cfg.Summary {
	case "", "silent":
	case "info":
		p.summary = true
	case "debug":
		ps.add([]seg{key("summary")}, nil, "debug would list redacted key names, which leaks information; use info (counts) or silent")
	default:
		ps.add([]seg{key("summary")}, nil, "want silent or info")
	}

	// Generalisation, in field order so that the plan does not depend on map order.
	special := map[string]string{} // field → what claims it, for conflicts
	claim := func(at []seg, field, by string) {
		if ignored[field] {
			ps.add(at, nil, "%s is in ignored_fields, which pass untouched; it cannot also be %s", field, by)
		}
		if prev, dup := special[field]; dup && !(prev == "generalized" && by == "pseudonymized") {
			ps.add(at, nil, "%s is already %s", field, prev)
			return
		}
		special[field] = by
		setClass(exact, field, cAllowed|cSpecial)
	}
	for _, field := range sortedKeys(cfg.Generalize) {
		at := []seg{key("generalize"), key(field)}
		if field == "" {
			ps.add(at, nil, "want a field name")
			continue
		}
		g, ok := c.generalizer(at, field, cfg.Generalize[field])
		if !ok {
			continue
		}
		claim(at, field, "generalized")
		if g.lonField != "" {
			claim(append(at, key("lon_field")), g.lonField, "generalized (as "+field+"'s longitude)")
		}
		p.gens = append(p.gens, g)
		if g.lonField != "" {
			p.pairs = append(p.pairs, g)
			for _, name := range []string{field, g.lonField} {
				f := exact[name]
				f.pair = true
				exact[name] = f
			}
		} else {
			f := exact[field]
			f.gen = g
			exact[field] = f
		}
	}

	// Pseudonymisation.
	if cfg.Pseudonymize != nil {
		if ps2 := c.pseudonymizer(cfg.Pseudonymize, o.keys); ps2 != nil {
			p.pseudo = ps2
			for i, name := range ps2.fields {
				claim([]seg{key("pseudonymize"), key("fields"), idx(i)}, name, "pseudonymized")
				f := exact[name]
				f.pseudo = true
				exact[name] = f
			}
		}
	}

	// Drop rules and bounding.
	for i, d := range cfg.Drop {
		if r, ok := c.dropRule([]seg{key("drop"), idx(i)}, d); ok {
			p.drops = append(p.drops, r)
		}
	}
	if cfg.Bound != nil {
		p.bound = c.bounder(cfg.Bound, cfg.PrivacyUnit)
		p.unit = cfg.PrivacyUnit
	}

	if err := ps.err(); err != nil {
		return nil, err
	}
	for name, f := range exact {
		if p.blockedKeys != nil && p.blockedKeys.MatchString(name) {
			f.c |= cKeyBlocked
			exact[name] = f
		}
	}
	p.fields.Store(&exact)
	return p, nil
}

type compiler struct {
	ps *problems
}

// union compiles patterns into one regular expression (alternatives in order); whole makes
// it match whole strings only. nil when there are none or one is invalid.
func (c *compiler) union(at []seg, patterns []string, whole bool) *regexp.Regexp {
	if len(patterns) == 0 {
		return nil
	}
	parts := make([]string, len(patterns))
	ok := true
	for i, s := range patterns {
		if s == "" {
			c.ps.add(append(slices.Clone(at), idx(i)), nil, "empty pattern (it would match everything)")
			ok = false
			continue
		}
		if _, err := regexp.Compile(s); err != nil {
			c.ps.add(append(slices.Clone(at), idx(i)), nil, "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			ok = false
			continue
		}
		parts[i] = "(?:" + s + ")"
	}
	if !ok {
		return nil
	}
	expr := strings.Join(parts, "|")
	if whole {
		expr = `^(?:` + expr + `)$`
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		c.ps.add(at, nil, "the patterns together are invalid: %v", err)
		return nil
	}
	return re
}

const maxGridM = 20_000_000

func (c *compiler) generalizer(at []seg, field string, g Generalize) (*generalizer, bool) {
	ps := c.ps
	sub := func(k string) []seg { return append(slices.Clone(at), key(k)) }
	kinds := 0
	if g.IPv4Prefix != nil || g.IPv6Prefix != nil {
		kinds++
	}
	if g.Bucket != "" {
		kinds++
	}
	if g.Geohash != nil {
		kinds++
	}
	if g.GridM != nil {
		kinds++
	}
	if g.Buckets != nil {
		kinds++
	}
	if kinds != 1 {
		ps.add(at, nil, "give exactly one of ipv4_prefix/ipv6_prefix, bucket, geohash, grid_m or buckets (got %d)", kinds)
		return nil, false
	}
	out := &generalizer{field: field}
	ok := true
	bad := func(k, format string, args ...any) {
		ps.add(sub(k), nil, format, args...)
		ok = false
	}
	switch {
	case g.IPv4Prefix != nil || g.IPv6Prefix != nil:
		out.kind, out.v4, out.v6 = genIP, 24, 48
		if g.IPv4Prefix != nil {
			if out.v4 = *g.IPv4Prefix; out.v4 < 0 || out.v4 > 32 {
				bad("ipv4_prefix", "must be 0..32")
			}
		}
		if g.IPv6Prefix != nil {
			if out.v6 = *g.IPv6Prefix; out.v6 < 0 || out.v6 > 128 {
				bad("ipv6_prefix", "must be 0..128")
			}
		}
	case g.Bucket != "":
		out.kind = genTime
		d, err := time.ParseDuration(g.Bucket)
		switch {
		case err != nil:
			bad("bucket", "want a duration like 1m, 15m or 1h")
		case d <= 0:
			bad("bucket", "must be positive")
		}
		out.bucket = d
	case g.Geohash != nil:
		out.kind, out.geohash = genGeo, *g.Geohash
		if out.geohash < 1 || out.geohash > 12 {
			bad("geohash", "must be 1..12 (characters of precision)")
		}
	case g.GridM != nil:
		out.kind, out.gridM = genGeo, *g.GridM
		if !(out.gridM > 0 && out.gridM <= maxGridM) {
			bad("grid_m", "must be more than 0 and at most %d (metres)", maxGridM)
		}
	case g.Buckets != nil:
		out.kind = genNum
		if len(g.Buckets) == 0 {
			bad("buckets", "list at least one boundary")
		}
		for i, b := range g.Buckets {
			if math.IsNaN(b) || math.IsInf(b, 0) {
				ps.add(append(sub("buckets"), idx(i)), nil, "must be a finite number")
				ok = false
			} else if i > 0 && b <= g.Buckets[i-1] {
				ps.add(append(sub("buckets"), idx(i)), nil, "boundaries must increase")
				ok = false
			}
		}
		out.buckets = slices.Clone(g.Buckets)
	}
	if g.LonField != "" {
		switch {
		case out.kind != genGeo:
			bad("lon_field", "lon_field goes with geohash or grid_m")
		case g.LonField == field:
			bad("lon_field", "must name another field than the latitude")
		}
		out.lonField = g.LonField
	}
	return out, ok
}

var keyIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// unkeyed are hash names people reach for; an unkeyed hash of a low-entropy identifier (an
// IPv4 address, a phone number, a plate) is reversed by enumeration.
var unkeyed = []string{"md5", "sha1", "sha-1", "sha256", "sha-256", "sha512", "sha-512", "sha3", "sha3-256", "fnv", "xxh3", "xxhash", "murmur3", "communityid"}

const minKeyBytes = 16

func (c *compiler) pseudonymizer(cfg *Pseudonymize, keys Keys) *pseudonymizer {
	ps := c.ps
	at := func(k string) []seg { return []seg{key("pseudonymize"), key(k)} }
	ok := true
	bad := func(k string, err error, format string, args ...any) {
		ps.add(at(k), err, format, args...)
		ok = false
	}
	out := &pseudonymizer{keyID: cfg.KeyID}
	if len(cfg.Fields) == 0 {
		bad("fields", nil, "list at least one field")
	}
	seen := map[string]bool{}
	for i, f := range cfg.Fields {
		switch {
		case f == "":
			ps.add([]seg{key("pseudonymize"), key("fields"), idx(i)}, nil, "want a field name")
			ok = false
		case seen[f]:
			ps.add([]seg{key("pseudonymize"), key("fields"), idx(i)}, nil, "%s is listed twice", f)
			ok = false
		}
		seen[f] = true
	}
	out.fields = slices.Clone(cfg.Fields)
	switch fn := strings.ToLower(cfg.Fn); {
	case fn == "" || fn == "hmac-sha256":
		out.sha512 = false
	case fn == "hmac-sha512":
		out.sha512 = true
	case slices.Contains(unkeyed, fn):
		bad("fn", nil, "%s is an unkeyed hash: low-entropy identifiers (IPv4 addresses, plates) are recovered by enumerating them; use hmac-sha256", cfg.Fn)
	default:
		bad("fn", nil, "want hmac-sha256 or hmac-sha512")
	}
	if !keyIDRE.MatchString(cfg.KeyID) {
		bad("key_id", nil, "want 1-32 letters, digits, '-' or '_' (it starts every pseudonym)")
	}
	if !slices.Contains(rotations, cfg.Rotation) {
		bad("rotation", nil, "want one of none, daily, weekly, monthly, quarterly, yearly")
	}
	out.rotation = cfg.Rotation
	kind, name, _ := strings.Cut(cfg.KeyRef, ":")
	switch {
	case cfg.KeyRef == "":
		bad("key_ref", nil, "required: env:NAME or file:PATH")
	case (kind != "env" && kind != "file") || name == "":
		bad("key_ref", ErrKeyRef, "want env:NAME or file:PATH")
	default:
		k, err := keys.Load(cfg.KeyRef)
		switch {
		case err != nil:
			bad("key_ref", err, "cannot load the key: %v", err)
		case k.Len() < minKeyBytes:
			bad("key_ref", nil, "the key is %d bytes; use at least %d (32 random bytes recommended)", k.Len(), minKeyBytes)
		}
		out.base = k
	}
	if !ok {
		return nil
	}
	return out
}

func (c *compiler) dropRule(at []seg, d DropRule) (dropRule, bool) {
	ps := c.ps
	r := dropRule{field: d.Field}
	ok := true
	if d.Field == "" {
		ps.add(append(slices.Clone(at), key("field")), nil, "required: the field to test")
		ok = false
	}
	n := 0
	if d.Equals != nil {
		n++
		r.kind, r.values = dropEquals, []string{scalarText(d.Equals)}
	}
	if d.In != nil {
		n++
		r.kind = dropIn
		if len(d.In) == 0 {
			ps.add(append(slices.Clone(at), key("in")), nil, "list at least one value")
			ok = false
		}
		for i, v := range d.In {
			if v == nil {
				ps.add(append(slices.Clone(at), key("in"), idx(i)), nil, "want a string, number or boolean")
				ok = false
			}
			r.values = append(r.values, scalarText(v))
		}
	}
	if d.Matches != "" {
		n++
		r.kind = dropMatches
		re, err := regexp.Compile(d.Matches)
		if err != nil {
			ps.add(append(slices.Clone(at), key("matches")), nil, "invalid regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
			ok = false
		}
		r.re = re
	}
	if d.Exists != nil {
		n++
		r.kind, r.exists = dropExists, *d.Exists
	}
	if n != 1 {
		ps.add(at, nil, "give exactly one of equals, in, matches or exists (got %d)", n)
		ok = false
	}
	return r, ok
}

const defaultMaxUnits = 100_000

func (c *compiler) bounder(b *Bound, unit string) *bounder {
	ps := c.ps
	at := func(k string) []seg { return []seg{key("bound"), key(k)} }
	ok := true
	if unit == "" {
		ps.add([]seg{key("privacy_unit")}, nil, "required with bound: the field whose values are bounded")
		ok = false
	}
	if b.MaxRecords < 1 {
		ps.add(at("max_records"), nil, "must be at least 1")
		ok = false
	}
	w, err := time.ParseDuration(b.Window)
	switch {
	case b.Window == "":
		ps.add(at("window"), nil, "required: a duration like 60s")
		ok = false
	case err != nil:
		ps.add(at("window"), nil, "want a duration like 60s or 1h")
		ok = false
	case w <= 0:
		ps.add(at("window"), nil, "must be positive")
		ok = false
	}
	maxUnits := b.MaxUnits
	switch {
	case maxUnits < 0:
		ps.add(at("max_units"), nil, "must not be negative")
		ok = false
	case maxUnits == 0:
		maxUnits = defaultMaxUnits
	}
	if !ok {
		return nil
	}
	return newBounder(b.MaxRecords, w, maxUnits)
}

func setClass(m map[string]field, name string, c class) {
	f := m[name]
	f.c |= c
	m[name] = f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// scalarText renders a YAML scalar the way a record's value would read.
func scalarText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(v)
	}
	return fmt.Sprint(v)
}
