package e2e

// The master's reverse proxy as a browser outside sees it.

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// CheckUIProxy opens, through the master's published UI port only, every
// page named in ids (worker and application ids) under /proxy/ID/, and
// checks that the master's own page links each of them there. It returns
// the matrix value.
func CheckUIProxy(t *testing.T, uiPort string, ids []string) string {
	t.Helper()
	base := "http://127.0.0.1:" + uiPort
	c := http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string, error) {
		resp, err := c.Get(base + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		return resp.StatusCode, string(b), err
	}
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
