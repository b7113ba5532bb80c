package boot

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// errAppUnknown: an ALIVE master does not list the server's application.
// Its text is ErrNotReady's; the message that wraps it says the rest.
var errAppUnknown = fmt.Errorf("%w", ErrNotReady)

// readyConnect: the server is ready when its gRPC port accepts and the
// master lists its application RUNNING. The driver's own REST API (its UI,
// spark.ui.port, default 4040) names the application and the master it
// registered with; the master's /json/ says whether it runs there.
func readyConnect(env []string, c *http.Client, w io.Writer) error {
	port, err := sparkenv.ConnectPort(env)
	if err != nil {
		return err
	}
	grpc := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conn, err := net.DialTimeout("tcp", grpc, 2*time.Second)
	if err != nil {
		return fmt.Errorf("%w: the connect port %s does not accept: %v", ErrNotReady, grpc, err)
	}
	conn.Close()
	ui := "http://127.0.0.1:" + strconv.Itoa(javaIntOr(env, sparkenv.ConnectOpts, "spark.ui.port", 4040)) + "/api/v1/applications"
	var apps []struct {
		ID string `json:"id"`
	}
	if err := getJSON(c, ui, &apps); err != nil {
		return err
	}
	if len(apps) == 0 {
		return fmt.Errorf("%w: %s lists no application", ErrNotReady, ui)
	}
	id := apps[0].ID
	var environ struct {
		Spark [][]string `json:"sparkProperties"`
	}
	if err := getJSON(c, ui+"/"+url.PathEscape(id)+"/environment", &environ); err != nil {
		return err
	}
	masterURL := ""
	for _, kv := range environ.Spark {
		if len(kv) == 2 && kv[0] == "spark.master" {
			masterURL = kv[1]
		}
	}
	webui := strconv.Itoa(sparkenv.IntOr(env, "SPARK_MASTER_WEBUI_PORT", 8080))
	var last error
	for _, hp := range sparkenv.MasterAddrs(masterURL) {
		host, _, err := net.SplitHostPort(hp)
		if err != nil {
			continue
		}
		var m struct {
			Status string `json:"status"`
			Apps   []struct {
				ID, State string
			} `json:"activeapps"`
		}
		if last = getJSON(c, "http://"+net.JoinHostPort(host, webui)+"/json/", &m); last != nil {
			continue
		}
		if m.Status != "ALIVE" {
			// A standby master lists nothing; the active one is further on.
			last = fmt.Errorf("%w: master %s is %s", ErrNotReady, host, m.Status)
			continue
		}
		for _, a := range m.Apps {
			if a.ID == id {
				if a.State != "RUNNING" {
					return fmt.Errorf("%w: master %s lists application %s as %s", ErrNotReady, hp, id, a.State)
				}
				fmt.Fprintf(w, "connect server on port %d, application %s RUNNING at %s\n", port, id, hp)
				return nil
			}
		}
		return fmt.Errorf("%w: master %s does not list application %s", errAppUnknown, hp, id)
	}
	if last == nil {
		last = fmt.Errorf("%w: application %s names no master (spark.master=%q)", ErrNotReady, id, masterURL)
	}
	return last
}

// javaIntOr is the integer a *_OPTS variable gives -Dkey, or def.
func javaIntOr(env []string, name, key string, def int) int {
	if v, ok := sparkenv.JavaOption(env, name, key); ok {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
	}
	return def
}
