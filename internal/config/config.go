// Package config reads sectwin's settings from command-line flags and SECTWIN_* environment
// variables. Every setting is a flag; its environment variable is SECTWIN_ plus the flag name in
// upper case with dashes turned into underscores (--neo4j-uri is SECTWIN_NEO4J_URI). A flag given
// on the command line wins over the environment. A malformed value fails with the setting's name.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"github.com/sectwin/sectwin/internal/auth"
)

// EnvPrefix starts every environment variable that sets a flag.
const EnvPrefix = "SECTWIN_"

// Neo4j holds the graph database connection settings.
type Neo4j struct {
	URI      string
	User     string
	Password Secret
	Database string
}

// NATS holds the message bus settings.
type NATS struct {
	URL   string // external server; empty runs NATS embedded
	Port  int    // embedded server's port on 127.0.0.1; 0 listens nowhere (in-process only)
	Token Secret
}

// Log holds the logging settings.
type Log struct {
	Level  string
	Format string // json or console
}

// Config is every setting of the sectwin binary. Each subcommand registers the groups it uses.
type Config struct {
	Dev              bool
	DataDir          string
	Log              Log
	Neo4j            Neo4j
	NATS             NATS
	Addr             string
	ShutdownTimeout  time.Duration
	GraphiQL         bool
	MigrateOnStart   bool
	AuthCacheTTL     time.Duration
	GraphQLMaxComplx int
	GraphQLMaxDepth  int
	GraphQLMaxAlias  int
	Neo4jWaitTimeout time.Duration
	Client           Client
	Ingest           Ingest
	Attack           Attack
	Ops              Ops
}

// Ops holds the settings of the operations twin.
type Ops struct {
	Playbooks string // YAML file of response playbooks (docs/playbooks.md)
	DryRun    bool   // evaluate and audit playbooks without acting
}

// Attack holds the settings of attack-path analysis and its scheduled reports.
type Attack struct {
	MaxTwins         int           // twins whose attack graph is kept in memory
	Schedules        string        // JSON file of report schedules
	DeliveryAttempts int           // attempts per report delivery
	ScheduleReload   time.Duration // how often schedules stored in the graph are re-read
	TraceWindow      time.Duration // how far back alerts and anomalies raise attack steps
	TraceHalfLife    time.Duration // an observation's weight halves per this much age
}

// Ingest holds the settings of the ingest webhook and its workers.
type Ingest struct {
	MaxBytes       int64
	Workers        int
	HMACSecret     Secret
	HMACTwins      string // comma-separated twin names, or *
	MaxNewCritical int
	FailOnKEV      bool
	AckWait        time.Duration
}

// Client holds the settings of commands that talk to a running server's API.
type Client struct {
	Server string // base URL
	Token  Secret // empty: read <data-dir>/admin.token
}

// Groups select which settings a subcommand accepts.
type Groups uint8

const (
	GroupCommon Groups = 1 << iota // dev, data dir, logging
	GroupNeo4j
	GroupNATS
	GroupServer
	GroupClient // commands that call a running server (apply)
	GroupIngest // the ingest webhook and workers (serve, worker)
)

