package telemetry_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sectwin/sectwin/ingest/telemetry"
)

// TestDecodeForAcceptsPseudonymisedFields: what the edge collector releases (keyed pseudonyms
// with and without an epoch, address prefixes, unkeyed hashes and pseudo:-prefixed values from
// other pseudonymisers, DP partitions and noisy values) decodes in every field that names an
// entity, and stays as it is, so live state aggregates it per pseudonym. Only fields with a
// format of their own (location, digest, port, time) refuse a pseudonym, with an error that
// names the field and never quotes the value.
func TestDecodeForAcceptsPseudonymisedFields(t *testing.T) {
	const (
		keyed   = "k2026q4:Q2hhbmdlIG1lIHBsZWFz"
		epoch   = "k120261123:AbCdEfGhIjKlMnOpQrStUv"
		prefix4 = "198.51.100.0/24"
		prefix6 = "2001:db8:85a3::/48"
		hashed  = "3f0c6a8d2b1e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c"
		pseudo  = "pseudo:7Zq-x_9w"
	)
	now := time.Now().UTC().Truncate(time.Second)
	tests := []struct {
		name, kind string
		data       map[string]any
		bad        string // the field a refusal names; "" for accepted
	}{
		{"flow between a keyed pseudonym and a prefix", telemetry.KindFlow,
			map[string]any{"src": keyed, "dst": prefix4, "port": 22, "proto": "tcp", "bytes": 5120, "count": 3}, ""},
		{"flow between an epoch pseudonym and an IPv6 prefix", telemetry.KindFlow,
			map[string]any{"src": epoch, "dst": prefix6, "port": 443, "proto": "tcp", "bytes": 1}, ""},
		{"flow between a hash and a pseudo: value", telemetry.KindFlow,
			map[string]any{"src": hashed, "dst": pseudo, "port": 0, "proto": "icmp", "bytes": 0}, ""},
		{"auth of a pseudonymised principal from a pseudonymised source", telemetry.KindAuth,
			map[string]any{"principal": keyed, "outcome": "failure", "src": epoch, "target": hashed, "method": "password"}, ""},
		{"alert about a pseudonym", telemetry.KindAlert,
			map[string]any{"source": "suricata", "rule": "2100498", "severity": "HIGH", "entity": pseudo, "message": "from " + prefix4}, ""},
		{"DP aggregate: noisy count of a partition holding a pseudonym", telemetry.KindMetric,
			map[string]any{"entity": "dst_port=22,src_ip=" + keyed, "name": "sources", "value": -2.0}, ""},
		{"deploy on a pseudonymised host", telemetry.KindDeploy,
			map[string]any{"service": "checkout", "digest": "sha256:" + strings.Repeat("ab", 32), "host": keyed}, ""},
		{"a pseudonymised location is not coordinates", telemetry.KindAuth,
			map[string]any{"principal": keyed, "outcome": "success", "location": keyed}, "data.location"},
		{"a geohash is not coordinates", telemetry.KindAuth,
			map[string]any{"principal": keyed, "outcome": "success", "location": "u4xsu"}, "data.location"},
		{"a pseudonymised digest is not a digest", telemetry.KindDeploy,
			map[string]any{"service": "checkout", "digest": keyed}, "data.digest"},
		{"a pseudonymised port is not a port", telemetry.KindFlow,
			map[string]any{"src": keyed, "dst": keyed, "port": keyed, "proto": "tcp", "bytes": 1}, "data.port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := json.Marshal(map[string]any{"specversion": "1.0", "id": "edge-1", "source": "urn:sectwin:edge:depot-7:ids",
				"type": telemetry.EventType(tt.kind), "time": now.Format(time.RFC3339), "datacontenttype": "application/json", "data": tt.data})
			if err != nil {
				t.Fatal(err)
			}
			ev, err := telemetry.DecodeFor("city", tt.kind, data)
			if tt.bad != "" {
				var fe *telemetry.FieldError
				if !errors.As(err, &fe) || fe.Field != tt.bad || !errors.Is(err, telemetry.ErrMalformed) {
					t.Fatalf("want a refusal naming %s, got %v", tt.bad, err)
				}
				for _, v := range []string{keyed, "u4xsu"} {
					if strings.Contains(err.Error(), v) {
						t.Errorf("the error quotes the value: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Every string comes back as it was sent: re-encoding gives the same payload.
			out, err := telemetry.Encode(ev)
			if err != nil {
				t.Fatal(err)
			}
			var back struct{ Data map[string]any }
			if err := json.Unmarshal(out, &back); err != nil {
				t.Fatal(err)
			}
			for k, v := range tt.data {
				if s, ok := v.(string); ok && back.Data[k] != s {
					t.Errorf("data.%s: %v, sent %q", k, back.Data[k], s)
				}
			}
		})
	}
}
