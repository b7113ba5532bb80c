// Package auth_test proves the shared secret end to end with the real
// images: a cluster started with SPARK_AUTH_SECRET takes a driver that has
// the secret and refuses one that does not; every web UI (master, worker,
// the Connect server's driver, the history server, and the workers' and
// the driver's pages through the master's proxy) answers 403 without a
// token signed with the key derived from the secret and 200 with one; the
// master's page has no kill links; and neither the secret nor the UI key
// shows in a log line, explain output or process's command line.
package auth_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/uitoken"
	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func TestSharedSecret(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "auth")
	prefix := e2e.Name("auth")
	res := e2e.NewResources(t, prefix)
	secret := "s3cr3t-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)

	master, worker := prefix+"-spark-master", prefix+"-worker"
	res.Container(master)
	res.Container(worker)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "--hostname", "spark-master",
		"-e", "SPARK_AUTH_SECRET="+secret, "-e", "ENTRYPOINT_UI_PROXY=on", "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080",
		"--stop-timeout", "10", "snufkin/spark-master")
	// A password a user put among the java options (an unused SSL setting
	// here): the JVM's command line holds it, as the user asked, but no log
	// line or explain may.
	optSecret := "opt-" + secret
	e2e.Run(t, "docker", "run", "-d", "--name", worker, "--link", master+":spark-master",
		"-e", "SPARK_AUTH_SECRET="+secret, "-e", "SPARK_RPC_ENCRYPTION=true", "-e", "ENTRYPOINT_UI_PROXY=on",
		"-e", "SPARK_WORKER_OPTS=-Dspark.ssl.keyStorePassword="+optSecret, "-p", "127.0.0.1::8081",
		"--stop-timeout", "10", "snufkin/spark-worker")

	// The worker registers only if the master accepts its authentication;
	// its UI, as every one here, wants a token.
	uiToken := e2e.UIToken(t, master)
	state, took := e2e.WaitAliveWith(t, e2e.Published(t, master, "8080/tcp"), uiToken, 1, 3*time.Minute)
	m.Set("alive", strconv.Itoa(state.Alive())+"/1")
	if state.Alive() != 1 {
		t.Fatalf("authenticated worker not ALIVE after %s", took)
	}
	masterURL := "spark://127.0.0.1:" + e2e.Published(t, master, "7077/tcp")
	gw := e2e.Gateway(t, master)

	t.Setenv("SPARK_AUTH_SECRET", secret)
	t.Setenv("SPARK_RPC_ENCRYPTION", "true")
	ok, _ := e2e.Job(t, masterURL, gw, 1)
	m.OK("job", ok)

	// The Connect server on the same cluster: it talks to it with the
	// secret and takes only clients with its token, given as a mounted
	// file (a Kubernetes or ECS secret).
	connect, history, events := prefix+"-connect", prefix+"-history", prefix+"-events"
	token := "tok-" + secret
	tokenFile := filepath.Join(t.TempDir(), "connect-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res.Container(connect)
	res.Container(history)
	res.Volume(events)
	e2e.Run(t, "docker", "run", "-d", "--name", connect, "--link", master+":spark-master",
		"-e", "SPARK_AUTH_SECRET="+secret, "-e", "SPARK_RPC_ENCRYPTION=true", "-e", "ENTRYPOINT_UI_PROXY=on",
		"-v", tokenFile+":/run/secrets/connect-token:ro", "-e", "SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE=/run/secrets/connect-token",
		"-v", events+":/var/lib/spark/events", "-p", "127.0.0.1::"+e2e.ConnectPort, "-p", "127.0.0.1::4040",
		"--stop-timeout", "10", "snufkin/spark-worker", "connect")
	e2e.Run(t, "docker", "run", "-d", "--name", history, "-e", "SPARK_AUTH_SECRET="+secret,
		"-v", events+":/var/lib/spark/events", "-p", "127.0.0.1::18080", "--stop-timeout", "10", "snufkin/spark-master", "history")
	os.Unsetenv("SPARK_AUTH_SECRET")
	os.Unsetenv("SPARK_RPC_ENCRYPTION")
	if e2e.WaitConnectReady(t, connect, 3*time.Minute) {
		// pyspark's client sends a token in plain text to localhost only.
		remote := "sc://localhost:" + e2e.Published(t, connect, e2e.ConnectPort+"/tcp")
		ok, _ := e2e.ConnectJob(t, remote, token, 1)
		m.OK("connect", ok)
		out, err := e2e.TryEnv(os.Environ(), e2e.ClientPython(t), filepath.Join(e2e.Root, "scripts", "connectjob.py"), "--remote", remote, "--workers", "1")
		refused := err != nil && strings.Contains(out, "UNAUTHENTICATED") && !strings.Contains(out, "connect: result=")
		m.OK("no-token-refused", refused)
		if !refused {
			t.Errorf("a Connect client without the token was not refused (%v):\n%s", err, out)
		}
		checkUIs(t, m, master, worker, connect, history, token)
	} else {
		m.OK("connect", false)
	}

	port := e2e.FreePortPair(t)
	out, err := e2e.TryEnv(e2e.DriverEnv(), e2e.Python(t), filepath.Join(e2e.Root, "scripts", "sparkjob.py"),
		"--master", masterURL, "--driver-host", gw, "--executors", "1", "--driver-port", strconv.Itoa(port), "--wait", "30")
	refused := err != nil && !strings.Contains(out, "job: OK")
	m.OK("no-secret-refused", refused)
	if !refused {
		t.Errorf("a driver without the secret was not refused (%v):\n%s", err, out)
	}

	uiKey := uitoken.Encode(uitoken.Derive(secret))
	leaked := false
	for c, role := range map[string]string{master: "master", worker: "worker", connect: "connect", history: "history"} {
		exposed := e2e.Exposures(c, role)
		for what, text := range exposed {
			// The token holds the secret: one check finds either.
			if strings.Contains(strings.ReplaceAll(text, optSecret, ""), secret) {
				leaked = true
				t.Errorf("%s: the secret or the connect token is in the %s", c, what)
			}
			if strings.Contains(text, uiKey) {
				leaked = true
				t.Errorf("%s: the UI key is in the %s", c, what)
			}
		}
		for what, text := range map[string]string{"logs": exposed["logs"], "explain": exposed["explain"]} {
			if strings.Contains(text, optSecret) {
				leaked = true
				t.Errorf("%s: the password from SPARK_WORKER_OPTS is in the %s", c, what)
			}
		}
		if !strings.Contains(exposed["explain"], `"authenticate": true`) {
			t.Errorf("%s: explain does not say authentication is on:\n%s", c, exposed["explain"])
		}
	}
	m.OK("secret-hidden", !leaked)

	e2e.Run(t, "docker", "stop", "-t", "10", history, connect, worker, master)
	m.OK("stop", e2e.ExitCodes(t, []string{history, connect, worker, master}))
}

