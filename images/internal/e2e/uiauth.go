package e2e

// The web UIs behind Spark's JWSFilter, as a client outside sees them.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// UIToken is a bearer token for the UIs of container's cluster, from the
// container's own `entrypoint ui-token`.
func UIToken(t *testing.T, container string) string {
	t.Helper()
	return strings.TrimSpace(Run(t, "docker", "exec", container, "/usr/local/bin/entrypoint", "ui-token", "30m"))
}

// CheckUIAuth asks each of urls (named by what it is) three times: with no
// token and with a token of another key it must answer 403, with token
// 200. It returns the matrix value.
func CheckUIAuth(t *testing.T, urls map[string]string, token, otherKeyToken string) string {
	t.Helper()
	ok := true
	for name, url := range urls {
		for _, c := range []struct {
			what, token string
			want        int
		}{{"no token", "", http.StatusForbidden}, {"another key's token", otherKeyToken, http.StatusForbidden}, {"the token", token, http.StatusOK}} {
			if code, _, err := Fetch(url, c.token); err != nil || code != c.want {
				ok = false
				t.Errorf("%s %s with %s: %d %v, want %d", name, url, c.what, code, err, c.want)
			}
		}
	}
	if !ok {
		return "fail"
	}
	return fmt.Sprintf("ok(%d-uis)", len(urls))
}
