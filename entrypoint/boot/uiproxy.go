package boot

import (
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// With Spark's reverse proxy (spark.ui.reverseProxy, set on the master,
// every worker and every driver) the master's UI relays the workers' and
// the applications' UIs under /proxy/<worker or application id>/, and
// every link in them points there: one published port is the whole UI,
// where otherwise the links name container addresses no browser outside
// the network can open. spark.ui.reverseProxyUrl, when the master's UI
// is itself behind a proxy, prefixes the links.
//
// It is off unless ENTRYPOINT_UI_PROXY says otherwise: Spark's
// documentation warns that the workers' and applications' UIs are then
// meant to be opened through the master only, which relays every page,
// while a plain `docker run` user reaches each UI directly. The
// artifacts, which publish only the master's UI, turn it on.

// uiProxyView is explain's "ui_proxy".
type uiProxyView struct {
	URL string `json:"url,omitempty"`
}

// planUIProxy puts a master's, a worker's or the Connect server's UI
// behind the master's proxy.
func planUIProxy(p *Plan, role sparkenv.Role, env []string, s settings.Settings) []string {
	if s.UIProxy == settings.UIProxyOff || s.UIProxy == "" {
		return env
	}
	if role != sparkenv.Master && role != sparkenv.Worker && role != sparkenv.Connect {
		return env
	}
	opts := optsOf(role)
	env = sparkenv.AddJavaOption(env, opts, "spark.ui.reverseProxy", "true")
	v := &uiProxyView{}
	if s.UIProxy != settings.UIProxyOn {
		env = sparkenv.AddJavaOption(env, opts, "spark.ui.reverseProxyUrl", s.UIProxy)
		v.URL = s.UIProxy
	}
	p.UIProxy = v
	return env
}
