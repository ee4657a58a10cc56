package decode

import (
	"context"
	"encoding/json"
	"io"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// NewSSHD decodes auth syslog lines: RFC 3164 ("Mon DD HH:MM:SS host prog[pid]: msg", with or
// without a <PRI>), the same with an RFC 3339 timestamp, and RFC 5424. Every line gives ts
// (RFC 3339; a year-less timestamp takes the year that puts it at most a day after
// Options.Now, in Options.Location), host, program, pid, message and event. sshd messages
// (program sshd, sshd-session, sshd-auth, ...) and PAM messages (pam_unix(svc:type): ...,
// prog(pam_unix)) are parsed further into event and, as far as the message carries them, user,
// invalid_user, src_ip or src_host, src_port, method, key_type, key_fingerprint, reason,
// repeat and PAM's logname, uid, euid, tty, ruser. Events:
//
//	auth_failure     Failed password|publickey|none|keyboard-interactive for [invalid user] U from IP port N; PAM authentication failure
//	auth_success     Accepted password|publickey|... for U from IP port N
//	auth_postponed   Postponed publickey for U from IP port N
//	invalid_user     Invalid user U from IP [port N]; input_userauth_request: invalid user U
//	user_not_allowed User U from IP not allowed because ...
//	too_many_failures Disconnecting: Too many authentication failures ...
//	disconnect       Disconnected from [invalid|authenticating] user U IP port N; Received disconnect from IP ...
//	connection_closed, connection_reset, connection, connection_refused, no_identification,
//	negotiation_failed, protocol_error, bad_handshake, timeout, unknown_user_check,
//	session_opened, session_closed, sudo_command
//	other            anything else (its message is kept; src_ip/src_port when "from IP port N" appears)
//
// A line that is not syslog is malformed; blank lines are skipped.
func NewSSHD(r io.Reader, opts Options) Decoder {
	return &sshdDecoder{base: newBase("sshd", r, opts)}
}

type sshdDecoder struct {
	base
}

func (d *sshdDecoder) Next(ctx context.Context) (Record, error) {
	for {
		if err := d.check(ctx); err != nil {
			return nil, err
		}
		line, num, tooLarge, err := d.lines.next()
		if err != nil {
			return nil, d.fail(err)
		}
		if tooLarge {
			return nil, d.tooLarge(num)
		}
		if isBlank(line) {
			continue
		}
		rec, reason := d.parse(line)
		if reason != "" {
			return nil, d.malformed(num, -1, line, "%s", reason)
		}
		return rec, nil
	}
}

var months = map[string]time.Month{
	"Jan": 1, "Feb": 2, "Mar": 3, "Apr": 4, "May": 5, "Jun": 6,
	"Jul": 7, "Aug": 8, "Sep": 9, "Oct": 10, "Nov": 11, "Dec": 12,
}

// syslogHeader is what the header of a syslog line says.
type syslogHeader struct {
	ts        time.Time
	host, tag string
	msg       string
}

func (d *sshdDecoder) parse(line []byte) (Record, string) {
	s := strings.TrimRight(string(line), " \t")
	h, reason := d.header(s)
	if reason != "" {
		return nil, reason
	}
	rec := Record{"ts": h.ts.Format(time.RFC3339Nano), "message": h.msg}
	if h.host != "" && h.host != "-" {
		rec["host"] = h.host
	}
	prog, pid := splitTag(h.tag)
	if prog != "" {
		rec["program"] = prog
	}
	if pid != "" {
		rec["pid"] = count(pid)
	}
	parseAuthMessage(rec, prog, h.msg)
	return rec, ""
}

// header splits a syslog line into its header fields and message.
func (d *sshdDecoder) header(s string) (syslogHeader, string) {
	var h syslogHeader
	if strings.HasPrefix(s, "<") { // <PRI>
		end := strings.IndexByte(s, '>')
		if end < 2 || end > 4 || !allDigits(s[1:end]) {
			return h, "bad <PRI>"
		}
		s = s[end+1:]
	}
	if rest, ok := strings.CutPrefix(s, "1 "); ok { // RFC 5424
		return d.header5424(rest)
	}
	var ok bool
	var reason string
	if len(s) >= 4 && allDigits(s[:4]) && len(s) > 4 && s[4] == '-' {
		tok, rest, _ := strings.Cut(s, " ")
		t, err := time.Parse(time.RFC3339Nano, tok)
		if err != nil {
			return h, "bad RFC 3339 timestamp"
		}
		h.ts, s = t, rest
	} else {
		if h.ts, s, reason = d.stamp3164(s); reason != "" {
			return h, reason
		}
	}
	if h.host, s, ok = strings.Cut(s, " "); !ok || h.host == "" {
		return h, "no host or program after the timestamp"
	}
	s = strings.TrimLeft(s, " ")
	// The tag runs to the first ':' (a program name has no spaces). Without one, as in
	// "syslogd 1.4.1: restart.", the first word is the program.
	if colon := strings.IndexByte(s, ':'); colon > 0 && !strings.ContainsAny(s[:colon], " \t") {
		h.tag, h.msg = s[:colon], strings.TrimPrefix(s[colon+1:], " ")
		return h, ""
	}
	h.tag, h.msg, _ = strings.Cut(s, " ")
	if h.tag == "" {
		return h, "no program after the host"
	}
	return h, ""
}

// stamp3164 reads "Mmm dd hh:mm:ss " (day space- or zero-padded, or not padded).
func (d *sshdDecoder) stamp3164(s string) (time.Time, string, string) {
	if len(s) < 4 || s[3] != ' ' {
		return time.Time{}, "", "not a syslog line: no timestamp"
	}
	mon, ok := months[s[:3]]
	if !ok {
		return time.Time{}, "", "not a syslog line: no month name"
	}
	s = strings.TrimLeft(s[4:], " ")
	dayStr, s, _ := strings.Cut(s, " ")
	clock, s, _ := strings.Cut(s, " ")
	day, err := strconv.Atoi(dayStr)
	if err != nil || day < 1 || day > 31 || len(dayStr) > 2 {
		return time.Time{}, "", "bad day of month"
	}
	if len(clock) != 8 || clock[2] != ':' || clock[5] != ':' || !allDigits(clock[:2]+clock[3:5]+clock[6:]) {
		return time.Time{}, "", "bad time of day"
	}
	hh, _ := strconv.Atoi(clock[:2])
	mm, _ := strconv.Atoi(clock[3:5])
	ss, _ := strconv.Atoi(clock[6:])
	if hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, "", "bad time of day"
	}
	now := d.opts.Now().In(d.opts.Location)
	year := now.Year()
	t := time.Date(year, mon, day, hh, mm, ss, 0, d.opts.Location)
	if t.After(now.Add(24 * time.Hour)) {
		year--
		t = time.Date(year, mon, day, hh, mm, ss, 0, d.opts.Location)
	}
	if t.Day() != day {
		return time.Time{}, "", "no such day: " + s3164Date(mon, day, year)
	}
	return t, s, ""
}