// Register adds the flags of the chosen groups to fs and returns the Config they fill.
// Defaults are set here; Load applies the environment and the command line on top.
func Register(fs *flag.FlagSet, groups Groups) *Config {
	c := &Config{}
	if groups&GroupCommon != 0 {
		fs.BoolVar(&c.Dev, "dev", false, "development mode: console logs, and an admin token written to <data-dir>/admin.token on first start")
		fs.StringVar(&c.DataDir, "data-dir", ".sectwin", "directory for local state: embedded NATS store, admin token")
		fs.StringVar(&c.Log.Level, "log-level", "info", "log level: trace, debug, info, warn or error")
		fs.StringVar(&c.Log.Format, "log-format", "", "log format: json or console (default json, console with --dev)")
	}
	if groups&GroupNeo4j != 0 {
		fs.StringVar(&c.Neo4j.URI, "neo4j-uri", "bolt://127.0.0.1:7687", "Neo4j Bolt URI (bolt://, neo4j://, bolt+s://, neo4j+s://)")
		fs.StringVar(&c.Neo4j.User, "neo4j-user", "", "Neo4j user; empty connects without authentication")
		fs.Var(&c.Neo4j.Password, "neo4j-password", "Neo4j password (secret: never logged)")
		fs.StringVar(&c.Neo4j.Database, "neo4j-database", "neo4j", "Neo4j database name")
		fs.DurationVar(&c.Neo4jWaitTimeout, "neo4j-wait", 60*time.Second, "how long one-shot commands (migrate, token) wait for Neo4j to answer")
	}
	if groups&GroupNATS != 0 {
		fs.StringVar(&c.NATS.URL, "nats-url", "", "external NATS server URL; empty runs NATS with JetStream embedded")
		fs.IntVar(&c.NATS.Port, "nats-port", 4222, "embedded NATS port on 127.0.0.1; 0 accepts in-process connections only")
		fs.Var(&c.NATS.Token, "nats-token", "NATS auth token (secret); embedded NATS generates one into <data-dir>/nats/token when empty")
	}
	if groups&GroupServer != 0 {
		fs.StringVar(&c.Addr, "addr", ":8080", "HTTP listen address")
		fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "grace period for in-flight requests on SIGTERM")
		fs.BoolVar(&c.GraphiQL, "graphiql", true, "serve the GraphiQL page at /")
		fs.BoolVar(&c.MigrateOnStart, "migrate", true, "apply pending migrations when the server starts")
		fs.DurationVar(&c.AuthCacheTTL, "auth-cache-ttl", 30*time.Second, "how long a verified API token is cached in memory (revocation takes effect on other servers within this time)")
		fs.IntVar(&c.GraphQLMaxComplx, "graphql-max-complexity", 200000, "maximum GraphQL query complexity: about the number of fields a query can return (a list field costs its first: times its selection)")
		fs.IntVar(&c.GraphQLMaxDepth, "graphql-max-depth", 12, "maximum GraphQL query depth (nested field levels; introspection not counted); 0 disables the limit")
		fs.IntVar(&c.GraphQLMaxAlias, "graphql-max-aliases", 30, "maximum number of aliased fields in a GraphQL query; 0 disables the limit")
		fs.IntVar(&c.Attack.MaxTwins, "attack-max-twins", 16, "twins whose attack graph is kept in memory (least recently used go first)")
		fs.StringVar(&c.Attack.Schedules, "report-schedules", "", "JSON file of attack-path report schedules (docs/attack-paths.md#reports); schedules set through GraphQL live in the graph")
		fs.IntVar(&c.Attack.DeliveryAttempts, "report-delivery-attempts", 5, "attempts per report delivery (webhook, NATS) before it is recorded as failed on the Report")
		fs.DurationVar(&c.Attack.ScheduleReload, "report-schedule-reload", 30*time.Second, "how often schedules stored in the graph are re-read (other replicas' changes)")
		fs.DurationVar(&c.Attack.TraceWindow, "attack-trace-window", 7*24*time.Hour, "how far back alerts and anomalies raise the attack steps into what they are about (docs/attack-paths.md#attack-traces)")
		fs.DurationVar(&c.Attack.TraceHalfLife, "attack-trace-half-life", 24*time.Hour, "an alert's or anomaly's weight on attack steps halves per this much age")
		fs.StringVar(&c.Ops.Playbooks, "playbooks", "", "YAML file of response playbooks run on alerts, anomalies and assurance status changes (docs/playbooks.md)")
		fs.BoolVar(&c.Ops.DryRun, "playbooks-dry-run", false, "evaluate and audit response playbooks without acting")
	}
	if groups&GroupIngest != 0 {
		fs.Int64Var(&c.Ingest.MaxBytes, "ingest-max-bytes", 256<<20, "largest document POST /ingest accepts, compressed or not; larger gets 413")
		fs.IntVar(&c.Ingest.Workers, "ingest-workers", 2, "ingest workers this process runs (serve: 0 leaves ingest to 'sectwin worker' processes)")
		fs.Var(&c.Ingest.HMACSecret, "ingest-hmac-secret", "shared secret (secret) for HMAC-signed ingest posts; empty accepts bearer tokens only")
		fs.StringVar(&c.Ingest.HMACTwins, "ingest-hmac-twins", "", "twins HMAC-signed posts may write, comma-separated, or *")
		fs.IntVar(&c.Ingest.MaxNewCritical, "ingest-max-new-critical", 0, "CI gate (?wait=): new CRITICAL vulnerabilities tolerated before the verdict is FAIL")
		fs.DurationVar(&c.Ingest.AckWait, "ingest-ack-wait", 5*time.Minute, "how long NATS waits for a silent worker before giving its document to another (running workers extend it every third of it)")
		fs.BoolVar(&c.Ingest.FailOnKEV, "ingest-fail-on-kev", true, "CI gate (?wait=): any new vulnerability in CISA's KEV catalogue makes the verdict FAIL")
	}
	if groups&GroupClient != 0 {
		fs.StringVar(&c.Client.Server, "server", "http://127.0.0.1:8080", "base URL of the sectwin server to call")
		fs.Var(&c.Client.Token, "token", "API token (secret) for the server; empty reads <data-dir>/admin.token, which 'make run' writes")
	}
	return c
}

// Load applies the SECTWIN_* environment (looked up with getenv) and then args to fs, and validates
// the result. Errors name the setting, and its environment variable when that was the source.
func (c *Config) Load(fs *flag.FlagSet, args []string, getenv func(string) string) error {
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		env := EnvName(f.Name)
		v := getenv(env)
		if v == "" {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("setting %s (--%s): invalid value %q: %w", env, f.Name, v, err))
		}
	})
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	return c.validate(fs)
}

