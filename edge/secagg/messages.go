package secagg

import (
	"bytes"
	"encoding/json"
	"io"
)

// MsgType discriminates messages on the wire.
type MsgType string

// Message types, in protocol order.
const (
	TypeAdvertiseKeys MsgType = "advertise_keys" // client -> server, round 0
	TypeKeyList       MsgType = "key_list"       // server -> all of U1
	TypeShareKeys     MsgType = "share_keys"     // client -> server, round 1
	TypeShareBundle   MsgType = "share_bundle"   // server -> one member of U2
	TypeMaskedInput   MsgType = "masked_input"   // client -> server, round 2
	TypeUnmaskRequest MsgType = "unmask_request" // server -> all of U3
	TypeUnmaskShares  MsgType = "unmask_shares"  // client -> server, round 3
)

// Header starts every message.
type Header struct {
	Version int     `json:"v"`
	Type    MsgType `json:"type"`
	Cohort  string  `json:"cohort"`
	Round   string  `json:"round"`
}

// MessageHeader returns the header; every message type implements Message through it.
func (h Header) MessageHeader() Header { return h }

// Message is any of the seven message types (as pointers).
type Message interface {
	MessageHeader() Header
}

// PublicKeys is one client's advertisement: c_u^PK and s_u^PK (32-byte X25519
// public keys), signed with the client's Ed25519 identity key when
// Params.IdentityKeys is set.
type PublicKeys struct {
	ID      ClientID `json:"id"`
	EncKey  []byte   `json:"enc_pk"`
	MaskKey []byte   `json:"mask_pk"`
	Sig     []byte   `json:"sig,omitempty"`
}

// AdvertiseKeys is round 0, client -> server. The sender is PublicKeys.ID.
type AdvertiseKeys struct {
	Header
	PublicKeys
}

// KeyList closes round 0: the advertisements of U1, sorted by id, sent to every member of U1.
type KeyList struct {
	Header
	Keys []PublicKeys `json:"keys"`
}

// EncryptedShare is one AES-GCM ciphertext of a client's shares of b_u and
// s_u^SK for one peer. Peer is the recipient inside ShareKeys and the sender
// inside ShareBundle.
type EncryptedShare struct {
	Peer       ClientID `json:"peer"`
	Ciphertext []byte   `json:"ct"`
}

// ShareKeys is round 1, client -> server: one ciphertext for every other member
// of U1, and a commitment to the self-mask seed b_u.
type ShareKeys struct {
	Header
	From       ClientID         `json:"from"`
	Commitment []byte           `json:"b_commit"`
	Shares     []EncryptedShare `json:"shares"`
}

// ShareBundle closes round 1 for one client: the ciphertexts addressed to it by
// every other member of U2. The senders define U2 for the recipient.
type ShareBundle struct {
	Header
	To     ClientID         `json:"to"`
	Shares []EncryptedShare `json:"shares"`
}

// MaskedInput is round 2, client -> server: y_u, and whether the client added noise.
type MaskedInput struct {
	Header
	From   ClientID `json:"from"`
	Noised bool     `json:"noised"`
	Masked []uint64 `json:"y"`
}

// UnmaskRequest closes round 2: U3, the clients whose masked input is in the sum.
type UnmaskRequest struct {
	Header
	Survivors []ClientID `json:"survivors"`
}

// SecretShare is the sender's Shamir share (a canonical 32-byte little-endian
// element of GF(2^255−19)) of a secret of client Owner.
type SecretShare struct {
	Owner ClientID `json:"owner"`
	Value []byte   `json:"value"`
}

// UnmaskShares is round 3, client -> server: shares of b_v for every v in U3 and
// shares of s_v^SK for every v in U2 \ U3.
type UnmaskShares struct {
	Header
	From     ClientID      `json:"from"`
	SelfMask []SecretShare `json:"b_shares"`
	MaskKey  []SecretShare `json:"sk_shares"`
}

// Marshal encodes a message as JSON.
func Marshal(m Message) ([]byte, error) { return json.Marshal(m) }

// Unmarshal decodes a message of any type from JSON. It rejects unknown types,
// unknown fields, trailing data and other protocol versions with ErrMalformed.
// It checks only the encoding; the state machines check the contents.
func Unmarshal(data []byte) (Message, error) {
	var h Header
	if err := json.Unmarshal(data, &h); err != nil {
		return nil, msgErr(ErrMalformed, "", 0, "decode header: %v", err)
	}
	if h.Version != Version {
		return nil, msgErr(ErrMalformed, h.Type, 0, "protocol version %d, want %d", h.Version, Version)
	}
	var m Message
	switch h.Type {
	case TypeAdvertiseKeys:
		m = new(AdvertiseKeys)
	case TypeKeyList:
		m = new(KeyList)
	case TypeShareKeys:
		m = new(ShareKeys)
	case TypeShareBundle:
		m = new(ShareBundle)
	case TypeMaskedInput:
		m = new(MaskedInput)
	case TypeUnmaskRequest:
		m = new(UnmaskRequest)
	case TypeUnmaskShares:
		m = new(UnmaskShares)
	default:
		return nil, msgErr(ErrMalformed, "", 0, "unknown message type %q", h.Type)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(m); err != nil {
		return nil, msgErr(ErrMalformed, h.Type, 0, "decode: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, msgErr(ErrMalformed, h.Type, 0, "trailing data after message")
	}
	return m, nil
}
