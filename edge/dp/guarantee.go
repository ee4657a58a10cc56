package dp

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrInvalidGuarantee reports a malformed or inconsistent [Guarantee].
var ErrInvalidGuarantee = errors.New("dp: invalid guarantee")

// GuaranteeKind names the unit of protection a budget is declared for.
type GuaranteeKind string

// The declared guarantees. A per-window budget reset is sound only for
// EventLevel and WEvent (Kellaris et al., VLDB 2014); a unit present in
// every one of T windows then loses up to T·ε in total.
const (
	// EventLevel protects each event: the budget resets every window.
	EventLevel GuaranteeKind = "event"
	// WEvent protects any W consecutive windows of one unit: the budget
	// covers every run of W windows. The design's user(horizon) guarantee is
	// WEvent with W = horizon/window.
	WEvent GuaranteeKind = "w_event"
	// UnitLevel protects a privacy unit over the whole life of the budget:
	// it never resets.
	UnitLevel GuaranteeKind = "unit"
)

// MaxW bounds the W of a w-event guarantee.
const MaxW = 1 << 24

// Guarantee is a declared privacy guarantee. W is the number of windows of
// a WEvent guarantee and zero otherwise.
type Guarantee struct {
	Kind GuaranteeKind
	W    int64
}

// Validate reports whether g is a well-formed guarantee.
func (g Guarantee) Validate() error {
	switch g.Kind {
	case EventLevel, UnitLevel:
		if g.W != 0 {
			return fmt.Errorf("%w: %s takes no w (got %d)", ErrInvalidGuarantee, g.Kind, g.W)
		}
	case WEvent:
		if g.W < 1 || g.W > MaxW {
			return fmt.Errorf("%w: w_event needs 1 ≤ w ≤ %d (got %d)", ErrInvalidGuarantee, MaxW, g.W)
		}
	case "":
		return fmt.Errorf("%w: no guarantee declared", ErrInvalidGuarantee)
	default:
		return fmt.Errorf("%w: unknown kind %q (want event, w_event(w) or unit)", ErrInvalidGuarantee, g.Kind)
	}
	return nil
}

// Resets reports whether the budget of g is renewed window by window.
func (g Guarantee) Resets() bool {
	return g.Kind == EventLevel || g.Kind == WEvent
}

// String formats g as "event", "w_event(60)" or "unit".
func (g Guarantee) String() string {
	if g.Kind == WEvent {
		return fmt.Sprintf("%s(%d)", g.Kind, g.W)
	}
	return string(g.Kind)
}

// ParseGuarantee parses the form written by [Guarantee.String].
func ParseGuarantee(s string) (Guarantee, error) {
	var g Guarantee
	if rest, ok := strings.CutPrefix(s, string(WEvent)+"("); ok {
		n, found := strings.CutSuffix(rest, ")")
		w, err := strconv.ParseInt(n, 10, 64)
		if !found || err != nil {
			return Guarantee{}, fmt.Errorf("%w: %q", ErrInvalidGuarantee, s)
		}
		g = Guarantee{Kind: WEvent, W: w}
	} else {
		g = Guarantee{Kind: GuaranteeKind(s)}
	}
	if err := g.Validate(); err != nil {
		return Guarantee{}, err
	}
	return g, nil
}

// MarshalText implements encoding.TextMarshaler.
func (g Guarantee) MarshalText() ([]byte, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return []byte(g.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseGuarantee].
func (g *Guarantee) UnmarshalText(text []byte) error {
	v, err := ParseGuarantee(string(text))
	if err != nil {
		return err
	}
	*g = v
	return nil
}
