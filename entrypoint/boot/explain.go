package boot

import (
	"context"
	"encoding/json"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// explanation is explain's JSON document.
type explanation struct {
	Plan
	Master   *masterView `json:"master,omitempty"`
	UID      int         `json:"uid"`
	Hostname string      `json:"hostname"`
	Settings struct {
		Discovery  string `json:"discovery"`
		MasterWait string `json:"master_wait"`
		Grace      string `json:"grace"`
		User       string `json:"user"`
		FixEtc     bool   `json:"fix_etc"`
	} `json:"settings"`
	Error string `json:"error,omitempty"`
}

type masterView struct {
	URL    string   `json:"url"`
	Source string   `json:"source"`
	Detail []string `json:"detail,omitempty"`
}

// explain prints what startNode would do, without waiting for the master and
// without touching /etc or starting anything. A failed discovery is part of
// the answer, not a failure of explain, but it still exits non-zero.
func explain(role sparkenv.Role, s settings.Settings, w io.Writer) error {
	p, err := plan(context.Background(), role, s, systemInputs(), zerolog.Nop(), false)
	e := explanation{Plan: p, UID: os.Geteuid()}
	if p.Master != nil {
		e.Master = &masterView{URL: p.Master.URL, Source: p.Master.Source, Detail: p.Master.Detail}
	}
	e.Hostname, _ = os.Hostname()
	e.Settings.Discovery, e.Settings.MasterWait, e.Settings.Grace = s.Discovery, s.MasterWait.String(), s.Grace.String()
	e.Settings.User, e.Settings.FixEtc = s.User, s.FixEtc
	if err != nil {
		e.Error = err.Error()
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if encErr := enc.Encode(e); encErr != nil {
		return encErr
	}
	return err
}
