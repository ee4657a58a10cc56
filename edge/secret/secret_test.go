package secret_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sectwin/sectwin/edge/secret"
)

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "key")
	if err := os.WriteFile(file, []byte("from-a-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SECRET_TEST_VALUE", "from-the-env")
	tests := []struct {
		ref, want, errHas string
	}{
		{"env:SECRET_TEST_VALUE", "from-the-env", ""},
		{"file:" + file, "from-a-file", ""},
		{"env:SECRET_TEST_MISSING", "", "SECRET_TEST_MISSING is not set"},
		{"file:" + filepath.Join(dir, "nope"), "", filepath.Join(dir, "nope")},
		{"file:" + empty, "", "is empty"},
		{"vault:x", "", "env:NAME or file:PATH"},
		{"hunter2-a-pasted-secret-without-a-scheme", "", "[not shown]"},
	}
	for _, tt := range tests {
		v, err := secret.Load(tt.ref)
		switch {
		case tt.errHas == "" && (err != nil || string(v.Bytes()) != tt.want):
			t.Errorf("%s: %q, %v", tt.ref, v.Bytes(), err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("%s: error %v, want one mentioning %q", tt.ref, err, tt.errHas)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("an error shows what may be a secret: %v", err)
		}
	}
	if _, err := secret.Load("vault:x"); !errors.Is(err, secret.ErrBadRef) {
		t.Errorf("a bad reference: %v", err)
	}
}

func TestValueNeverPrints(t *testing.T) {
	t.Setenv("SECRET_TEST_VALUE", "do-not-print-me")
	v, err := secret.Load("env:SECRET_TEST_VALUE")
	if err != nil {
		t.Fatal(err)
	}
	j, _ := json.Marshal(struct{ V secret.Value }{v})
	for _, s := range []string{fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s %q %x", v, v, v, v, v, v), v.String(), v.GoString(), string(j)} {
		if strings.Contains(s, "do-not-print-me") || strings.Contains(s, "646f2d6e6f74") {
			t.Errorf("the secret printed: %s", s)
		}
	}
	if !v.Equal([]byte("do-not-print-me")) || v.Equal([]byte("other")) || (secret.Value{}).Equal(nil) {
		t.Error("Equal")
	}
}