// EnvName is the environment variable of a flag: neo4j-uri becomes SECTWIN_NEO4J_URI.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func (c *Config) validate(fs *flag.FlagSet) error {
	has := func(name string) bool { return fs.Lookup(name) != nil }
	bad := func(name, format string, a ...any) error {
		return fmt.Errorf("setting %s (--%s): %s", EnvName(name), name, fmt.Sprintf(format, a...))
	}
	var errs []error
	if has("log-level") {
		if _, err := zerolog.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
			errs = append(errs, bad("log-level", "%q is not one of trace, debug, info, warn, error", c.Log.Level))
		}
		switch c.Log.Format {
		case "":
			c.Log.Format = "json"
			if c.Dev {
				c.Log.Format = "console"
			}
		case "json", "console":
		default:
			errs = append(errs, bad("log-format", "%q is not json or console", c.Log.Format))
		}
		if c.DataDir == "" {
			errs = append(errs, bad("data-dir", "must not be empty"))
		} else if abs, err := filepath.Abs(c.DataDir); err == nil {
			c.DataDir = abs
		}
	}
	if has("neo4j-uri") {
		ok := false
		for _, s := range []string{"bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://"} {
			ok = ok || strings.HasPrefix(c.Neo4j.URI, s)
		}
		if !ok {
			errs = append(errs, bad("neo4j-uri", "%q is not a bolt:// or neo4j:// URI", c.Neo4j.URI))
		}
		if c.Neo4j.Database == "" {
			errs = append(errs, bad("neo4j-database", "must not be empty"))
		}
		if c.Neo4jWaitTimeout <= 0 {
			errs = append(errs, bad("neo4j-wait", "must be positive"))
		}
	}
	if has("nats-port") && (c.NATS.Port < 0 || c.NATS.Port > 65535) {
		errs = append(errs, bad("nats-port", "%d is not a port (0 to 65535)", c.NATS.Port))
	}
	if has("nats-url") && c.NATS.URL != "" && !strings.Contains(c.NATS.URL, "://") {
		errs = append(errs, bad("nats-url", "%q is not a URL such as nats://127.0.0.1:4222", c.NATS.URL))
	}
	if has("addr") {
		if _, port, err := net.SplitHostPort(c.Addr); err != nil || port == "" {
			errs = append(errs, bad("addr", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Addr))
		}
		if c.ShutdownTimeout <= 0 {
			errs = append(errs, bad("shutdown-timeout", "must be positive"))
		}
		if c.AuthCacheTTL < 0 {
			errs = append(errs, bad("auth-cache-ttl", "must not be negative"))
		}
		if c.GraphQLMaxComplx < 1 {
			errs = append(errs, bad("graphql-max-complexity", "must be at least 1"))
		}
		if c.GraphQLMaxDepth < 0 {
			errs = append(errs, bad("graphql-max-depth", "must not be negative (0 disables the limit)"))
		}
		if c.GraphQLMaxAlias < 0 {
			errs = append(errs, bad("graphql-max-aliases", "must not be negative (0 disables the limit)"))
		}
	}
	if has("ingest-max-bytes") {
		if c.Ingest.MaxBytes < 1 {
			errs = append(errs, bad("ingest-max-bytes", "must be positive"))
		}
		if c.Ingest.Workers < 0 {
			errs = append(errs, bad("ingest-workers", "must not be negative"))
		}
		if c.Ingest.AckWait < time.Second {
			errs = append(errs, bad("ingest-ack-wait", "must be at least 1s"))
		}
		if c.Ingest.MaxNewCritical < 0 {
			errs = append(errs, bad("ingest-max-new-critical", "must not be negative"))
		}
		if c.Ingest.HMACTwins != "" {
			for _, t := range strings.Split(c.Ingest.HMACTwins, ",") {
				if t = strings.TrimSpace(t); t != "*" && !auth.ValidTwinName(t) {
					errs = append(errs, bad("ingest-hmac-twins", "%q is not a twin name", t))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// Flags lists the flags of fs sorted by name, for help texts and the README check.
func Flags(fs *flag.FlagSet) []*flag.Flag {
	var out []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) { out = append(out, f) })
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Usage prints a flag set's settings with their environment variables.
func Usage(fs *flag.FlagSet, synopsis string) func() {
	return func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s\n\nsettings (flag, environment variable, default):\n", synopsis)
		for _, f := range Flags(fs) {
			fmt.Fprintf(w, "  --%s, %s (default %q)\n      %s\n", f.Name, EnvName(f.Name), f.DefValue, f.Usage)
		}
	}
}

// Secret is a string setting that never prints its value.
type Secret string

// String redacts the value, so a Secret is safe in logs and flag help.
func (s *Secret) String() string {
	if s == nil || *s == "" {
		return ""
	}
	return "[redacted]"
}

// Set implements flag.Value.
func (s *Secret) Set(v string) error { *s = Secret(v); return nil }

// Reveal returns the secret value; call it only where the value is used, never when logging.
func (s Secret) Reveal() string { return string(s) }
