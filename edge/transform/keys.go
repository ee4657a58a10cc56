package transform

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
)

// Secret holds key bytes. It never shows them: String, GoString, every fmt verb, JSON, text and
// slog all print "[REDACTED]".
type Secret struct {
	b []byte
}

// NewSecret copies b into a Secret.
func NewSecret(b []byte) Secret { return Secret{b: bytes.Clone(b)} }

const redacted = "[REDACTED]"

// Len is the key's length in bytes.
func (s Secret) Len() int { return len(s.b) }

func (s Secret) String() string   { return redacted }
func (s Secret) GoString() string { return "transform.Secret{" + redacted + "}" }

// Format makes every verb (%v %+v %#v %s %q %x %X %d ...) print the redaction.
func (s Secret) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(redacted))
}

func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
func (s Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }

// Keys loads secrets by reference. References are "env:NAME" and "file:PATH".
type Keys interface {
	Load(ref string) (Secret, error)
}

// EnvFileKeys loads "env:NAME" from the environment and "file:PATH" from a file. The value is
// the key's bytes as they are, or, with a "base64:" (standard or URL alphabet, padding
// optional) or "hex:" prefix, their encoding; surrounding whitespace is trimmed. Errors name
// the reference (and the file), never the contents.
type EnvFileKeys struct {
	// LookupEnv and ReadFile default to os.LookupEnv and os.ReadFile.
	LookupEnv func(string) (string, bool)
	ReadFile  func(string) ([]byte, error)
}

// ErrKeyRef: a key reference is neither env:NAME nor file:PATH.
var ErrKeyRef = errors.New("key reference must be env:NAME or file:PATH")

// ErrNoKey: a referenced key is missing or empty.
var ErrNoKey = errors.New("key not found")

func (k EnvFileKeys) Load(ref string) (Secret, error) {
	kind, name, _ := strings.Cut(ref, ":")
	var raw []byte
	switch {
	case kind == "env" && name != "":
		lookup := k.LookupEnv
		if lookup == nil {
			lookup = os.LookupEnv
		}
		v, ok := lookup(name)
		if !ok || strings.TrimSpace(v) == "" {
			return Secret{}, fmt.Errorf("%s: environment variable %s is not set or empty: %w", ref, name, ErrNoKey)
		}
		raw = []byte(v)
	case kind == "file" && name != "":
		read := k.ReadFile
		if read == nil {
			read = os.ReadFile
		}
		b, err := read(name)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				return Secret{}, fmt.Errorf("%s: cannot read key file %s: %w", ref, name, pe.Err)
			}
			return Secret{}, fmt.Errorf("%s: cannot read key file %s: %w", ref, name, err)
		}
		raw = b
	default:
		return Secret{}, fmt.Errorf("%q: %w", ref, ErrKeyRef)
	}
	defer clear(raw)
	key, err := decodeKey(bytes.TrimSpace(raw))
	if err != nil {
		return Secret{}, fmt.Errorf("%s: %w", ref, err)
	}
	if len(key) == 0 {
		return Secret{}, fmt.Errorf("%s: empty key: %w", ref, ErrNoKey)
	}
	return Secret{b: key}, nil
}

// decodeKey undoes an optional base64: or hex: encoding. Its errors never quote the input
// (hex's would show the offending character).
func decodeKey(b []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(b, []byte("base64:")):
		s := strings.TrimRight(string(b[len("base64:"):]), "=")
		for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
			if k, err := enc.DecodeString(s); err == nil {
				return k, nil
			}
		}
		return nil, errors.New("key is not valid base64")
	case bytes.HasPrefix(b, []byte("hex:")):
		k, err := hex.DecodeString(string(b[len("hex:"):]))
		if err != nil {
			return nil, errors.New("key is not valid hex")
		}
		return k, nil
	}
	return bytes.Clone(b), nil
}

// StaticKeys serves keys from memory, by reference; for tests and embedding.
type StaticKeys map[string]Secret

func (s StaticKeys) Load(ref string) (Secret, error) {
	k, ok := s[ref]
	if !ok {
		return Secret{}, fmt.Errorf("%s: %w", ref, ErrNoKey)
	}
	return k, nil
}
