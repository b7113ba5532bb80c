// Package uitoken makes the keys and the bearer tokens of Spark's
// org.apache.spark.ui.JWSFilter (Spark 4), the servlet filter that lets
// into a web UI only requests whose "Authorization: Bearer" header holds a
// JSON Web Signature (RFC 7515) made with the filter's key. The filter
// decodes its secretKey parameter as base64url and hands the bytes to
// jjwt's Keys.hmacShaKeyFor, which refuses fewer than 256 bits; a token is
// a compact JWS signed with HMAC-SHA256 (HS256, RFC 7518) whose claims may
// carry an expiry, which the filter of Spark 4.3 can require (its
// requireExpiration parameter).
package uitoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// MinKeyBytes is the shortest key the filter takes: HS256 needs a key at
// least as long as its hash (RFC 7518, section 3.2).
const MinKeyBytes = 32

// ErrKey means a key is not one the filter would take.
var ErrKey = errors.New("not a base64url key of at least 32 bytes")

// deriveLabel separates the key derived from a shared secret from any
// other use of that secret: the key opens the web UIs and no more, and it
// does not give the secret away.
const deriveLabel = "swarming-spark web ui key v1"

// ParseKey decodes a key given as base64url (RFC 4648, section 5), with or
// without padding.
func ParseKey(s string) ([]byte, error) {
	key, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(strings.TrimSpace(s), "="))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKey, err)
	}
	if len(key) < MinKeyBytes {
		return nil, fmt.Errorf("%w: %d bytes", ErrKey, len(key))
	}
	return key, nil
}

// Derive is the key of a cluster's UIs made from its shared secret
// (HMAC-SHA256 of a fixed label), so that every node, the health checks and
// the operator's `entrypoint ui-token` agree on it without another secret.
func Derive(secret string) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(deriveLabel))
	return m.Sum(nil)
}

// Encode is key as the filter's secretKey parameter: base64url without
// padding.
func Encode(key []byte) string {
	return base64.RawURLEncoding.EncodeToString(key)
}

// header is the protected header of every token: HS256, a JWT.
var header = []byte(`{"alg":"HS256","typ":"JWT"}`)

// Token is a compact JWS that the filter keyed with key accepts until
// now+ttl.
func Token(key []byte, now time.Time, ttl time.Duration) string {
	claims, _ := json.Marshal(struct {
		Sub string `json:"sub"`
		Iat int64  `json:"iat"`
		Exp int64  `json:"exp"`
	}{"entrypoint", now.Unix(), now.Add(ttl).Unix()})
	return sign(key, header, claims)
}

// sign is the compact serialization of payload under protected header,
// signed with HMAC-SHA256 (RFC 7515, sections 3.1 and 5.1).
func sign(key, protected, payload []byte) string {
	input := base64.RawURLEncoding.EncodeToString(protected) + "." + base64.RawURLEncoding.EncodeToString(payload)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Transport adds a fresh bearer token to every request that has no
// Authorization header yet, so the entrypoint's own calls (health checks,
// the drain's poll) pass the filter. A nil Key adds nothing.
type Transport struct {
	Key  []byte
	TTL  time.Duration // default one minute
	Base http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Key == nil || req.Header.Get("Authorization") != "" {
		return base.RoundTrip(req)
	}
	ttl := t.TTL
	if ttl <= 0 {
		ttl = time.Minute
	}
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+Token(t.Key, time.Now(), ttl))
	return base.RoundTrip(r)
}
