package boot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// ErrNotReady is the answer of ready when the node is not (exit 1).
var ErrNotReady = errors.New("not ready")

// ready checks this container's node through the web UIs, as a health
// check or readiness probe would: a master is ready when its /json/ says
// ALIVE; a worker when its master lists it ALIVE (the worker's own masterurl
// stays set after a disconnect, so it proves nothing: JsonProtocol's worker state).
func ready(role sparkenv.Role, w io.Writer) error {
	env := os.Environ()
	c := uiClient(env, 3*time.Second)
	if role == "" {
		var err error
		if role, err = runningRole(); err != nil {
			return err
		}
	}
	switch role {
	case sparkenv.Connect:
		return readyConnect(env, c, w)
	case sparkenv.History:
		return readyHistory(env, c, w)
	case sparkenv.Master:
		url := "http://127.0.0.1:" + strconv.Itoa(sparkenv.IntOr(env, "SPARK_MASTER_WEBUI_PORT", 8080)) + "/json/"
		var m struct {
			Status       string `json:"status"`
			AliveWorkers int    `json:"aliveworkers"`
		}
		if err := getJSON(c, url, &m); err != nil {
			return err
		}
		if m.Status != "ALIVE" {
			return fmt.Errorf("%w: master status %q at %s", ErrNotReady, m.Status, url)
		}
		fmt.Fprintf(w, "master ALIVE with %d workers ALIVE\n", m.AliveWorkers)
		return nil
	case sparkenv.Worker:
		url := "http://127.0.0.1:" + strconv.Itoa(sparkenv.IntOr(env, "SPARK_WORKER_WEBUI_PORT", 8081)) + "/json/"
		var wk struct {
			ID        string `json:"id"`
			MasterUI  string `json:"masterwebuiurl"`
			MasterURL string `json:"masterurl"`
		}
		if err := getJSON(c, url, &wk); err != nil {
			return err
		}
		if wk.MasterUI == "" {
			return fmt.Errorf("%w: worker %s has not registered with a master yet", ErrNotReady, wk.ID)
		}
		var m struct {
			Workers []struct{ ID, State string } `json:"workers"`
		}
		err := getJSON(c, strings.TrimSuffix(wk.MasterUI, "/")+"/json/", &m)
		if alt := masterUIFromURL(wk.MasterURL, wk.MasterUI); err != nil && alt != "" {
			// The master advertises its UI under its own hostname, which
			// only resolves inside its pod on Kubernetes; the name the
			// worker dialled resolves here.
			err = getJSON(c, alt, &m)
		}
		if err != nil {
			return err
		}
		for _, mw := range m.Workers {
			if mw.ID == wk.ID {
				if mw.State != "ALIVE" {
					return fmt.Errorf("%w: master %s lists worker %s as %s", ErrNotReady, wk.MasterURL, wk.ID, mw.State)
				}
				fmt.Fprintf(w, "worker %s ALIVE at %s\n", wk.ID, wk.MasterURL)
				return nil
			}
		}
		return fmt.Errorf("%w: master %s does not list worker %s", ErrNotReady, wk.MasterURL, wk.ID)
	}
	return fmt.Errorf("%w: ready takes master, worker, connect or history, got %q", ErrUsage, role)
}

func getJSON(c *http.Client, url string, v any) error {
	resp, err := c.Get(url)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotReady, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s answered %s", ErrNotReady, url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrNotReady, url, err)
	}
	return nil
}

// masterUIFromURL is the master UI at the host of the worker's master URL,
// with the port of the advertised UI URL, or "" when that is no different.
func masterUIFromURL(masterURL, advertisedUI string) string {
	hostPort, ok := strings.CutPrefix(masterURL, "spark://")
	if !ok {
		return ""
	}
	host, _, err := net.SplitHostPort(strings.Split(hostPort, ",")[0])
	if err != nil {
		return ""
	}
	u, err := url.Parse(advertisedUI)
	if err != nil || u.Hostname() == host && u.Port() != "" {
		return ""
	}
	port := u.Port()
	if port == "" || u.Path != "" && u.Path != "/" {
		// spark.ui.reverseProxyUrl (ENTRYPOINT_UI_PROXY) in place of the
		// master's own UI URL: a front proxy's, which may not answer here.
		port = "8080"
	}
	return "http://" + net.JoinHostPort(host, port) + "/json/"
}

// runningRole is the role PID 1 runs when it is this entrypoint: what a
// HEALTHCHECK without a role checks, so that one image's health check fits
// each role it can run.
func runningRole() (sparkenv.Role, error) {
	b, err := os.ReadFile("/proc/1/cmdline")
	if err != nil {
		return "", fmt.Errorf("%w: ready without a role reads PID 1's command line: %v", ErrUsage, err)
	}
	args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	if len(args) >= 2 && filepath.Base(args[0]) == "entrypoint" && isRole(args[1]) {
		return sparkenv.Role(args[1]), nil
	}
	return "", fmt.Errorf("%w: PID 1 (%q) runs no role of this entrypoint: name one (ready master|worker|connect|history)", ErrUsage, strings.Join(args, " "))
}
