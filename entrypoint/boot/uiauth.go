package boot

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
	"github.com/snufkin/swarming-spark/entrypoint/uitoken"
)

// The web UIs answer anyone who reaches their ports, and the master's can
// kill applications and drivers, even when SPARK_AUTH_SECRET closes the
// RPC. Spark 4's JWSFilter (spark.ui.filters) lets in only requests that
// carry a token signed with its key: with a key, from SPARK_UI_KEY or
// derived from the shared secret, every UI the images start (master,
// workers, the Connect server's driver, the history server) gets the
// filter, so the master's reverse proxy, which passes the Authorization
// header on, needs one token for all of them. The key goes to the JVM in
// a properties file, never on its command line, and tokens carry an expiry
// the filter requires. Independently, the master's and the drivers' kill
// links (spark.ui.killEnabled) are off unless ENTRYPOINT_UI_KILL=true:
// whoever opens a UI reads it, and stopping work is the platform's or the
// driver's business.

const (
	jwsKeyKey        = "spark." + sparkenv.JWSFilter + ".param.secretKey"
	jwsRequireExpKey = "spark." + sparkenv.JWSFilter + ".param.requireExpiration"
	uiFiltersKey     = "spark.ui.filters"
	uiKillKey        = "spark.ui.killEnabled"
)

// uiAuthView is explain's "ui_auth".
type uiAuthView struct {
	Filter    string `json:"filter,omitempty"`
	Key       string `json:"key,omitempty"`        // where the key comes from, never the key
	KillLinks *bool  `json:"kill_links,omitempty"` // master and drivers only
	Open      string `json:"open,omitempty"`       // why the UIs stay open
}

// uiKeyOf is the UIs' key and where it comes from: SPARK_UI_KEY or
// SPARK_UI_KEY_FILE (base64url, at least 32 bytes), else one derived from
// the shared secret (SPARK_AUTH_SECRET or its file); nil without either.
// The returned env no longer holds SPARK_UI_KEY*: the JVMs get the key in
// their properties file. Errors name the variable, never the key.
func uiKeyOf(env []string) ([]byte, string, []string, error) {
	raw, err := secretSetting(env, "SPARK_UI_KEY")
	source := "SPARK_UI_KEY"
	if sparkenv.Get(env, "SPARK_UI_KEY_FILE") != "" {
		source = "SPARK_UI_KEY_FILE"
	}
	env = sparkenv.Unset(env, "SPARK_UI_KEY", "SPARK_UI_KEY_FILE")
	if err != nil {
		return nil, "", env, err
	}
	if raw != "" {
		key, err := uitoken.ParseKey(raw)
		if err != nil {
			return nil, "", env, fmt.Errorf("%w: %s: %w (openssl rand -base64 32 | tr '+/' '-_' makes one)", settings.ErrInvalid, source, err)
		}
		return key, source, env, nil
	}
	secret := sparkenv.Get(env, "_SPARK_AUTH_SECRET")
	if secret == "" {
		if secret, err = secretSetting(env, "SPARK_AUTH_SECRET"); err != nil || secret == "" {
			return nil, "", env, err
		}
	}
	return uitoken.Derive(secret), "derived from SPARK_AUTH_SECRET", env, nil
}

// uiClient is an HTTP client for the web UIs of this cluster: with the key
// env gives (see uiKeyOf), every request carries a fresh token.
func uiClient(env []string, timeout time.Duration) *http.Client {
	key, _, _, _ := uiKeyOf(env)
	return &http.Client{Timeout: timeout, Transport: &uitoken.Transport{Key: key}}
}

