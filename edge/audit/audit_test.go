package audit_test

import (
	"errors"
	"testing"

	"github.com/sectwin/sectwin/edge/audit"
)

func TestManifestRoundTripAndRefusals(t *testing.T) {
	dp := audit.Manifest{Site: "s", Pipeline: "p", Kind: audit.KindAggregate, ConfigHash: "c", Mechanism: "DP-Count",
		Epsilon: "0.5", Delta: "0", Guarantee: "event", LedgerEntry: "e"}
	event := audit.Manifest{Site: "s", Pipeline: "p", Kind: audit.KindEvent, ConfigHash: "c", KeyID: "k1", Mechanism: audit.MechanismMinimised}
	tests := []struct {
		name string
		m    audit.Manifest
		ok   bool
	}{
		{"dp release", dp, true},
		{"minimised event", event, true},
		{"no site", func() audit.Manifest { m := event; m.Site = ""; return m }(), false},
		{"no config hash", func() audit.Manifest { m := event; m.ConfigHash = ""; return m }(), false},
		{"dp without ledger entry", func() audit.Manifest { m := dp; m.LedgerEntry = ""; return m }(), false},
		{"dp without epsilon", func() audit.Manifest { m := dp; m.Epsilon = ""; return m }(), false},
		{"dp with a negative epsilon", func() audit.Manifest { m := dp; m.Epsilon = "-1"; return m }(), false},
		{"unknown kind", func() audit.Manifest { m := event; m.Kind = "raw"; return m }(), false},
		{"nothing", audit.Manifest{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.FromHeader(tt.m.Header())
			switch {
			case tt.ok && (err != nil || got != tt.m):
				t.Errorf("got %+v, %v", got, err)
			case !tt.ok && !errors.Is(err, audit.ErrMissing):
				t.Errorf("accepted %+v (err %v)", got, err)
			}
		})
	}
}
