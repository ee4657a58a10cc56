package transform_test

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/transform"
)

// TestSecretNeverPrints: no formatting path shows key bytes.
func TestSecretNeverPrints(t *testing.T) {
	key := []byte("s3cr3t-key-bytes-0123456789")
	s := transform.NewSecret(key)
	type holder struct {
		Name string
		Key  transform.Secret
		Ptr  *transform.Secret
	}
	h := holder{Name: "n", Key: s, Ptr: &s}
	var outs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3s", "%08v"} {
		outs = append(outs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, h), fmt.Sprintf(verb, &s))
	}
	outs = append(outs, s.String(), s.GoString(), fmt.Sprint(s), fmt.Sprintln(h))
	j, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outs = append(outs, string(j))
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("loaded", "key", s, "holder", h)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("loaded", "key", s)
	outs = append(outs, logged.String())
	for _, o := range outs {
		for _, leak := range []string{string(key), hex.EncodeToString(key), fmt.Sprint([]byte(key)), "s3cr3t"} {
			if strings.Contains(o, leak) || strings.Contains(strings.ToLower(o), strings.ToLower(hex.EncodeToString(key[:4]))) {
				t.Errorf("key bytes in %q (%q)", o, leak)
			}
		}
		if !strings.Contains(o, "REDACTED") {
			t.Errorf("no redaction marker in %q", o)
		}
	}
	if s.Len() != len(key) {
		t.Errorf("Len = %d", s.Len())
	}
	key[0] = 'X' // NewSecret copied
	if strings.Contains(fmt.Sprintf("%#v", s), "X3cr") {
		t.Error("NewSecret shares the caller's slice")
	}
}

func TestEnvFileKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	raw := write("raw.key", "a-raw-key-of-sixteen+ bytes\n")
	b64 := write("b64.key", "base64:"+"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n")
	hx := write("hex.key", "hex:000102030405060708090a0b0c0d0e0f")
	badHex := write("bad.key", "hex:zzSECRETzz")
	empty := write("empty.key", "  \n")
	env := map[string]string{"GOOD": "env-key-0123456789", "EMPTY": ""}
	keys := transform.EnvFileKeys{LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}

	for _, tc := range []struct {
		ref     string
		wantLen int
		wantErr error  // matched with errors.Is
		errHas  string // the error names this
	}{
		{ref: "env:GOOD", wantLen: 18},
		{ref: "file:" + raw, wantLen: len("a-raw-key-of-sixteen+ bytes")},
		{ref: "file:" + b64, wantLen: 32},
		{ref: "file:" + hx, wantLen: 16},
		{ref: "env:MISSING", wantErr: transform.ErrNoKey, errHas: "MISSING"},
		{ref: "env:EMPTY", wantErr: transform.ErrNoKey, errHas: "EMPTY"},
		{ref: "file:" + filepath.Join(dir, "nope.key"), wantErr: fs.ErrNotExist, errHas: filepath.Join(dir, "nope.key")},
		{ref: "file:" + empty, wantErr: transform.ErrNoKey, errHas: empty},
		{ref: "file:" + badHex, errHas: "not valid hex"},
		{ref: "vault:x", wantErr: transform.ErrKeyRef},
		{ref: "env:", wantErr: transform.ErrKeyRef},
	} {
		k, err := keys.Load(tc.ref)
		if tc.wantLen > 0 {
			if err != nil || k.Len() != tc.wantLen {
				t.Errorf("Load(%q) = %d bytes, %v; want %d", tc.ref, k.Len(), err, tc.wantLen)
			}
			continue
		}
		if err == nil {
			t.Errorf("Load(%q) succeeded", tc.ref)
			continue
		}
		if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
			t.Errorf("Load(%q) = %v, want %v", tc.ref, err, tc.wantErr)
		}
		if !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("Load(%q) = %v, want it to name %q", tc.ref, err, tc.errHas)
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error quotes the key file: %v", err)
		}
	}
}

// TestPlanNeverPrintsKeys: printing a compiled plan shows neither the base key nor the
// derived epoch key.
func TestPlanNeverPrintsKeys(t *testing.T) {
	p := compile(t, transform.Config{Pseudonymize: &transform.Pseudonymize{Fields: []string{"u"}, KeyRef: "env:EDGE_HMAC_KEY", KeyID: "k", Rotation: "quarterly"}})
	apply(t, p, map[string]any{"u": "x"}) // derive the epoch key
	epochKey, err := hkdf.Key(sha256.New, testKey, []byte("sectwin/edge/pseudonymize/v1"), "sectwin/edge/pseudonymize/v1|k|2026q1", 32)
	if err != nil {
		t.Fatal(err)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x"} {
		out := fmt.Sprintf(verb, p)
		for _, leak := range [][]byte{testKey, epochKey} {
			if strings.Contains(out, string(leak)) || strings.Contains(out, hex.EncodeToString(leak[:8])) || strings.Contains(out, fmt.Sprint(leak[:8])[1:12]) {
				t.Errorf("%s of a plan shows key bytes: %s", verb, out)
			}
		}
	}
	if got := p.String(); got != "transform.Plan{allowlist, 0 generalized, 1 pseudonymized, 0 drop rules, bound false}" {
		t.Errorf("String = %q", got)
	}
}
