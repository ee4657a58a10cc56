package auth

import (
	"strings"
	"testing"
)

// FuzzParseGrants: scope and twin parsing never panics, and whatever it accepts is a known
// scope or a legal twin name, so nothing unvetted reaches storage or Cypher parameters.
func FuzzParseGrants(f *testing.F) {
	for _, seed := range []string{"read", "read,ingest", "*", "traffic,supply", "", ",,", "ADMIN", "a b", "x' OR 1=1", "\x00", "read,\u00e9"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if scopes, err := ParseScopes(in); err == nil {
			for _, s := range scopes {
				if !strings.Contains(",read,write,ingest,metrics,admin,", ","+string(s)+",") {
					t.Fatalf("ParseScopes(%q) accepted %q", in, s)
				}
			}
		}
		if twins, err := ParseTwins(in); err == nil {
			for _, tw := range twins {
				if tw != AllTwins && !ValidTwinName(tw) {
					t.Fatalf("ParseTwins(%q) accepted %q", in, tw)
				}
			}
		}
		_ = WellFormed(in)
		_ = BearerToken(in)
	})
}
