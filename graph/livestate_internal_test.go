package graph

import (
	"fmt"
	"testing"
	"time"
)

// TestTopologyDesigned is the design rule of observed connections, case by case.
func TestTopologyDesigned(t *testing.T) {
	topo := &Topology{
		hostZones: map[string][]string{"web": {"dmz"}, "app": {"app"}, "db": {"core"}, "jump": {"mgmt"}, "web2": {"dmz"}},
		internet:  []string{"internet"},
		reaches: map[endpoint][]reachRule{
			{LabelZone, "dmz"}:  {{to: endpoint{LabelZone, "app"}, port: 8080, proto: "tcp"}},
			{LabelZone, "app"}:  {{to: endpoint{LabelZone, "core"}, port: 5432}},
			{LabelHost, "jump"}: {{to: endpoint{LabelHost, "db"}, proto: "tcp"}},
		},
		exposed: map[string][]exposure{"web": {{zone: "internet", port: 443}}, "app": {{zone: "mgmt"}}},
	}
	cases := []struct {
		src, dst string
		port     int
		proto    string
		want     bool
	}{
		{"web", "web2", 22, "tcp", true},    // one zone
		{"web", "app", 8080, "TCP", true},   // zone rule, port and proto
		{"web", "app", 8080, "udp", false},  // the rule's proto only
		{"web", "app", 22, "tcp", false},    // the rule's port only
		{"app", "db", 5432, "udp", true},    // a rule without proto: any
		{"app", "web", 5432, "tcp", false},  // rules have a direction
		{"jump", "db", 22, "tcp", true},     // a host rule without port: any
		{"jump", "db", 22, "udp", false},    // but its proto
		{"", "web", 443, "tcp", true},       // the internet to what is exposed to it
		{"", "web", 80, "tcp", false},       // on the exposed port only
		{"", "db", 5432, "tcp", false},      // nothing exposes the database
		{"jump", "app", 9999, "tcp", true},  // exposed to mgmt on any port
		{"web", "", 443, "tcp", false},      // to an unknown endpoint
		{"nowhere", "db", 22, "tcp", false}, // a host without zones
		{"", "", 53, "udp", false},          // between unknown endpoints
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s→%s:%d/%s", c.src, c.dst, c.port, c.proto), func(t *testing.T) {
			if got, _, _ := topo.Designed(c.src, c.dst, c.port, c.proto); got != c.want {
				t.Errorf("designed %v, want %v", got, c.want)
			}
		})
	}
}

// TestConnectionKey: keys tell apart every field, and no name's separators make two collide.
func TestConnectionKey(t *testing.T) {
	hour := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	base := []any{"t", "a", "a", "b", "b", 22, "tcp", hour}
	// An end is a host (when named) or else the unknown endpoint at its address.
	ref := func(host, raw any) NodeRef {
		if host != "" {
			return NodeRef{Label: LabelHost, Key: host.(string)}
		}
		return NodeRef{Label: LabelObservedEndpoint, Key: raw.(string)}
	}
	key := func(v []any) string {
		return connectionKey(v[0].(string), ref(v[1], v[2]), ref(v[3], v[4]), v[5].(int), v[6].(string), v[7].(time.Time))
	}
	seen := map[string]int{key(base): -1}
	variants := [][]any{
		{"u", "a", "a", "b", "b", 22, "tcp", hour},
		{"t", "", "a", "b", "b", 22, "tcp", hour}, // the unknown endpoint a, not the host a
		{"t", "a", "a", "", "b", 22, "tcp", hour},
		{"t", "b", "b", "a", "a", 22, "tcp", hour},
		{"t", "a", "a", "b", "b", 23, "tcp", hour},
		{"t", "a", "a", "b", "b", 22, "udp", hour},
		{"t", "a", "a", "b", "b", 22, "tcp", hour.Add(time.Hour)},
		{"t|a", "", "", "b", "b", 22, "tcp", hour},
		{"t", "a|b", "a|b", "", "", 22, "tcp", hour},
	}
	for i, v := range variants {
		k := key(v)
		if j, ok := seen[k]; ok {
			t.Errorf("variant %d has the key of %d", i, j)
		}
		seen[k] = i
	}
	// The raw name of a resolved end does not matter: its host does.
	topo := &Topology{resolve: map[string]endpoint{"a": {LabelHost, "a"}, "10.0.0.1": {LabelHost, "a"}, "b": {LabelHost, "b"}}}
	if connectionKey("t", topo.end("10.0.0.1"), topo.end("b"), 22, "tcp", hour) != key(base) {
		t.Error("a host's address and name give two keys")
	}
	// A service's name is not a host: the flow's end is an unknown endpoint of that name.
	topo.resolve["portal"] = endpoint{LabelService, "portal"}
	if got := topo.end("portal"); got != (NodeRef{Label: LabelObservedEndpoint, Key: "portal"}) {
		t.Errorf("end of a service's name: %v", got)
	}
}
