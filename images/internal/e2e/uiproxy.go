package e2e

// The master's reverse proxy as a browser outside sees it.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// CheckUIProxy opens, through the master's published UI port only, every
// page named in ids (worker and application ids) under /proxy/ID/, and
// checks that the master's own page links each of them there. It returns
// the matrix value.
func CheckUIProxy(t *testing.T, uiPort string, ids []string) string {
	t.Helper()
	return CheckUIProxyWith(t, uiPort, "", ids)
}

// CheckUIProxyWith is CheckUIProxy with a bearer token ("": none), which
// the master's proxy passes on to the workers and drivers.
func CheckUIProxyWith(t *testing.T, uiPort, token string, ids []string) string {
	t.Helper()
	get := func(path string) (int, string, error) { return Fetch("http://127.0.0.1:"+uiPort+path, token) }
	_, page, err := get("/")
	if err != nil {
		t.Errorf("master UI: %v", err)
		return "fail"
	}
	ok := true
	for _, id := range ids {
		if !strings.Contains(page, `href="/proxy/`+id) {
			ok = false
			t.Errorf("the master's page does not link %s through its proxy (/proxy/%s)", id, id)
		}
		// A driver's UI redirects to its jobs page; the client follows.
		code, body, err := get("/proxy/" + id + "/")
		if err != nil || code != http.StatusOK || !strings.Contains(body, "/proxy/"+id) {
			ok = false
			t.Errorf("GET /proxy/%s/ through the master: %d %v (its links through the proxy: %v)", id, code, err, strings.Contains(body, "/proxy/"+id))
		}
	}
	if !ok {
		return "fail"
	}
	return fmt.Sprintf("ok(%d-pages)", len(ids))
}
