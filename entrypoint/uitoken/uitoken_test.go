package uitoken

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The HS256 example of RFC 7515, appendix A.1: its key, its header and
// payload bytes (with their CRLFs), and the signature the RFC gives.
func TestSignRFC7515Example(t *testing.T) {
	key, err := ParseKey("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow")
	if err != nil {
		t.Fatal(err)
	}
	protected := []byte("{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}")
	payload := []byte("{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}")
	got := sign(key, protected, payload)
	want := "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" +
		".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
		".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	if got != want {
		t.Errorf("sign =\n%s\nwant\n%s", got, want)
	}
}

func TestParseKey(t *testing.T) {
	k32 := strings.Repeat("k", 32)
	for _, tc := range []struct {
		in   string
		want int // bytes; 0 = ErrKey
	}{
		{base64.RawURLEncoding.EncodeToString([]byte(k32)), 32},
		{base64.URLEncoding.EncodeToString([]byte(k32 + "x")), 33}, // padded
		{" " + Encode(Derive("s")) + "\n", 32},
		{base64.RawURLEncoding.EncodeToString([]byte(k32[:31])), 0}, // 248 bits
		{"", 0},
		{"not/base64url+", 0},
	} {
		key, err := ParseKey(tc.in)
		switch {
		case tc.want == 0 && !errors.Is(err, ErrKey):
			t.Errorf("ParseKey(%q) = %d bytes, %v; want ErrKey", tc.in, len(key), err)
		case tc.want != 0 && (err != nil || len(key) != tc.want):
			t.Errorf("ParseKey(%q) = %d bytes, %v; want %d", tc.in, len(key), err, tc.want)
		}
	}
}

func TestDerive(t *testing.T) {
	a, b := Derive("secret-a"), Derive("secret-b")
	if len(a) != MinKeyBytes || hmac.Equal(a, b) || !hmac.Equal(a, Derive("secret-a")) {
		t.Errorf("Derive: %x, %x: want 32 stable bytes per secret", a, b)
	}
	if strings.Contains(Encode(a), "secret-a") {
		t.Error("the derived key shows the secret")
	}
}

// verify checks a token as the filter does: three base64url parts, an
// HS256 signature over the first two, an expiry after now.
func verify(t *testing.T, key []byte, token string, now time.Time) error {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return errors.New("not three parts")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(sig, m.Sum(nil)) {
		return errors.New("bad signature")
	}
	var h struct{ Alg string }
	var c struct{ Exp int64 }
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || h.Alg != "HS256" || json.Unmarshal(cb, &c) != nil {
		return errors.New("bad header or claims")
	}
	if !now.Before(time.Unix(c.Exp, 0)) {
		return errors.New("expired")
	}
	return nil
}

func TestToken(t *testing.T) {
	key := Derive("s")
	now := time.Unix(1_800_000_000, 0)
	tok := Token(key, now, time.Hour)
	if err := verify(t, key, tok, now.Add(59*time.Minute)); err != nil {
		t.Errorf("fresh token: %v", err)
	}
	if err := verify(t, key, tok, now.Add(time.Hour)); err == nil {
		t.Error("token accepted at its expiry")
	}
	if err := verify(t, Derive("other"), tok, now); err == nil {
		t.Error("token accepted under another key")
	}
}

func TestTransport(t *testing.T) {
	key := Derive("s")
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	for _, tc := range []struct {
		key    []byte
		preset string
		check  func(string) bool
	}{
		{key, "", func(h string) bool {
			tok, ok := strings.CutPrefix(h, "Bearer ")
			return ok && verify(t, key, tok, time.Now()) == nil
		}},
		{key, "Bearer mine", func(h string) bool { return h == "Bearer mine" }},
		{nil, "", func(h string) bool { return h == "" }},
	} {
		got = nil
		c := &http.Client{Transport: &Transport{Key: tc.key}}
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		if tc.preset != "" {
			req.Header.Set("Authorization", tc.preset)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if len(got) != 1 || !tc.check(got[0]) {
			t.Errorf("key %v, preset %q: server saw %q", tc.key != nil, tc.preset, got)
		}
		if req.Header.Get("Authorization") != tc.preset {
			t.Error("the caller's request was changed")
		}
	}
}
