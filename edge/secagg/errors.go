package secagg

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by this package wrap one of them; use errors.Is.
var (
	// ErrInvalidParams: Params or a client option is invalid.
	ErrInvalidParams = errors.New("secagg: invalid parameters")
	// ErrBadInput: the caller's input vector has the wrong length.
	ErrBadInput = errors.New("secagg: bad input vector")
	// ErrMalformed: a message does not decode or has wrong lengths, values or fields.
	ErrMalformed = errors.New("secagg: malformed message")
	// ErrWrongRound: a message belongs to another cohort or round (e.g. a replay).
	ErrWrongRound = errors.New("secagg: message for another cohort or round")
	// ErrWrongPhase: a message or call that the state machine does not expect now
	// (a late message, a replay from an earlier phase, a second one-shot call).
	ErrWrongPhase = errors.New("secagg: message not expected in this phase")
	// ErrDuplicate: a second message from the same client in one phase, or a
	// repeated id or key inside one message.
	ErrDuplicate = errors.New("secagg: duplicate")
	// ErrUnknownClient: an id that is not a cohort member or not eligible in this
	// phase (e.g. a client that dropped earlier).
	ErrUnknownClient = errors.New("secagg: unknown or ineligible client")
	// ErrBadSignature: an advertised key pair is not signed by the member's identity key.
	ErrBadSignature = errors.New("secagg: bad key signature")
	// ErrDecrypt: a share ciphertext fails authentication.
	ErrDecrypt = errors.New("secagg: share decryption failed")
	// ErrNoise: the noise source failed; nothing was released (fail closed).
	ErrNoise = errors.New("secagg: noise source failed")
	// ErrAborted: the round is aborted; see AbortError for the reason.
	ErrAborted = errors.New("secagg: round aborted")
	// ErrTooFewSurvivors: fewer than threshold clients remain (an abort reason).
	ErrTooFewSurvivors = errors.New("secagg: fewer than threshold clients remain")
	// ErrReconstruct: a rebuilt secret does not match its commitment or public
	// key, i.e. some share was corrupted (an abort reason).
	ErrReconstruct = errors.New("secagg: reconstructed secret does not match")
)

// MessageError reports a rejected message or an out-of-order call. Rejecting a
// message never changes the state of a Client or Server.
type MessageError struct {
	Err    error    // one of the sentinel errors
	Type   MsgType  // the message type, if known
	From   ClientID // the claimed sender (0 if unknown or the server)
	Detail string
}

func (e *MessageError) Error() string {
	s := e.Err.Error()
	if e.Type != "" {
		s += " (" + string(e.Type)
		if e.From != 0 {
			s += fmt.Sprintf(" from %d", e.From)
		}
		s += ")"
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *MessageError) Unwrap() error { return e.Err }

func msgErr(kind error, typ MsgType, from ClientID, format string, args ...any) error {
	return &MessageError{Err: kind, Type: typ, From: from, Detail: fmt.Sprintf(format, args...)}
}

// AbortError ends a round: nothing is or will be released. It matches
// errors.Is(err, ErrAborted) and errors.Is(err, Reason).
type AbortError struct {
	Phase  Phase // the phase that could not complete
	Reason error // ErrTooFewSurvivors or ErrReconstruct
	Have   int   // clients that remained (for ErrTooFewSurvivors)
	Need   int   // the threshold
	Detail string
}

func (e *AbortError) Error() string {
	s := fmt.Sprintf("secagg: round aborted in %s: %v", e.Phase, e.Reason)
	if e.Reason == ErrTooFewSurvivors {
		s += fmt.Sprintf(" (%d of at least %d)", e.Have, e.Need)
	}
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

func (e *AbortError) Unwrap() []error { return []error{ErrAborted, e.Reason} }

// Phase is the state of a Client or Server.
type Phase int

// Phases in order. A Client is in the phase whose message it will produce next;
// a Server is in the phase whose client messages it is collecting.
const (
	PhaseAdvertise   Phase = iota // round 0: advertise keys
	PhaseShareKeys                // round 1: share keys
	PhaseMaskedInput              // round 2: masked input collection
	PhaseUnmask                   // round 3: unmasking
	PhaseDone                     // released (server) or finished (client)
	PhaseAborted                  // aborted, nothing released
)

func (p Phase) String() string {
	switch p {
	case PhaseAdvertise:
		return "advertise-keys"
	case PhaseShareKeys:
		return "share-keys"
	case PhaseMaskedInput:
		return "masked-input"
	case PhaseUnmask:
		return "unmask"
	case PhaseDone:
		return "done"
	case PhaseAborted:
		return "aborted"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}
