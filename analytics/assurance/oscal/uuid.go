package oscal

import (
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"strings"
)

// Namespace is the namespace of every uuid this package derives: the UUIDv5 of the URL
// https://sectwin.dev/ns/oscal in RFC 9562's URL namespace. It never changes, so a uuid can be
// re-derived from the names below by anyone.
const Namespace = "c978d47a-584a-516e-a6bb-0467a82b164d"

// namespaceURL is RFC 9562's namespace for names that are URLs.
const namespaceURL = "6ba7b811-9dad-11d1-80b4-00c04fd430c8"

// uuidBytes parses a canonical uuid string; it panics on anything else (it only parses the
// constants above).
func uuidBytes(s string) [16]byte {
	var u [16]byte
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("oscal: malformed uuid constant " + s)
	}
	copy(u[:], b)
	return u
}

var namespace = uuidBytes(Namespace)

// uuidV5 is RFC 9562's name-based UUID version 5: the first 16 bytes of SHA-1(namespace ‖ name)
// with the version (5) and variant (10) bits set.
func uuidV5(ns [16]byte, name string) string {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// newUUID derives the uuid of an OSCAL object of the given kind (such as "finding") from the
// stable ids that identify its subject. The name is the kind followed by each part as
// "/length:part", so that different part lists never give the same name.
func newUUID(kind string, parts ...string) string {
	var sb strings.Builder
	sb.WriteString("sectwin-oscal:")
	sb.WriteString(kind)
	for _, p := range parts {
		sb.WriteByte('/')
		sb.WriteString(strconv.Itoa(len(p)))
		sb.WriteByte(':')
		sb.WriteString(p)
	}
	return uuidV5(namespace, sb.String())
}
