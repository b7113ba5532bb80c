package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// GetJSON reads url's JSON answer into v: a 200 within 10 seconds, whose
// body decodes, or an error naming url.
func GetJSON(url string, v any) error {
	return GetJSONWith(url, "", v)
}

// GetJSONWith is GetJSON with a bearer token for UIs behind Spark's
// JWSFilter ("": none).
func GetJSONWith(url, token string, v any) error {
	code, body, err := Fetch(url, token)
	if err != nil {
		return err
	}
	if code != http.StatusOK {
		return fmt.Errorf("%s: %d %s", url, code, http.StatusText(code))
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}

// Fetch GETs url within 10 seconds, with "Authorization: Bearer token"
// unless token is "", following redirects (which keep the header on the
// same host), and returns the status and up to 4 MiB of the body.
func Fetch(url, token string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(b), err
}