func s3164Date(m time.Month, day, year int) string {
	return m.String()[:3] + " " + strconv.Itoa(day) + " " + strconv.Itoa(year)
}

// header5424 reads "TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA MSG".
func (d *sshdDecoder) header5424(s string) (syslogHeader, string) {
	var h syslogHeader
	var f [5]string
	for i := range f {
		var ok bool
		if f[i], s, ok = strings.Cut(s, " "); !ok {
			return h, "RFC 5424: too few header fields"
		}
	}
	if f[0] == "-" {
		h.ts = d.opts.Now().In(d.opts.Location)
	} else {
		t, err := time.Parse(time.RFC3339Nano, f[0])
		if err != nil {
			return h, "RFC 5424: bad timestamp"
		}
		h.ts = t
	}
	h.host = f[1]
	if f[2] != "-" {
		h.tag = f[2]
	}
	if f[3] != "-" && f[3] != "" {
		h.tag += "[" + f[3] + "]"
	}
	switch {
	case strings.HasPrefix(s, "-"):
		h.msg = s[1:]
	case strings.HasPrefix(s, "["):
		rest, ok := skipSD(s)
		if !ok {
			return h, "RFC 5424: unterminated structured data"
		}
		h.msg = rest
	default:
		return h, "RFC 5424: bad structured data"
	}
	h.msg = strings.TrimPrefix(strings.TrimPrefix(h.msg, " "), "\ufeff")
	return h, ""
}

