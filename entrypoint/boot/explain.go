package boot

import (
	"context"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// explanation is explain's JSON document.
type explanation struct {
	Plan
	Master   *masterView `json:"master,omitempty"`
	Source   string      `json:"source,omitempty"`
	Etc      etcChanges  `json:"etc"`
	Warnings []string    `json:"warnings"`
	UID      int         `json:"uid"`
	Hostname string      `json:"hostname"`
	// ClassArchive is known only from the launcher's class path.
	ClassArchive *archiveView `json:"class_archive,omitempty"`
	// Runtime is read from the container (never in the golden tests,
	// whose machine has no launcher).
	Runtime  *runtimeView `json:"runtime,omitempty"`
	Settings struct {
		Discovery  string `json:"discovery"`
		MasterWait string `json:"master_wait"`
		Grace      string `json:"grace"`
		User       string `json:"user"`
		FixEtc     bool   `json:"fix_etc"`
	} `json:"settings"`
	Error string `json:"error,omitempty"`
}

// etcChanges are the exact lines start would add to and remove from the
// files (an unchanged file has neither).
type etcChanges struct {
	Hosts  lineDiff `json:"hosts"`
	Resolv lineDiff `json:"resolv_conf"`
}

type lineDiff struct {
	Add    []string `json:"add"`
	Remove []string `json:"remove"`
}

type archiveView struct {
	File string `json:"file"`
	Used bool   `json:"used"`
	Why  string `json:"why,omitempty"`
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
	return explainOn(role, s, systemMachine(systemInputs()), w)
}

// explainOn is explain for the container m describes.
func explainOn(role sparkenv.Role, s settings.Settings, m machine, w io.Writer) error {
	p, err := planOn(context.Background(), role, s, m, zerolog.Nop(), false)
	e := explanation{Plan: p, UID: m.euid}
	if p.Master != nil {
		e.Master = &masterView{URL: p.Master.URL, Source: p.Master.Source, Detail: p.Master.Detail}
		e.Source = p.Master.Source
	}
	e.Warnings = []string{}
	e.Etc = etcChanges{Hosts: lineDiff{Add: []string{}, Remove: []string{}}, Resolv: lineDiff{Add: []string{}, Remove: []string{}}}
	e.Warnings = append(e.Warnings, p.Warnings...)
	if err == nil {
		etc, warnings := etcPreview(p, s, m)
		e.Etc, e.Warnings = etc, append(e.Warnings, warnings...)
		// The launcher only prints the java command line, so asking it
		// changes nothing either.
		if m.launch == nil {
			e.Argv = sparkenv.Redact(e.Argv)
		} else if java, env, jerr := m.launch(p); jerr == nil {
			rt := readRuntime(env)
			e.Runtime = &rt
			java, why := withClassArchive(p, java, env)
			e.ClassArchive = &archiveView{File: p.ClassArchive, Used: why == "", Why: why}
			e.Argv = sparkenv.Redact(java)
		} else {
			e.Warnings = append(e.Warnings, "command is the spark-class form: spark's launcher failed: "+jerr.Error())
		}
	}
	e.Hostname = m.hostname
	e.Settings.Discovery, e.Settings.MasterWait, e.Settings.Grace = s.Discovery, s.MasterWait.String(), s.Grace.String()
	e.Settings.User, e.Settings.FixEtc = s.User, s.FixEtc
	if err != nil {
		e.Error = err.Error()
	}
	if e.Removed == nil {
		e.Removed = []sparkenv.Removal{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Details quote DNS answers such as "PTR a -> b".
	enc.SetEscapeHTML(false)
	if encErr := enc.Encode(e); encErr != nil {
		return encErr
	}
	return err
}

// etcPreview runs the same transforms as start on the files as m read
// them and reports the lines that would change, plus why they would not be
// written.
func etcPreview(p Plan, s settings.Settings, m machine) (etcChanges, []string) {
	c := etcChanges{Hosts: lineDiff{Add: []string{}, Remove: []string{}}, Resolv: lineDiff{Add: []string{}, Remove: []string{}}}
	warnings := []string{}
	if b := m.in.Hosts; len(p.Hosts) > 0 && b != nil {
		if out, err := addMissingHosts(b, p.Hosts); err == nil {
			c.Hosts = diffLines(b, out)
		}
	}
	if b := m.in.Resolv; p.Resolv != nil && b != nil {
		if out, err := etcfiles.RewriteResolv(b, *p.Resolv); err == nil {
			c.Resolv = diffLines(b, out)
		}
	}
	changes := len(c.Hosts.Add)+len(c.Hosts.Remove)+len(c.Resolv.Add)+len(c.Resolv.Remove) > 0
	switch {
	case changes && !s.FixEtc:
		warnings = append(warnings, "ENTRYPOINT_FIX_ETC=false: the /etc changes above will not be made")
	case changes && m.euid != 0:
		warnings = append(warnings, "not root: the /etc changes above will not be made")
	}
	uid := m.euid
	if p.Credential != nil {
		uid = int(p.Credential.Uid)
	}
	if !m.hasPasswd(uid) {
		warnings = append(warnings, "uid "+strconv.Itoa(uid)+" has no passwd entry: one will be provided through nss_wrapper or /etc/passwd if possible")
	}
	return c, warnings
}

// diffLines lists the lines of b that out lacks and those out adds, as sets:
// the transforms only append a block or comment lines out.
func diffLines(b, out []byte) lineDiff {
	d := lineDiff{Add: []string{}, Remove: []string{}}
	count := map[string]int{}
	for _, l := range strings.Split(string(b), "\n") {
		count[l]++
	}
	for _, l := range strings.Split(string(out), "\n") {
		if count[l] > 0 {
			count[l]--
			continue
		}
		d.Add = append(d.Add, l)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if count[l] > 0 {
			count[l]--
			d.Remove = append(d.Remove, l)
		}
	}
	return d
}
