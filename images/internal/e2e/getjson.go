package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// GetJSON reads url's JSON answer into v: a 200 within 5 seconds, whose
// body decodes, or an error naming url.
func GetJSON(url string, v any) error {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", url, err)
	}
	return nil
}