// planUIAuth puts role's UI behind the filter when there is a key, and
// turns kill links off unless asked. It returns the Spark settings that
// go to the JVM's properties file.
func planUIAuth(p *Plan, role sparkenv.Role, env []string, s settings.Settings, key []byte, source string) ([]string, []javaOption) {
	opts := optsOf(role)
	v := &uiAuthView{}
	p.UIAuth = v
	if role == sparkenv.Master || role == sparkenv.Connect {
		if !s.UIKill {
			env = sparkenv.AddJavaOption(env, opts, uiKillKey, "false")
		}
		val, _ := sparkenv.JavaOption(env, opts, uiKillKey)
		kill := val != "false"
		v.KillLinks = &kill
	}
	switch {
	case key == nil:
		v.Open = "no key: SPARK_UI_KEY, SPARK_UI_KEY_FILE and SPARK_AUTH_SECRET are unset"
		return env, nil
	case s.UIAuth == settings.UIAuthOff:
		v.Open = "ENTRYPOINT_UI_AUTH=off"
		return env, nil
	case sparkConfSets(env, uiFiltersKey, opts):
		v.Open = "the user's own " + uiFiltersKey
		return env, nil
	case !sparkenv.HasJWSFilter(sparkenv.Get(env, "SPARK_HOME")):
		v.Open = "this Spark has no " + sparkenv.JWSFilter + " (Spark 4 has)"
		p.Warnings = append(p.Warnings, "ui auth: "+v.Open+": the web UIs answer anyone who reaches their ports; publish none of them, or put an authenticating proxy in front")
		return env, nil
	}
	env = addJavaOptions(env, opts, []javaOption{{uiFiltersKey, sparkenv.JWSFilter}, {jwsRequireExpKey, "true"}})
	v.Filter, v.Key = sparkenv.JWSFilter, source
	return env, []javaOption{{jwsKeyKey, uitoken.Encode(key)}}
}

// sparkConfSets reports whether the user sets key for this JVM anywhere
// Spark would read it: the role's options variable (opts),
// SPARK_DAEMON_JAVA_OPTS, spark-defaults.conf or spark-env.sh.
func sparkConfSets(env []string, key string, opts ...string) bool {
	for _, name := range append(opts, "SPARK_DAEMON_JAVA_OPTS") {
		if strings.Contains(sparkenv.Get(env, name), key) {
			return true
		}
	}
	conf := sparkenv.ConfDir(env)
	for _, f := range []string{"spark-defaults.conf", "spark-env.sh"} {
		if b, err := os.ReadFile(filepath.Join(conf, f)); err == nil && strings.Contains(string(b), key) {
			return true
		}
	}
	return false
}

// checkUIAuth is doctor's word on who can use this node's web UI.
func checkUIAuth(role sparkenv.Role, s settings.Settings, env []string) finding {
	key, source, env, err := uiKeyOf(env)
	if err != nil {
		return finding{sevFail, "ui-auth", err.Error(), "give SPARK_UI_KEY the base64url of 32 random bytes, or unset it to derive one from SPARK_AUTH_SECRET"}
	}
	if _, ok := sparkenv.Lookup(env, "SPARK_HOME"); !ok {
		env = sparkenv.Set(env, "SPARK_HOME", "/opt/spark")
	}
	var p Plan
	planUIAuth(&p, role, env, s, key, source)
	switch v := p.UIAuth; {
	case v.Filter != "":
		return finding{sevOK, "ui-auth", "the web UI answers only requests with a token signed with the key (" + v.Key + "); entrypoint ui-token prints one", ""}
	case key != nil:
		return finding{sevWarn, "ui-auth", "a key is set but the web UI answers anyone who reaches it: " + v.Open,
			"use a Spark 4 image and leave ENTRYPOINT_UI_AUTH and spark.ui.filters unset, or publish no UI port"}
	}
	return finding{sevOK, "ui-auth", "the web UI answers anyone who reaches it (" + p.UIAuth.Open + "): keep its port on a trusted network", ""}
}

// uiTokenCommand prints a bearer token for the cluster's UIs, valid for the
// duration in args (default an hour): the header a browser extension, curl
// or a scraper sends, "Authorization: Bearer TOKEN".
func uiTokenCommand(args []string, env []string, stdout io.Writer) error {
	ttl := time.Hour
	switch {
	case len(args) > 1:
		return fmt.Errorf("%w: ui-token takes at most a duration (got %q)", ErrUsage, args)
	case len(args) == 1:
		d, err := time.ParseDuration(args[0])
		if err != nil || d <= 0 {
			return fmt.Errorf("%w: ui-token %q: want a positive duration such as 30m or 720h", ErrUsage, args[0])
		}
		ttl = d
	}
	key, _, _, err := uiKeyOf(env)
	if err != nil {
		return err
	}
	if key == nil {
		return fmt.Errorf("%w: ui-token: no key: set SPARK_UI_KEY, SPARK_UI_KEY_FILE or SPARK_AUTH_SECRET, as on the cluster", ErrUsage)
	}
	_, err = fmt.Fprintln(stdout, uitoken.Token(key, time.Now(), ttl))
	return err
}
