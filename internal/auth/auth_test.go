package auth

import (
	"errors"
	"testing"
)

func TestParseScopes(t *testing.T) {
	tests := []struct {
		in      string
		want    []Scope
		wantErr error
	}{
		{in: "read", want: []Scope{ScopeRead}},
		{in: " read , ingest,read ", want: []Scope{ScopeRead, ScopeIngest}},
		{in: "admin", want: []Scope{ScopeAdmin}},
		{in: "", wantErr: ErrBadScope},
		{in: ",", wantErr: ErrBadScope},
		{in: "read,root", wantErr: ErrBadScope},
		{in: "READ", wantErr: ErrBadScope},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseScopes(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestParseTwins(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{in: "traffic", want: 1},
		{in: "traffic,supply-chain,city_2", want: 2 + 1},
		{in: "*", want: 1},
		{in: "traffic,traffic", want: 1},
		{in: "", wantErr: true},
		{in: "Traffic", wantErr: true},
		{in: "-lead", wantErr: true},
		{in: "a b", wantErr: true},
		{in: "x' OR 1=1 //", wantErr: true},
		{in: "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd", wantErr: true}, // 64 chars
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseTwins(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrBadTwin) {
				t.Fatalf("err = %v, want ErrBadTwin", err)
			}
			if len(got) != tt.want {
				t.Fatalf("got %v, want %d twins", got, tt.want)
			}
		})
	}
}

func TestSecrets(t *testing.T) {
	s1, h1, err := NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	s2, h2, _ := NewSecret()
	if s1 == s2 || h1 == h2 {
		t.Fatal("two secrets are equal")
	}
	if !WellFormed(s1) || HashSecret(s1) != h1 || len(h1) != 64 {
		t.Fatalf("secret %q hash %q", s1, h1)
	}
	for _, bad := range []string{"", "stw_", "stw_short", "xyz_" + s1[4:], s1 + "A", s1[:len(s1)-1] + "!"} {
		if WellFormed(bad) {
			t.Errorf("WellFormed(%q) = true", bad)
		}
	}
}

func TestPrincipal(t *testing.T) {
	tests := []struct {
		name        string
		p           Principal
		scope       Scope
		twin        string
		wantScope   bool
		wantSeeTwin bool
	}{
		{"reader of traffic", Principal{Scopes: []Scope{ScopeRead}, Twins: []string{"traffic"}}, ScopeRead, "traffic", true, true},
		{"reader elsewhere", Principal{Scopes: []Scope{ScopeRead}, Twins: []string{"traffic"}}, ScopeRead, "supply", true, false},
		{"no write", Principal{Scopes: []Scope{ScopeRead}, Twins: []string{"*"}}, ScopeWrite, "supply", false, true},
		{"admin has all", Principal{Scopes: []Scope{ScopeAdmin}, Twins: nil}, ScopeMetrics, "any", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Has(tt.scope); got != tt.wantScope {
				t.Errorf("Has(%s) = %v", tt.scope, got)
			}
			if got := tt.p.CanSeeTwin(tt.twin); got != tt.wantSeeTwin {
				t.Errorf("CanSeeTwin(%s) = %v", tt.twin, got)
			}
		})
	}
}

func TestBearerToken(t *testing.T) {
	tests := map[string]string{
		"Bearer abc":     "abc",
		"bearer  abc ":   "abc",
		"Basic abc":      "",
		"abc":            "",
		"":               "",
		"Bearer":         "",
		"BEARER stw_x y": "stw_x y",
	}
	for in, want := range tests {
		if got := BearerToken(in); got != want {
			t.Errorf("BearerToken(%q) = %q, want %q", in, got, want)
		}
	}
}
