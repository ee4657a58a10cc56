// Package cohort runs secure-aggregation rounds (edge/secagg) over NATS between the edge
// collectors of a cohort and their regional aggregator (`sectwin edge aggregate`).
//
// Subjects, for a cohort C and a round R (a window id such as w2931):
//
//	sectwin.secagg.C.R.up        every client message to the aggregator
//	sectwin.secagg.C.R.down      the aggregator's broadcasts (key list, unmask request)
//	sectwin.secagg.C.R.down.ID   the share bundle for client ID
//
// Core NATS (at most once) is enough: the protocol survives clients that drop out, and a lost
// message is a dropout. The aggregator opens a round when the first message of a new round id
// arrives and closes each phase when every eligible client has spoken or the phase timeout
// passes; with fewer than the threshold left, the round aborts and nothing is released.
package cohort

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"

	"github.com/sectwin/sectwin/edge/secagg"
)

// SubjectRoot prefixes every secure-aggregation subject.
const SubjectRoot = "sectwin.secagg"

var token = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// CheckName validates a cohort name or round id: one NATS subject token.
func CheckName(what, s string) error {
	if !token.MatchString(s) {
		return fmt.Errorf("%s %q must be 1-64 letters, digits, '-' or '_'", what, s)
	}
	return nil
}

// UpSubject is where clients of a round send their messages.
func UpSubject(cohort, round string) string { return SubjectRoot + "." + cohort + "." + round + ".up" }

// DownSubject is where the aggregator broadcasts to a round's clients.
func DownSubject(cohort, round string) string {
	return SubjectRoot + "." + cohort + "." + round + ".down"
}

// DirectSubject is where the aggregator sends one client its share bundle.
func DirectSubject(cohort, round string, id secagg.ClientID) string {
	return fmt.Sprintf("%s.%d", DownSubject(cohort, round), id)
}

// RunClient takes part in one round as client id with input x: it advertises its keys, shares
// them, sends its masked input and answers the unmask request. It returns when its part is done,
// or with ctx's error when the aggregator does not answer in time (the round then counts it as a
// dropout).
func RunClient(ctx context.Context, nc *nats.Conn, p secagg.Params, id secagg.ClientID, x []uint64, opts ...secagg.ClientOption) error {
	c, err := secagg.NewClient(p, id, opts...)
	if err != nil {
		return err
	}
	in := make(chan *nats.Msg, 16)
	for _, subj := range []string{DownSubject(p.Cohort, p.Round), DirectSubject(p.Cohort, p.Round, id)} {
		sub, err := nc.ChanSubscribe(subj, in)
		if err != nil {
			return fmt.Errorf("secure aggregation: subscribe %s: %w", subj, err)
		}
		defer sub.Unsubscribe()
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	up := UpSubject(p.Cohort, p.Round)
	send := func(m secagg.Message, err error) error {
		if err != nil {
			return err
		}
		b, err := secagg.Marshal(m)
		if err != nil {
			return err
		}
		return nc.Publish(up, b)
	}
	// next waits for the aggregator's next message of type T, ignoring anything else.
	next := func() (secagg.Message, error) {
		for {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("secure aggregation round %s: %w", p.Round, ctx.Err())
			case msg := <-in:
				m, err := secagg.Unmarshal(msg.Data)
				if err != nil {
					continue // not for us, or garbage: the protocol checks what it takes
				}
				return m, nil
			}
		}
	}
	if err := send(c.Advertise()); err != nil {
		return err
	}
	for c.Phase() != secagg.PhaseDone && c.Phase() != secagg.PhaseAborted {
		m, err := next()
		if err != nil {
			return err
		}
		switch m := m.(type) {
		case *secagg.KeyList:
			err = send(c.ShareKeys(m))
		case *secagg.ShareBundle:
			if m.To == id {
				err = send(c.MaskInput(m, x))
			}
		case *secagg.UnmaskRequest:
			if !slices.Contains(m.Survivors, id) {
				return fmt.Errorf("secure aggregation round %s: this collector's input was not included", p.Round)
			}
			err = send(c.Unmask(m))
		}
		if err != nil {
			return fmt.Errorf("secure aggregation round %s: %w", p.Round, err)
		}
	}
	return nc.Flush()
}

// Server is the aggregator side: it runs every round of one cohort.
type Server struct {
	NC     *nats.Conn
	Cohort string
	// Params returns the parameters of a round id, or an error for a round this aggregator does
	// not expect (too old, too far ahead, malformed).
	Params func(round string) (secagg.Params, error)
	// PhaseTimeout bounds each phase after its first message; 0 means 10 s.
	PhaseTimeout time.Duration
	// Release receives each finished round's result.
	Release func(ctx context.Context, res *secagg.Result)
	// Received, when set, sees every message the aggregator receives (audits and tests).
	Received func(subject string, data []byte)
	// Ready, when set, is called once the aggregator listens.
	Ready func()
	Log   zerolog.Logger

	mu     sync.Mutex
	rounds map[string]chan []byte
	done   map[string]bool
}

