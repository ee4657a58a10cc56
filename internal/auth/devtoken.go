package auth

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TokenIssuer can both look tokens up and create them.
type TokenIssuer interface {
	TokenStore
	TokenCreator
}

// EnsureAdminToken makes sure the file at path holds a live admin token, for development mode.
// A file whose token still works is kept; otherwise (no file, or a database that was reset) a new
// admin token is created and written with mode 0600. It reports whether it created one.
func EnsureAdminToken(ctx context.Context, store TokenIssuer, path string) (created bool, err error) {
	if b, err := os.ReadFile(path); err == nil {
		a := NewAuthenticator(store, 0)
		p, err := a.Authenticate(ctx, strings.TrimSpace(string(b)))
		switch {
		case err == nil && p.Has(ScopeAdmin):
			return false, nil
		case errors.Is(err, ErrUnavailable):
			return false, err
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read admin token %s: %w", path, err)
	}

	secret, _, err := Issue(ctx, store, IssueRequest{Name: "dev-admin", Scopes: []Scope{ScopeAdmin}, Twins: []string{AllTwins}}, time.Now())
	if err != nil {
		return false, fmt.Errorf("create admin token: %w", err)
	}
	if err := writePrivate(path, []byte(secret+"\n")); err != nil {
		return false, fmt.Errorf("write admin token %s: %w", path, err)
	}
	return true, nil
}

// writePrivate writes data to path with mode 0600 (directory 0700), atomically: a reader sees
// the old file or the new one, never a half-written token.
func writePrivate(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*") // CreateTemp makes the file 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
