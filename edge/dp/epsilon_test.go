package dp

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
)

func TestParseEpsilon(t *testing.T) {
	tests := []struct {
		in      string
		want    Epsilon
		wantErr bool
	}{
		{in: "1", want: 1_000_000},
		{in: "1.0", want: 1_000_000},
		{in: "0.5", want: 500_000},
		{in: "8.25", want: 8_250_000},
		{in: "0.000001", want: 1},
		{in: "9223372036853", want: 9223372036853_000_000},
		{in: "0.0000001", wantErr: true},     // 7 decimals
		{in: "1.0000000", wantErr: true},     // 7 decimals, even if exact
		{in: "0", wantErr: true},             // not positive
		{in: "0.000000", wantErr: true},      // not positive
		{in: "-1", wantErr: true},            // sign
		{in: "+1", wantErr: true},            // sign
		{in: "1e-3", wantErr: true},          // exponent
		{in: "", wantErr: true},              //
		{in: ".5", wantErr: true},            //
		{in: "5.", wantErr: true},            //
		{in: " 1", wantErr: true},            //
		{in: "1_0", wantErr: true},           //
		{in: "NaN", wantErr: true},           //
		{in: "9223372036854", wantErr: true}, // overflows int64 micro-ε
		{in: "99999999999999999999", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseEpsilon(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidEpsilon) {
				t.Errorf("ParseEpsilon(%q) = %d, %v; want ErrInvalidEpsilon", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseEpsilon(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestEpsilonFromFloat(t *testing.T) {
	tenth := 0.1 // a variable, so 0.1+0.2 is float64 arithmetic, not an exact constant
	tests := []struct {
		in      float64
		want    Epsilon
		wantErr bool
	}{
		{in: 1.0, want: 1_000_000},
		{in: 0.1, want: 100_000},
		{in: 0.000001, want: 1},
		{in: 12.345678, want: 12_345_678},
		{in: tenth + 0.2, wantErr: true}, // 0.30000000000000004
		{in: 1e-7, wantErr: true},
		{in: 0, wantErr: true},
		{in: -1, wantErr: true},
		{in: math.NaN(), wantErr: true},
		{in: math.Inf(1), wantErr: true},
		{in: 1e300, wantErr: true},
	}
	for _, tt := range tests {
		got, err := EpsilonFromFloat(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("EpsilonFromFloat(%v) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestEpsilonString(t *testing.T) {
	tests := []struct {
		in   Epsilon
		want string
	}{
		{1_000_000, "1"}, {500_000, "0.5"}, {1, "0.000001"}, {8_250_000, "8.25"}, {0, "0"}, {-1_500_000, "-1.5"},
		{math.MinInt64, "-9223372036854.775808"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Epsilon(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
		if tt.in > 0 {
			if back, err := ParseEpsilon(tt.want); err != nil || back != tt.in {
				t.Errorf("ParseEpsilon(%q) = %d, %v; want %d", tt.want, back, err, tt.in)
			}
		}
	}
}

func TestEpsilonJSON(t *testing.T) {
	tests := []struct {
		in      string
		want    Epsilon
		wantErr bool
	}{
		{in: `1.0`, want: 1_000_000},
		{in: `"0.25"`, want: 250_000},
		{in: `2`, want: 2_000_000},
		{in: `1e-3`, wantErr: true},
		{in: `0.00000001`, wantErr: true},
		{in: `-1`, wantErr: true},
		{in: `null`, wantErr: true},
	}
	for _, tt := range tests {
		var e Epsilon
		err := json.Unmarshal([]byte(tt.in), &e)
		if (err != nil) != tt.wantErr || e != tt.want {
			t.Errorf("Unmarshal(%s) = %d, %v; want %d (error %v)", tt.in, e, err, tt.want, tt.wantErr)
		}
	}
	b, err := json.Marshal(struct{ E Epsilon }{1_500_000})
	if err != nil || string(b) != `{"E":1.5}` {
		t.Errorf("Marshal = %s, %v", b, err)
	}
	if _, err := json.Marshal(Epsilon(0)); err == nil {
		t.Error("Marshal(Epsilon(0)) succeeded")
	}
}

func TestGuarantee(t *testing.T) {
	tests := []struct {
		in      string
		want    Guarantee
		wantErr bool
	}{
		{in: "event", want: Guarantee{Kind: EventLevel}},
		{in: "unit", want: Guarantee{Kind: UnitLevel}},
		{in: "w_event(60)", want: Guarantee{Kind: WEvent, W: 60}},
		{in: "w_event(0)", wantErr: true},
		{in: "w_event(-3)", wantErr: true},
		{in: "w_event(16777217)", wantErr: true},
		{in: "w_event(6", wantErr: true},
		{in: "w_event", wantErr: true},
		{in: "user", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseGuarantee(tt.in)
		if tt.wantErr {
			if !errors.Is(err, ErrInvalidGuarantee) {
				t.Errorf("ParseGuarantee(%q) = %v, %v; want ErrInvalidGuarantee", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != tt.in {
			t.Errorf("ParseGuarantee(%q) = %+v (%s), %v; want %+v", tt.in, got, got, err, tt.want)
		}
	}
	if err := (Guarantee{Kind: EventLevel, W: 3}).Validate(); !errors.Is(err, ErrInvalidGuarantee) {
		t.Errorf("event with w: %v", err)
	}
	for g, want := range map[Guarantee]bool{{Kind: EventLevel}: true, {Kind: WEvent, W: 2}: true, {Kind: UnitLevel}: false} {
		if g.Resets() != want {
			t.Errorf("%s.Resets() = %v", g, !want)
		}
	}
}