// Run serves rounds until ctx ends.
func (s *Server) Run(ctx context.Context) error {
	if err := CheckName("cohort", s.Cohort); err != nil {
		return err
	}
	timeout := s.PhaseTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	s.rounds, s.done = map[string]chan []byte{}, map[string]bool{}
	in := make(chan *nats.Msg, 1024)
	sub, err := s.NC.ChanSubscribe(SubjectRoot+"."+s.Cohort+".*.up", in)
	if err != nil {
		return fmt.Errorf("secure aggregation: subscribe: %w", err)
	}
	defer sub.Unsubscribe()
	if err := s.NC.Flush(); err != nil {
		return err
	}
	s.Log.Info().Str("cohort", s.Cohort).Msg("secure aggregation: serving rounds")
	if s.Ready != nil {
		s.Ready()
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg := <-in:
			if s.Received != nil {
				s.Received(msg.Subject, msg.Data)
			}
			round := strings.Split(msg.Subject, ".")[3]
			s.mu.Lock()
			ch, open := s.rounds[round]
			if !open && !s.done[round] {
				p, err := s.Params(round)
				if err != nil {
					s.mu.Unlock()
					s.Log.Warn().Str("round", round).Err(err).Msg("secure aggregation: message for an unexpected round ignored")
					continue
				}
				ch = make(chan []byte, 1024)
				s.rounds[round] = ch
				wg.Add(1)
				go func() {
					defer wg.Done()
					s.round(ctx, p, ch, timeout)
					s.mu.Lock()
					delete(s.rounds, round)
					s.done[round] = true
					s.mu.Unlock()
				}()
			}
			s.mu.Unlock()
			if ch != nil {
				select {
				case ch <- msg.Data:
				default:
					s.Log.Warn().Str("round", round).Msg("secure aggregation: round backlog full, message dropped")
				}
			}
		}
	}
}

// round drives one round through its four phases.
func (s *Server) round(ctx context.Context, p secagg.Params, in <-chan []byte, timeout time.Duration) {
	log := s.Log.With().Str("cohort", p.Cohort).Str("round", p.Round).Logger()
	srv, err := secagg.NewServer(p)
	if err != nil {
		log.Error().Err(err).Msg("secure aggregation: bad round parameters")
		return
	}
	collect := func() error {
		deadline := time.NewTimer(timeout)
		defer deadline.Stop()
		for len(srv.Waiting()) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-deadline.C:
				return nil // the silent ones are dropouts
			case data := <-in:
				if err := srv.ReceiveBytes(data); err != nil {
					log.Debug().Err(err).Msg("secure aggregation: message refused")
				}
			}
		}
		return nil
	}
	publish := func(subject string, m secagg.Message) error {
		b, err := secagg.Marshal(m)
		if err != nil {
			return err
		}
		return s.NC.Publish(subject, b)
	}
	down := DownSubject(p.Cohort, p.Round)
	res, err := func() (*secagg.Result, error) {
		if err := collect(); err != nil {
			return nil, err
		}
		keys, err := srv.CloseAdvertise()
		if err != nil {
			return nil, err
		}
		if err := publish(down, keys); err != nil {
			return nil, err
		}
		if err := collect(); err != nil {
			return nil, err
		}
		bundles, err := srv.CloseShareKeys()
		if err != nil {
			return nil, err
		}
		for _, b := range bundles {
			if err := publish(DirectSubject(p.Cohort, p.Round, b.To), b); err != nil {
				return nil, err
			}
		}
		if err := collect(); err != nil {
			return nil, err
		}
		req, err := srv.CloseMaskedInput()
		if err != nil {
			return nil, err
		}
		if err := publish(down, req); err != nil {
			return nil, err
		}
		if err := collect(); err != nil {
			return nil, err
		}
		return srv.Finish()
	}()
	if err != nil {
		var abort *secagg.AbortError
		if errors.As(err, &abort) {
			log.Warn().Err(err).Msg("secure aggregation round aborted: nothing released")
		} else {
			log.Error().Err(err).Msg("secure aggregation round failed: nothing released")
		}
		return
	}
	log.Info().Int("included", len(res.Included)).Int("dropped", len(res.Dropped)).Msg("secure aggregation round released")
	if s.Release != nil {
		s.Release(ctx, res)
	}
}