// checkUIs asks every UI of the cluster, directly and through the master's
// proxy, with and without a token, and looks for kill links on the
// master's page, which lists the Connect server's application.
func checkUIs(t *testing.T, m *e2e.Matrix, master, worker, connect, history, token string) {
	t.Helper()
	uiToken := e2e.UIToken(t, master)
	// A token of another cluster: the same entrypoint, another secret.
	other := strings.TrimSpace(e2e.Run(t, "docker", "run", "--rm", "-e", "SPARK_AUTH_SECRET=another-"+token, "snufkin/spark-master", "ui-token", "30m"))
	masterUI := e2e.Published(t, master, "8080/tcp")
	state, err := e2e.GetMasterStateWith(masterUI, uiToken)
	if err != nil || len(state.Workers) != 1 || len(state.ActiveApps) != 1 {
		t.Errorf("master state with a token: %v (%+v)", err, state)
		m.OK("ui-auth", false)
		return
	}
	local := func(c, port, path string) string {
		return "http://127.0.0.1:" + e2e.Published(t, c, port+"/tcp") + path
	}
	urls := map[string]string{
		"master":                            local(master, "8080", "/json/"),
		"worker":                            local(worker, "8081", "/json/"),
		"connect driver":                    local(connect, "4040", "/api/v1/applications"),
		"history":                           local(history, "18080", "/api/v1/applications"),
		"worker through the master's proxy": local(master, "8080", "/proxy/"+state.Workers[0].ID+"/"),
		"driver through the master's proxy": local(master, "8080", "/proxy/"+state.ActiveApps[0].ID+"/"),
	}
	m.Set("ui-auth", e2e.CheckUIAuth(t, urls, uiToken, other))
	m.Set("ui-proxy", e2e.CheckUIProxyWith(t, masterUI, uiToken, []string{state.Workers[0].ID, state.ActiveApps[0].ID}))
	_, page, err := e2e.Fetch(local(master, "8080", "/"), uiToken)
	killFree := err == nil && strings.Contains(page, state.ActiveApps[0].ID) && !strings.Contains(page, "app/kill")
	m.OK("kill-links-off", killFree)
	if !killFree {
		t.Errorf("the master's page (%v) does not list the application, or has a kill link", err)
	}
}
