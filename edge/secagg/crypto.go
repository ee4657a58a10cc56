package secagg

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
)

const protocolLabel = "sectwin/secagg/v1"

// Labels separate the uses of the derivation context.
const (
	labelSelfMask   = "self-mask"        // HKDF: b_u -> PRG seed
	labelMaskKey    = "mask-key"         // HKDF: shared secret element -> s_u^SK
	labelPairMask   = "pair-mask"        // HKDF: X25519(s_u, s_v) -> s_uv
	labelShareKey   = "share-key"        // HKDF: X25519(c_u, c_v) -> AES-GCM key u->v
	labelShareAD    = "share-ad"         // AES-GCM additional data
	labelCommit     = "self-mask-commit" // SHA-256 commitment to b_u
	labelAdvertise  = "advertise"        // Ed25519 signature over advertised keys
	shareNonceSize  = 12
	sharePlainSize  = 4 + 4 + feSize + feSize // from, to, s^SK share, b share
	shareCipherSize = shareNonceSize + sharePlainSize + 16
	keySize         = 32
)

// roundCtx binds every derivation to the cohort, the round and the parameters.
type roundCtx struct {
	cohort, round string
	params        [32]byte // SHA-256 of threshold, length and the sorted members
}

func appendLP(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

func newRoundCtx(p *Params) roundCtx {
	b := appendLP(nil, protocolLabel+"/params")
	b = binary.BigEndian.AppendUint32(b, uint32(p.Threshold))
	b = binary.BigEndian.AppendUint32(b, uint32(p.Length))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Members)))
	for _, id := range p.Members { // sorted by clone
		b = binary.BigEndian.AppendUint32(b, uint32(id))
	}
	return roundCtx{cohort: p.Cohort, round: p.Round, params: sha256.Sum256(b)}
}

func (rc *roundCtx) header(t MsgType) Header {
	return Header{Version: Version, Type: t, Cohort: rc.cohort, Round: rc.round}
}

// info is the length-prefixed context used as HKDF info, AEAD additional data
// and signed transcript: protocol, label, cohort id, round id, parameter
// digest, then the ids involved.
func (rc *roundCtx) info(label string, ids ...ClientID) []byte {
	b := appendLP(nil, protocolLabel)
	b = appendLP(b, label)
	b = appendLP(b, rc.cohort)
	b = appendLP(b, rc.round)
	b = append(b, rc.params[:]...)
	for _, id := range ids {
		b = binary.BigEndian.AppendUint32(b, uint32(id))
	}
	return b
}

func (rc *roundCtx) kdf(secret []byte, label string, ids ...ClientID) ([]byte, error) {
	return hkdf.Key(sha256.New, secret, nil, string(rc.info(label, ids...)), keySize)
}

// selfMaskSeed derives the PRG seed of b_u.
func (rc *roundCtx) selfMaskSeed(u ClientID, b *fe) ([]byte, error) {
	return rc.kdf(b[:], labelSelfMask, u)
}

// maskKey derives s_u^SK from the shared field element σ_u.
func (rc *roundCtx) maskKey(u ClientID, sigma *fe) (*ecdh.PrivateKey, error) {
	k, err := rc.kdf(sigma[:], labelMaskKey, u)
	if err != nil {
		return nil, err
	}
	return ecdh.X25519().NewPrivateKey(k)
}

// pairSeed derives s_uv; it is symmetric in u and v.
func (rc *roundCtx) pairSeed(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, u, v ClientID) ([]byte, error) {
	secret, err := priv.ECDH(peer)
	if err != nil {
		return nil, err
	}
	lo, hi := min(u, v), max(u, v)
	return rc.kdf(secret, labelPairMask, lo, hi)
}

// shareAEAD returns the AES-256-GCM instance for shares sent from -> to, and
// the additional data. Each direction has its own key.
func (rc *roundCtx) shareAEAD(priv *ecdh.PrivateKey, peer *ecdh.PublicKey, from, to ClientID) (cipher.AEAD, []byte, error) {
	secret, err := priv.ECDH(peer)
	if err != nil {
		return nil, nil, err
	}
	k, err := rc.kdf(secret, labelShareKey, from, to)
	if err != nil {
		return nil, nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, err
	}
	return aead, rc.info(labelShareAD, from, to), nil
}

// commit is the SHA-256 commitment to b_u that lets the server verify its reconstruction.
func (rc *roundCtx) commit(u ClientID, b *fe) []byte {
	h := sha256.New()
	h.Write(rc.info(labelCommit, u))
	h.Write(b[:])
	return h.Sum(nil)
}

// signedKeys is the transcript an identity key signs in AdvertiseKeys.
func (rc *roundCtx) signedKeys(k *PublicKeys) []byte {
	b := rc.info(labelAdvertise, k.ID)
	b = append(b, k.EncKey...)
	return append(b, k.MaskKey...)
}

func (rc *roundCtx) verifyKeys(p *Params, k *PublicKeys) bool {
	if p.IdentityKeys == nil {
		return len(k.Sig) == 0
	}
	pub := p.IdentityKeys[k.ID]
	return len(pub) == ed25519.PublicKeySize && len(k.Sig) == ed25519.SignatureSize &&
		ed25519.Verify(pub, rc.signedKeys(k), k.Sig)
}

// probeKey detects low-order X25519 points: with a clamped scalar (a multiple of
// the cofactor 8) the shared secret is all-zero, and ECDH fails, exactly when
// the point's order divides 8.
var probeKey = func() *ecdh.PrivateKey {
	k, err := ecdh.X25519().NewPrivateKey(bytes.Repeat([]byte{0x5a}, keySize))
	if err != nil {
		panic(err)
	}
	return k
}()

// parsePublicKey accepts canonical X25519 public keys that are not of low order.
func parsePublicKey(b []byte) (*ecdh.PublicKey, error) {
	e, ok := feDecode(b) // canonical: < 2^255 − 19, so top bit clear
	if !ok {
		return nil, errors.New("not a canonical X25519 public key")
	}
	pk, err := ecdh.X25519().NewPublicKey(e[:])
	if err != nil {
		return nil, err
	}
	if _, err := probeKey.ECDH(pk); err != nil {
		return nil, errors.New("low-order X25519 public key")
	}
	return pk, nil
}

// addPRG adds (or subtracts) the AES-256-CTR keystream of seed, read as
// little-endian uint64 words, to dst mod 2^64.
func addPRG(dst []uint64, seed []byte, subtract bool) error {
	block, err := aes.NewCipher(seed)
	if err != nil {
		return err
	}
	var iv [aes.BlockSize]byte
	stream := cipher.NewCTR(block, iv[:])
	var buf [4096]byte
	for off := 0; off < len(dst); {
		n := min(len(dst)-off, len(buf)/8)
		b := buf[:8*n]
		clear(b)
		stream.XORKeyStream(b, b)
		d := dst[off : off+n]
		if subtract {
			for i := range d {
				d[i] -= binary.LittleEndian.Uint64(b[8*i:])
			}
		} else {
			for i := range d {
				d[i] += binary.LittleEndian.Uint64(b[8*i:])
			}
		}
		off += n
	}
	clear(buf[:])
	return nil
}

func readKey(r io.Reader) ([]byte, error) {
	k := make([]byte, keySize)
	_, err := io.ReadFull(r, k)
	return k, err
}
