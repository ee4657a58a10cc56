package bus

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/rs/zerolog"
)

// serverLogger routes embedded nats-server logs into zerolog. Notices become
// debug records; warnings and errors keep their level. Fatalf never exits the
// process: it logs an error and records the message so Open can report it.
type serverLogger struct {
	log   zerolog.Logger
	fatal atomic.Pointer[string]
}

func (l *serverLogger) Noticef(format string, v ...any) { l.log.Debug().Msgf(format, v...) }
func (l *serverLogger) Debugf(format string, v ...any)  { l.log.Debug().Msgf(format, v...) }
func (l *serverLogger) Tracef(format string, v ...any)  { l.log.Trace().Msgf(format, v...) }
func (l *serverLogger) Errorf(format string, v ...any)  { l.log.Error().Msgf(format, v...) }

func (l *serverLogger) Warnf(format string, v ...any) {
	// The large max payload is deliberate (INGEST accepts 32 MiB messages),
	// so do not warn about it on every start.
	if strings.HasPrefix(format, "Maximum payloads over") {
		l.log.Debug().Msgf(format, v...)
		return
	}
	l.log.Warn().Msgf(format, v...)
}

func (l *serverLogger) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	l.fatal.Store(&msg)
	l.log.Error().Msg(msg)
}

// lastFatal returns the last message passed to Fatalf, or "".
func (l *serverLogger) lastFatal() string {
	if p := l.fatal.Load(); p != nil {
		return *p
	}
	return ""
}
