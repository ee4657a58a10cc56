package telemetry

import (
	"strings"

	"github.com/sectwin/sectwin/edge/decode"
)

// MaxRepeat bounds the events an sshd "message repeated N times" line stands for.
const MaxRepeat = 100

// sshdAdapter maps auth syslog lines, as edge/decode's sshd decoder parses them: auth_success
// ("Accepted password|publickey… for U from IP") and auth_failure ("Failed password… for
// [invalid user] U from IP", PAM authentication failures) give auth events: principal user
// (Unknown when the line names none), src src_ip or src_host, target the syslog host, method
// (password, publickey, pam…). A "message repeated N times" line gives N events (at most
// MaxRepeat). A pam_unix(sshd:auth) failure logged by sshd itself is skipped: sshd logs the
// same attempt as "Failed password". Every other line (invalid user notices, disconnects,
// sessions, other programs) is skipped.
type sshdAdapter struct{}

// Adapt implements Adapter.
func (sshdAdapter) Adapt(rec decode.Record) ([]Event, error) { return adaptSSHD(view{rec: rec}) }

func adaptSSHD(v view) ([]Event, error) {
	event, ok := v.text("event")
	if !ok {
		return nil, fieldErr("record.event", "missing")
	}
	outcome := ""
	switch event {
	case "auth_success":
		outcome = OutcomeSuccess
	case "auth_failure":
		outcome = OutcomeFailure
	default:
		return nil, skip("sshd event %s", token(event))
	}
	if svc, _ := v.text("pam_service"); outcome == OutcomeFailure && strings.HasPrefix(svc, "sshd") {
		// pam_unix(sshd:auth) inside sshd: sshd logs the same attempt as "Failed password".
		return nil, skip("sshd pam failure logged twice")
	}
	ts, err := v.time("ts")
	if err != nil {
		return nil, err
	}
	n := 1
	if f, ok, err := v.number("repeat"); err != nil {
		return nil, err
	} else if ok && f > 1 {
		n = int(min(f, MaxRepeat))
	}
	evs := make([]Event, 0, n)
	for i := range n {
		ev := newEvent(SourceSSHD, v.rec, i, ts)
		ev.Kind = KindAuth
		ev.Auth = &Auth{
			Principal: v.firstOr(Unknown, "user"),
			Outcome:   outcome,
			Src:       v.firstOr("", "src_ip", "src_host"),
			Target:    v.firstOr("", "host"),
			Method:    v.firstOr("", "method"),
		}
		evs = append(evs, ev)
	}
	return evs, nil
}
