package config

import (
	"flag"
	"io"
	"strings"
	"testing"
	"time"
)

func load(t *testing.T, groups Groups, env map[string]string, args ...string) (*Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := Register(fs, groups)
	return c, c.Load(fs, args, func(k string) string { return env[k] })
}

func TestLoad(t *testing.T) {
	all := GroupCommon | GroupNeo4j | GroupNATS | GroupServer
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(*Config) bool
		wantErr string // every error must name the setting
	}{
		{name: "defaults", check: func(c *Config) bool {
			return c.Addr == ":8080" && c.Neo4j.URI == "bolt://127.0.0.1:7687" && c.Log.Format == "json" && c.NATS.Port == 4222 && c.ShutdownTimeout == 30*time.Second
		}},
		{name: "dev means console logs", args: []string{"--dev"}, check: func(c *Config) bool { return c.Log.Format == "console" }},
		{name: "env applies", env: map[string]string{"SECTWIN_ADDR": "127.0.0.1:9090", "SECTWIN_NATS_PORT": "0", "SECTWIN_DEV": "true"},
			check: func(c *Config) bool { return c.Addr == "127.0.0.1:9090" && c.NATS.Port == 0 && c.Dev }},
		{name: "flag beats env", env: map[string]string{"SECTWIN_ADDR": "127.0.0.1:9090"}, args: []string{"--addr", ":7000"},
			check: func(c *Config) bool { return c.Addr == ":7000" }},
		{name: "bad duration in env", env: map[string]string{"SECTWIN_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "SECTWIN_SHUTDOWN_TIMEOUT"},
		{name: "bad bool in env", env: map[string]string{"SECTWIN_DEV": "maybe"}, wantErr: "SECTWIN_DEV"},
		{name: "bad int flag", args: []string{"--nats-port", "x"}, wantErr: "nats-port"},
		{name: "port out of range", env: map[string]string{"SECTWIN_NATS_PORT": "70000"}, wantErr: "SECTWIN_NATS_PORT"},
		{name: "bad log level", env: map[string]string{"SECTWIN_LOG_LEVEL": "loud"}, wantErr: "SECTWIN_LOG_LEVEL"},
		{name: "bad log format", args: []string{"--log-format", "xml"}, wantErr: "SECTWIN_LOG_FORMAT"},
		{name: "bad addr", env: map[string]string{"SECTWIN_ADDR": "8080"}, wantErr: "SECTWIN_ADDR"},
		{name: "bad neo4j uri", env: map[string]string{"SECTWIN_NEO4J_URI": "http://x"}, wantErr: "SECTWIN_NEO4J_URI"},
		{name: "bad nats url", env: map[string]string{"SECTWIN_NATS_URL": "localhost"}, wantErr: "SECTWIN_NATS_URL"},
		{name: "negative shutdown", args: []string{"--shutdown-timeout", "-1s"}, wantErr: "shutdown-timeout"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := load(t, all, tt.env, tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

func TestGroupsLimitFlags(t *testing.T) {
	_, err := load(t, GroupCommon|GroupNeo4j, nil, "--addr", ":1")
	if err == nil {
		t.Fatal("migrate-style flag set accepted a server flag")
	}
	// Environment variables of other groups are ignored, not errors.
	if _, err := load(t, GroupCommon|GroupNeo4j, map[string]string{"SECTWIN_ADDR": "garbage"}); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	c, err := load(t, GroupCommon|GroupNeo4j|GroupNATS, map[string]string{"SECTWIN_NEO4J_PASSWORD": "hunter2hunter2", "SECTWIN_NATS_TOKEN": "natssecret"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Neo4j.Password.Reveal() != "hunter2hunter2" || c.NATS.Token.Reveal() != "natssecret" {
		t.Fatal("secrets not loaded")
	}
	for _, s := range []string{c.Neo4j.Password.String(), c.NATS.Token.String()} {
		if strings.Contains(s, "hunter2") || strings.Contains(s, "natssecret") {
			t.Fatalf("secret printed: %q", s)
		}
	}
}

func TestEnvName(t *testing.T) {
	for flagName, want := range map[string]string{"neo4j-uri": "SECTWIN_NEO4J_URI", "dev": "SECTWIN_DEV", "graphql-max-complexity": "SECTWIN_GRAPHQL_MAX_COMPLEXITY"} {
		if got := EnvName(flagName); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", flagName, got, want)
		}
	}
}
