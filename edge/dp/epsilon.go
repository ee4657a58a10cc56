package dp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ErrInvalidEpsilon reports an epsilon that cannot be represented exactly
// in micro-epsilon or is not positive.
var ErrInvalidEpsilon = errors.New("dp: invalid epsilon")

// Epsilon is a privacy-loss parameter in integer micro-epsilon: the value m
// stands for ε = m/10^6. It is never converted to a float.
type Epsilon int64

// MicroPerEpsilon is the number of [Epsilon] units in ε = 1.
const MicroPerEpsilon = 1_000_000

// epsilonDecimals is the number of decimals an Epsilon represents exactly.
const epsilonDecimals = 6

// ParseEpsilon parses a plain decimal such as "1", "0.5" or "0.000001"
// exactly into micro-epsilon. It rejects signs, exponents, more than six
// decimals, zero and values that overflow.
func ParseEpsilon(s string) (Epsilon, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || !allDigits(intPart) || !allDigits(frac) {
		return 0, fmt.Errorf("%w: %q is not a plain decimal number", ErrInvalidEpsilon, s)
	}
	if len(frac) > epsilonDecimals {
		return 0, fmt.Errorf("%w: %q has more than %d decimals", ErrInvalidEpsilon, s, epsilonDecimals)
	}
	whole, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil || whole > math.MaxInt64/MicroPerEpsilon-1 {
		return 0, fmt.Errorf("%w: %q is too large", ErrInvalidEpsilon, s)
	}
	frac += strings.Repeat("0", epsilonDecimals-len(frac))
	micro, err := strconv.ParseInt(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %q: %w", ErrInvalidEpsilon, s, err)
	}
	e := Epsilon(whole*MicroPerEpsilon + micro)
	if e <= 0 {
		return 0, fmt.Errorf("%w: %q must be greater than zero", ErrInvalidEpsilon, s)
	}
	return e, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// EpsilonFromFloat converts f exactly when its shortest decimal form has at
// most six decimals (1.0, 0.25, 0.000001); 0.1+0.2 and 1e-7 are rejected
// rather than rounded.
func EpsilonFromFloat(f float64) (Epsilon, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%w: %v", ErrInvalidEpsilon, f)
	}
	return ParseEpsilon(strconv.FormatFloat(f, 'f', -1, 64))
}

// String formats e as a plain decimal without trailing zeros ("1", "0.5").
func (e Epsilon) String() string {
	sign, mag := "", uint64(e)
	if e < 0 {
		sign, mag = "-", -uint64(e)
	}
	s := sign + strconv.FormatUint(mag/MicroPerEpsilon, 10)
	if frac := mag % MicroPerEpsilon; frac != 0 {
		s += "." + strings.TrimRight(fmt.Sprintf("%06d", frac), "0")
	}
	return s
}

// MarshalText implements encoding.TextMarshaler.
func (e Epsilon) MarshalText() ([]byte, error) {
	if e <= 0 {
		return nil, fmt.Errorf("%w: %d micro-epsilon", ErrInvalidEpsilon, int64(e))
	}
	return []byte(e.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with [ParseEpsilon].
func (e *Epsilon) UnmarshalText(text []byte) error {
	v, err := ParseEpsilon(string(text))
	if err != nil {
		return err
	}
	*e = v
	return nil
}

// MarshalJSON writes e as an exact JSON number such as 1.5.
func (e Epsilon) MarshalJSON() ([]byte, error) {
	return e.MarshalText()
}

// UnmarshalJSON reads a JSON number or string exactly, from its decimal
// text, so 1.0 and "1.0" both become 1,000,000 micro-epsilon without going
// through float64.
func (e *Epsilon) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) >= 2 && data[0] == '"' && data[len(data)-1] == '"' {
		data = data[1 : len(data)-1]
	}
	return e.UnmarshalText(data)
}
