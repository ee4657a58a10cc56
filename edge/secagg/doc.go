// Package secagg implements secure aggregation of integer vectors for a cohort of
// edge collectors, following Bonawitz et al., "Practical Secure Aggregation for
// Privacy-Preserving Machine Learning", CCS 2017: the full protocol with
// double masking, in its honest-but-curious form (without the round-3
// consistency check). It is the reference protocol of section 4 of
// shared/design/edge-privacy.md.
//
// # Roles and message flow
//
// The package is transport-agnostic: it defines JSON-encoded messages and two
// state machines, [Client] (one collector of a cohort) and [Server] (the
// regional aggregator). Callers move the messages (e.g. over NATS) and decide
// when a round has waited long enough; nothing in here does I/O or keeps time.
// Every participant is built from the same [Params] (cohort, round, members,
// threshold t, vector length). One round, in order:
//
//	round 0  Client.Advertise()                -> AdvertiseKeys  client -> server
//	         Server.CloseAdvertise()           -> KeyList        server -> every member of U1
//	round 1  Client.ShareKeys(KeyList)         -> ShareKeys      client -> server
//	         Server.CloseShareKeys()           -> []ShareBundle  server -> each member of U2
//	round 2  Client.MaskInput(ShareBundle, x)  -> MaskedInput    client -> server
//	         Server.CloseMaskedInput()         -> UnmaskRequest  server -> every member of U3
//	round 3  Client.Unmask(UnmaskRequest)      -> UnmaskShares   client -> server
//	         Server.Finish()                   -> Result         the sum over U3, mod 2^64
//
// The server takes client messages with Server.Receive (or ReceiveBytes)
// between the Close calls.
//
// U1 ⊇ U2 ⊇ U3 ⊇ U5 are the clients whose message of rounds 0, 1, 2 and 3 the
// server accepted before closing the round (the paper's names). Each Close
// aborts the round with an [*AbortError] (errors.Is [ErrTooFewSurvivors] and
// [ErrAborted]) when fewer than t clients remain.
//
// Round 0: each client makes two fresh X25519 key pairs, c_u (encryption of
// shares) and s_u (mask agreement). Round 1: each client draws a self-mask seed
// b_u and Shamir-shares b_u and the secret behind s_u^SK (t-of-|U1|) to every
// member of U1, each share encrypted with AES-256-GCM under
// HKDF(X25519(c_u^SK, c_v^PK)). Round 2: each client sends
//
//	y_u = x_u + noise_u + PRG(b_u) + Σ_{v∈U2, v>u} PRG(s_uv) − Σ_{v∈U2, v<u} PRG(s_uv)   (mod 2^64)
//
// where s_uv = HKDF(X25519(s_u^SK, s_v^PK)). Round 3: each survivor reveals, for
// every v in U2, either its share of b_v (v ∈ U3) or its share of s_v^SK
// (v ∈ U2 \ U3), never both, and answers at most once. The server rebuilds b_v
// for v ∈ U3 and s_v^SK for v ∈ U2 \ U3, strips the self masks and the pairwise
// masks towards dropped clients, and outputs Σ_{u∈U3} (x_u + noise_u).
//
// # Arithmetic
//
// Values are []uint64 added mod 2^64. A fixed-point int64 value is carried as
// its two's-complement bit pattern (uint64(v), see [FromInt64s]); because
// reduction mod 2^64 is a ring homomorphism, the released sum read back as
// int64 ([ToInt64s]) is the true signed sum whenever that sum lies in
// [−2^63, 2^63). The caller must keep it there: clamp every coordinate to
// [lower, upper] (design §2) so that |U|·max(|lower|,|upper|) plus the noise
// tail stays below 2^63. Nothing here detects a wrap-around; it is
// indistinguishable from a legitimate value.
//
// # Cryptographic choices
//
//   - Key agreement: crypto/ecdh X25519; public keys must be canonical and not
//     of low order (checked on receipt). Keys are fresh per Client, i.e. per round.
//   - KDF: crypto/hkdf with SHA-256. Every HKDF info, AES-GCM additional data
//     and signed transcript starts with "sectwin/secagg/v1", a label, the cohort
//     id, the round id and a SHA-256 digest of (t, length, members), followed by
//     the ids involved (both ids, ordered, for pairwise masks; sender then
//     recipient for share encryption). Messages of another round or cohort are
//     rejected with [ErrWrongRound]; a share ciphertext replayed from another round
//     fails to decrypt.
//   - PRG: AES-256-CTR keystream with a zero IV (each seed keys exactly one
//     stream), read as little-endian uint64 words.
//   - Shamir secret sharing over GF(2^255−19), with circl's constant-time field
//     arithmetic (github.com/cloudflare/circl/math/fp25519). circl's own
//     secretsharing package works over circl/group, which imports
//     github.com/bwesterb/go-ristretto; that module is not in go.sum and this
//     package may not change go.mod/go.sum, so the ~50 lines of Shamir live in
//     shamir.go (tested against math/big). Switching to circl/secretsharing over
//     group.Ristretto255 is mechanical once go-ristretto is in go.sum. Because a
//     32-byte X25519 key or AES key does not fit a 255-bit field, each client
//     shares uniformly random field elements and derives the X25519 mask key and
//     the self-mask PRG seed from them with HKDF.
//   - With [Params].IdentityKeys set, clients sign their AdvertiseKeys with
//     Ed25519 ([WithSigningKey]) and both clients and the server verify every
//     advertised key pair, so a relaying server cannot substitute keys.
//   - Each ShareKeys carries a SHA-256 commitment to b_u and the server checks the
//     reconstructed s_u^SK against the advertised s_u^PK, so a corrupted share
//     aborts the round ([ErrReconstruct]) instead of releasing a wrong sum.
//
// # Threat model
//
// Semi-honest (honest-but-curious) server and clients: everyone follows the
// protocol, possibly colluding, and tries to learn more from what it sees. The
// aggregator learns the set of clients in each round (U1, U2, U3, U5), the
// vector length, and Σ_{u∈U3} (x_u + noise_u) mod 2^64 — nothing about any
// individual x_u beyond what that sum reveals (the paper's honest-but-curious
// security theorem, section 6). This holds against the server colluding with up
// to t−1 clients; a coalition of t or more clients together with the server can
// unmask individual inputs. Note that
// colluding clients can always subtract their own inputs from the released sum,
// so with |U3| = t and t−1 colluders the sum is the remaining client's input:
// the differential-privacy noise, not secure aggregation, protects against that.
//
// Beyond the semi-honest model, the implementation adds: (1) a client answers
// the unmask request at most once and [Params.Validate] requires 2t > n, so a
// server that equivocates on the survivor list cannot collect both b_u and
// s_u^SK of one client unless at least 2t−n clients collude with it (honest
// clients each reveal one of the two secrets, and each secret needs t shares);
// (2) optional signed key advertisements (no key substitution by the relay).
// Not covered: the paper's round-3 consistency check and full malicious
// security; malicious clients, which can bias or corrupt the sum (there are no
// range proofs — use the Prio3 alternative of the design for that); and message
// authentication between a client and the server, which is the transport's job
// (mTLS / NATS credentials): the server trusts the sender id in a message.
//
// # Dropouts
//
// Up to n−t clients may drop at any point after advertising keys. A client that
// drops before its ShareKeys is accepted is not in U2: nobody masks against it.
// A client that drops after ShareKeys but before its MaskedInput is accepted is
// in U2 \ U3: its input is not in the sum and the server removes the survivors'
// pairwise masks towards it from its reconstructed s_u^SK. A client whose
// MaskedInput was accepted (it is in U3) is counted in the sum even if it drops
// afterwards (as in the paper): its self mask b_u is rebuilt from the others'
// shares. If fewer than t clients remain at any Close, or fewer than t answer
// the unmask request, the round aborts and releases nothing. A client's
// MaskedInput and UnmaskShares are one-shot: calling again returns
// [ErrWrongPhase] (re-send the same bytes on a transport retry), because two
// different masked inputs under the same masks would reveal their difference.
//
// # Differential privacy
//
// Noise must be added before masking, or the aggregator would see the exact
// sum. [WithNoise] takes a per-coordinate source of int64 noise; the client adds
// one draw to each coordinate of x_u before masking, so the released total is
// Σ_{u∈U3} x_u + Σ_{u∈U3} noise_u and the aggregator never sees the noiseless
// sum. A failing source fails closed (no message, [ErrNoise]).
//
// The default, and the recommended calibration, is conservative: every
// client's source draws full-scale noise, i.e. noise that alone meets the
// target ε for the sum (e.g. discrete Laplace with scale Δ/ε from the dpnoise
// package). The guarantee then holds as long as one honest client survives,
// regardless of dropouts and of colluders who subtract their own noise; the
// price is |U3| times the variance of a single release. A cheaper calibration,
// each client adding 1/t of the target variance from an infinitely divisible
// distribution (discrete Gaussian approximately, Skellam or Pólya differences
// exactly), meets the target only if at least t honest clients survive and
// loses noise with every dropout or colluder; it is the caller's choice and must
// then be declared in the audit manifest. Noise is drawn only when a masked
// input is built, so a client that drops earlier contributes no noise and none
// is lost. [Result].NoiseContributors counts the survivors that declared noise.
package secagg