// skipSD returns what follows the structured-data elements at the start of s.
func skipSD(s string) (string, bool) {
	for strings.HasPrefix(s, "[") {
		i := 1
		for ; i < len(s) && s[i] != ']'; i++ {
			if s[i] != '"' {
				continue
			}
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
		}
		if i >= len(s) {
			return "", false
		}
		s = s[i+1:]
	}
	return s, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// splitTag splits "sshd[123]" into "sshd" and "123"; "sshd(pam_unix)[1]" keeps the
// parenthesis in the program.
func splitTag(tag string) (prog, pid string) {
	if strings.HasSuffix(tag, "]") {
		if i := strings.LastIndexByte(tag, '['); i >= 0 && allDigits(tag[i+1:len(tag)-1]) {
			return tag[:i], tag[i+1 : len(tag)-1]
		}
	}
	return tag, ""
}

// sshdRule maps a message pattern to an event. Named groups: user, invalid, addr, port,
// method, keytype, fp, reason, host, daddr, dport.
type sshdRule struct {
	event string
	re    *regexp.Regexp
}

const preauth = `(?: \[preauth\])?`

var sshdRules = []sshdRule{
	{"auth_failure", regexp.MustCompile(`^Failed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*?) from (?P<addr>\S+) port (?P<port>\d+)(?: ssh2?)?(?:: .*)?` + preauth + `$`)},
	{"auth_success", regexp.MustCompile(`^Accepted (?P<method>\S+) for (?P<user>.*?) from (?P<addr>\S+) port (?P<port>\d+)(?: ssh2?)?(?:: (?P<keytype>\S+) (?P<fp>\S+).*)?$`)},
	{"auth_postponed", regexp.MustCompile(`^Postponed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<user>.*?) from (?P<addr>\S+) port (?P<port>\d+)(?: ssh2?)?` + preauth + `$`)},
	{"invalid_user", regexp.MustCompile(`^Invalid user (?P<user>.*?) from (?P<addr>\S+)(?: port (?P<port>\d+))?$`)},
	{"invalid_user", regexp.MustCompile(`^input_userauth_request: invalid user (?P<user>.*?)` + preauth + `$`)},
	{"user_not_allowed", regexp.MustCompile(`^User (?P<user>.*?) from (?P<addr>\S+) not allowed because (?P<reason>.*)$`)},
	{"too_many_failures", regexp.MustCompile(`^Disconnecting(?: (?P<invalid>invalid user |authenticating user )(?P<user>\S*) (?P<addr>\S+) port (?P<port>\d+))?: Too many authentication failures(?: for (?:invalid user )?(?P<user2>.*?))?` + preauth + `$`)},
	{"disconnect", regexp.MustCompile(`^Disconnected from (?:(?P<invalid>invalid user |authenticating user |user )(?P<user>.*?) )?(?P<addr>\S+) port (?P<port>\d+)` + preauth + `$`)},
	{"disconnect", regexp.MustCompile(`^Received disconnect from (?P<addr>\S+?)(?: port (?P<port>\d+))?:\s*(?P<code>\d+): (?P<reason>.*?)` + preauth + `$`)},
	{"connection_closed", regexp.MustCompile(`^Connection closed by (?:(?P<invalid>invalid user |authenticating user )(?P<user>.*?) )?(?P<addr>\S+)(?: port (?P<port>\d+))?` + preauth + `$`)},
	{"connection_reset", regexp.MustCompile(`^Connection reset by (?:(?P<invalid>invalid user |authenticating user )(?P<user>.*?) )?(?P<addr>\S+)(?: port (?P<port>\d+))?` + preauth + `$`)},
	{"connection", regexp.MustCompile(`^Connection from (?P<addr>\S+) port (?P<port>\d+) on (?P<daddr>\S+) port (?P<dport>\d+)`)},
	{"connection_refused", regexp.MustCompile(`^refused connect from (?P<host>\S+) \((?P<addr>[^)]+)\)$`)},
	{"no_identification", regexp.MustCompile(`^Did not receive identification string from (?P<addr>\S+)(?: port (?P<port>\d+))?$`)},
	{"negotiation_failed", regexp.MustCompile(`^Unable to negotiate with (?P<addr>\S+) port (?P<port>\d+): (?P<reason>.*?)` + preauth + `$`)},
	{"protocol_error", regexp.MustCompile(`^ssh_dispatch_run_fatal: Connection from (?:(?P<invalid>invalid user |authenticating user )(?P<user>\S*) )?(?P<addr>\S+) port (?P<port>\d+): (?P<reason>.*?)` + preauth + `$`)},
	{"bad_handshake", regexp.MustCompile(`^(?P<reason>.*?handshake) from (?P<addr>\S+) port (?P<port>\d+)$`)},
	{"timeout", regexp.MustCompile(`^Timeout before authentication for (?P<addr>\S+) port (?P<port>\d+)$`)},
	{"reverse_mapping_failed", regexp.MustCompile(`^reverse mapping checking getaddrinfo for (?P<host>\S+) \[(?P<addr>[^\]]+)\] failed.*$`)},
	{"reverse_mapping_failed", regexp.MustCompile(`^Address (?P<addr>\S+) maps to (?P<host>\S+), but this does not map back to the address.*$`)},
}

var (
	repeatedRE = regexp.MustCompile(`^message repeated (?P<n>\d+) times: \[ ?(?P<inner>.*)\]$`)
	pamRE      = regexp.MustCompile(`^pam_(?P<module>\w+)\((?P<svc>[^)]*)\): (?P<rest>.*)$`)
	fromPortRE = regexp.MustCompile(`from (?P<addr>\S+) port (?P<port>\d+)`)
	sessionRE  = regexp.MustCompile(`^session (?P<what>opened|closed) for user (?P<user>[^\s(]+)(?:\(uid=\d+\))?(?: by .*)?$`)
	pamFailRE  = regexp.MustCompile(`^(?:PAM (?P<n>\d+) more )?authentication failures?; (?P<kv>.*)$`)
	sudoRE     = regexp.MustCompile(`^\s*(?P<user>\S+) : (?:(?P<reason>[^;]*?) ; )?TTY=(?P<tty>\S+) ; PWD=(?P<pwd>.*?) ; USER=(?P<target>\S+) ;(?: [A-Z]+=\S+ ;)* COMMAND=(?P<cmd>.*)$`)
)

// parseAuthMessage adds event and the fields the message carries.
func parseAuthMessage(rec Record, prog, msg string) {
	rec["event"] = "other"
	if m := repeatedRE.FindStringSubmatch(msg); m != nil {
		rec["repeat"] = count(m[1])
		msg = m[2]
	}
	for _, lvl := range []string{"error: ", "fatal: "} {
		if rest, ok := strings.CutPrefix(msg, lvl); ok {
			rec["level"] = strings.TrimSuffix(lvl, ": ")
			msg = rest
		}
	}
	// PAM: "pam_unix(sshd:auth): ..." in any program, and old "sshd(pam_unix)[pid]: ...".
	if m := pamRE.FindStringSubmatch(msg); m != nil {
		rec["pam_module"] = "pam_" + m[1]
		rec["pam_service"] = m[2]
		parsePAM(rec, m[3])
		return
	}
	if strings.Contains(prog, "(pam_") {
		rec["pam_module"] = prog[strings.Index(prog, "(")+1 : len(prog)-1]
		parsePAM(rec, msg)
		return
	}
	switch {
	case strings.HasPrefix(prog, "sshd"):
		for _, r := range sshdRules {
			m := r.re.FindStringSubmatch(msg)
			if m == nil {
				continue
			}
			rec["event"] = r.event
			for i, name := range r.re.SubexpNames() {
				if m[i] != "" {
					setGroup(rec, name, m[i])
				}
			}
			_, hasUser := rec["user"]
			_, set := rec["invalid_user"]
			switch {
			case r.event == "invalid_user":
				rec["invalid_user"] = true
			case hasUser && !set && r.re.SubexpIndex("invalid") >= 0:
				rec["invalid_user"] = false
			}
			return
		}
		if m := fromPortRE.FindStringSubmatch(msg); m != nil {
			setAddr(rec, "src", m[1])
			rec["src_port"] = count(m[2])
		}
	case prog == "sudo":
		if m := sudoRE.FindStringSubmatch(msg); m != nil {
			rec["event"] = "sudo_command"
			rec["user"] = m[1]
			if m[2] != "" {
				rec["reason"] = m[2]
			}
			rec["tty"], rec["cwd"], rec["target_user"], rec["command"] = m[3], m[4], m[5], m[6]
		}
	}
}

func setGroup(rec Record, name, v string) {
	switch name {
	case "user", "user2":
		rec["user"] = v
	case "invalid":
		switch strings.TrimSpace(v) {
		case "invalid user":
			rec["invalid_user"] = true
		case "authenticating user", "user":
			rec["invalid_user"] = false
		}
	case "addr":
		setAddr(rec, "src", v)
	case "port":
		rec["src_port"] = count(v)
	case "daddr":
		setAddr(rec, "dst", v)
	case "dport":
		rec["dst_port"] = count(v)
	case "host":
		rec["src_host"] = v
	case "method":
		rec["method"] = v
	case "keytype":
		rec["key_type"] = v
	case "fp":
		rec["key_fingerprint"] = v
	case "reason":
		rec["reason"] = v
	case "code":
		rec["disconnect_code"] = count(v)
	}
}

// setAddr stores an address as <side>_ip when it is one (IPv4-mapped IPv6 unmapped, brackets
// removed), else as <side>_host.
func setAddr(rec Record, side, v string) {
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	if a, err := netip.ParseAddr(v); err == nil {
		rec[side+"_ip"] = a.Unmap().String()
		return
	}
	rec[side+"_host"] = v
}

// parsePAM reads the message of a PAM module.
func parsePAM(rec Record, msg string) {
	if m := sessionRE.FindStringSubmatch(msg); m != nil {
		rec["event"] = "session_" + m[1]
		rec["user"] = m[2]
		return
	}
	if strings.HasPrefix(msg, "check pass; user unknown") {
		rec["event"] = "unknown_user_check"
		return
	}
	m := pamFailRE.FindStringSubmatch(msg)
	if m == nil {
		return
	}
	rec["event"] = "auth_failure"
	rec["method"] = "pam"
	if m[1] != "" {
		rec["repeat"] = count(m[1])
	}
	for _, kv := range strings.Fields(m[2]) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || v == "" {
			continue
		}
		switch k {
		case "logname", "tty", "ruser", "user":
			rec[k] = v
		case "uid", "euid":
			if allDigits(v) {
				rec[k] = count(v)
			}
		case "rhost":
			setAddr(rec, "src", v)
		}
	}
}

// count turns a run of digits into a number ("0022" is 22); one too large for uint64 stays
// text.
func count(digits string) any {
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return digits
	}
	return json.Number(strconv.FormatUint(n, 10))
}
