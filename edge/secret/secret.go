// Package secret loads the edge collector's secrets (HTTP tokens, MQTT and NATS passwords) from
// references such as env:NAME or file:PATH, so that configs never hold them, and keeps them out
// of logs: a Value prints as [redacted].
package secret

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrBadRef marks a reference that is neither env:NAME nor file:PATH.
var ErrBadRef = errors.New("secret reference must be env:NAME or file:PATH")

// Value is a loaded secret. Its String, GoString and Format never show it.
type Value struct{ b []byte }

// Bytes returns the secret itself.
func (v Value) Bytes() []byte { return v.b }

// Empty reports whether no secret was loaded.
func (v Value) Empty() bool { return len(v.b) == 0 }

// Equal compares in constant time.
func (v Value) Equal(b []byte) bool { return len(v.b) > 0 && subtle.ConstantTimeCompare(v.b, b) == 1 }

// String implements fmt.Stringer without the secret.
func (Value) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer without the secret.
func (Value) GoString() string { return "secret.Value{[redacted]}" }

// Format prints [redacted] for every verb.
func (Value) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// MarshalText keeps secrets out of JSON and YAML output.
func (Value) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// CheckRef validates a reference without loading it.
func CheckRef(ref string) error {
	kind, arg, ok := strings.Cut(ref, ":")
	if !ok || arg == "" || (kind != "env" && kind != "file") {
		return fmt.Errorf("%w (got %q)", ErrBadRef, redactRef(ref))
	}
	return nil
}

// Load reads a secret: env:NAME from the environment, file:PATH from a file (a trailing newline
// is dropped). A missing variable or file, or an empty secret, is an error that names the
// variable or the file, never the value.
func Load(ref string) (Value, error) {
	if err := CheckRef(ref); err != nil {
		return Value{}, err
	}
	kind, arg, _ := strings.Cut(ref, ":")
	var b []byte
	switch kind {
	case "env":
		v, ok := os.LookupEnv(arg)
		if !ok {
			return Value{}, fmt.Errorf("secret %s: environment variable %s is not set", ref, arg)
		}
		b = []byte(v)
	case "file":
		data, err := os.ReadFile(arg)
		if err != nil {
			return Value{}, fmt.Errorf("secret %s: %w", ref, err)
		}
		b = []byte(strings.TrimRight(string(data), "\r\n"))
	}
	if len(b) == 0 {
		return Value{}, fmt.Errorf("secret %s is empty", ref)
	}
	return Value{b: b}, nil
}

// redactRef shows a malformed reference only when it looks like one, so that a secret pasted
// where its reference belongs does not reach an error message.
func redactRef(ref string) string {
	if len(ref) <= 32 && !strings.ContainsAny(ref, " \t") && strings.Contains(ref, ":") {
		return ref
	}
	return "[not shown]"
}
