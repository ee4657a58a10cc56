package response_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sectwin/sectwin/analytics/response"
	"github.com/sectwin/sectwin/edge/secret"
	"github.com/sectwin/sectwin/ingest/webhook"
)

func TestWebhookPoster(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	key, err := secret.Load("env:SOC_HOOK_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		status    int
		now       time.Time // the poster's clock
		wantErr   bool
		permanent bool
	}{
		{"accepted", http.StatusOK, now, false, false},
		{"accepted without content", http.StatusNoContent, now, false, false},
		{"a server error is retried", http.StatusBadGateway, now, true, false},
		{"too many requests is retried", http.StatusTooManyRequests, now, true, false},
		{"a refusal is permanent", http.StatusBadRequest, now, true, true},
		{"a redirect is not followed", http.StatusFound, now, true, true},
		{"a stale clock fails verification", http.StatusOK, now.Add(-time.Hour), true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var redirected atomic.Bool
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/elsewhere" {
					redirected.Store(true)
					return
				}
				body, _ := io.ReadAll(r.Body)
				// ingest/webhook's verifier accepts what the poster signs.
				if err := webhook.Verify([]byte(testSecret), r.Header, body, now); err != nil {
					http.Error(w, err.Error(), http.StatusUnauthorized)
					return
				}
				sec, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
				if _, sig := webhook.Sign([]byte(testSecret), time.Unix(sec, 0), body); sig != r.Header.Get(response.HeaderSignature) {
					t.Errorf("signature %q, webhook.Sign %q", r.Header.Get(response.HeaderSignature), sig)
				}
				if r.Method != http.MethodPost || r.Header.Get(response.HeaderDelivery) != "action-1" || r.Header.Get("Content-Type") != "application/json" || string(body) != `{"id":"action-1"}` {
					t.Errorf("%s with headers %v and body %q", r.Method, r.Header, body)
				}
				if tt.status == http.StatusFound {
					w.Header().Set("Location", "/elsewhere")
				}
				w.WriteHeader(tt.status)
			}))
			defer srv.Close()
			p := &response.WebhookPoster{Client: srv.Client(), Now: func() time.Time { return tt.now }}
			err := p.Webhook(context.Background(), response.Webhook{
				Cause: response.Cause{ActionID: "action-1"}, URL: srv.URL + "/hook?token=query-token",
				Secret: key, Body: []byte(`{"id":"action-1"}`),
			})
			if (err != nil) != tt.wantErr || errors.Is(err, response.ErrPermanent) != tt.permanent {
				t.Errorf("error %v; want an error %v, permanent %v", err, tt.wantErr, tt.permanent)
			}
			if err != nil && (strings.Contains(err.Error(), "query-token") || strings.Contains(err.Error(), testSecret)) {
				t.Errorf("the error shows the URL's query or the secret: %v", err)
			}
			if redirected.Load() {
				t.Error("the redirect was followed")
			}
		})
	}
}

func TestWebhookPosterUnreachable(t *testing.T) {
	t.Setenv("SOC_HOOK_SECRET", testSecret)
	key, err := secret.Load("env:SOC_HOOK_SECRET")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + "/hook?token=query-token"
	srv.Close()
	err = (&response.WebhookPoster{}).Webhook(context.Background(), response.Webhook{URL: url, Secret: key, Body: []byte("{}")})
	if err == nil || errors.Is(err, response.ErrPermanent) || strings.Contains(err.Error(), "query-token") {
		t.Errorf("error %v; want a retryable error without the query", err)
	}
}
