// Package discovery finds the Spark standalone master a worker should
// register with, on every platform the images run on.
//
// Each source is a pure function of [Inputs]: the process environment, the
// contents of /etc/hosts and /etc/resolv.conf, an HTTP client for the ECS
// task metadata endpoint and an optional DNS server override. The package
// reads no files and no environment by itself (except the ECS container
// metadata file, through [Inputs.ReadFile]), so every source can be tested
// with fixtures and loopback servers.
//
// Sources, in the order [Find] tries them when asked for "auto" (see
// [Sources]):
//
//	static          SPARK_MASTER_URL=spark://host:port[,host2:port2]
//	cloudmap        SPARK_MASTER_SRV=<name>: SRV lookup (ECS service discovery / AWS Cloud Map)
//	kubernetes-env  <SVC>_SERVICE_HOST + <SVC>_SERVICE_PORT_<name> / _SERVICE_PORT injected by the kubelet
//	ambassador      a Docker link to an ambassador container (<ALIAS>_ENV_<ALIAS>_PORT_<n>_TCP passthrough)
//	docker-links    Docker legacy link env vars and the link line in /etc/hosts
//	ecs             a master container in this ECS task (task metadata endpoint v4)
//	cluster-dns     the Service name through Kubernetes cluster DNS (SRV for the port, else A/AAAA)
//	swarm           tasks.<service> through Docker's embedded DNS (Swarm mode)
//	docker-dns      the service name through Docker's embedded DNS at 127.0.0.11
//
// Explicit settings come first, then sources that need no network (frozen
// environment variables), then the ones that query a server. Sources are
// written so that at most one of them matches a given platform: the
// kubelet's Docker-compatible variables are recognised by their
// <SVC>_SERVICE_HOST companion, Docker links by <ALIAS>_NAME, Swarm by a
// tasks.<service> answer.
//
// The URL a source returns prefers names over IP addresses wherever a name
// exists that the platform keeps current (the Docker link alias in
// /etc/hosts, the Service FQDN, the Swarm tasks name). Spark stores master
// URLs unresolved and re-resolves them on every new connection, so a name
// survives a master restart with a new address; an IP does not.
//
// Errors: a source that has nothing returns an error wrapping [ErrNotFound]
// that says what it looked at; malformed input returns an error wrapping
// [ErrInvalid] that names the variable and its value. The main program maps
// ErrInvalid to exit status 64 (EX_USAGE) and retries ErrNotFound with
// [Wait].
package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"
)

// Master is what a source found.
type Master struct {
	// URL is the master URL exactly as the worker should be given it:
	// spark://host:port, or spark://a:port,b:port for standby masters.
	URL string
	// Source is the name of the source that found it, one of [Sources].
	Source string
	// Detail lists the human-readable facts the source used, such as
	// "SPARK_MASTER_PORT_7077_TCP_ADDR=172.17.0.2". It never holds secrets.
	Detail []string
}

// Inputs are everything a source may read; each source is a pure function
// of them (and of what the DNS and HTTP servers they name answer).
type Inputs struct {
	// Env is the process environment.
	Env map[string]string
	// Hosts is the content of /etc/hosts.
	Hosts []byte
	// Resolv is the content of /etc/resolv.conf.
	Resolv []byte
	// Service is the master's service name (setting SPARK_MASTER_SERVICE);
	// empty means "spark-master". It is a DNS name; environment-variable
	// sources use its first label, upper-cased with "-" turned into "_".
	Service string
	// Port is the master's RPC port; 0 means 7077.
	Port int
	// HTTP is the client for the ECS task metadata endpoint; nil means a
	// client with a 2 s timeout.
	HTTP *http.Client
	// DNSServer optionally overrides the DNS server ("host:port") that the
	// DNS sources query; otherwise it comes from Resolv or, for
	// cluster-dns, from KUBE_DNS_SERVICE_HOST/KUBE_DNS_SERVICE_PORT.
	DNSServer string
	// ReadFile reads the ECS container metadata file named by
	// ECS_CONTAINER_METADATA_FILE; nil means os.ReadFile.
	ReadFile func(name string) ([]byte, error)
}

// ErrNotFound means a source had nothing; errors wrapping it say what was
// tried. Wait retries it.
var ErrNotFound = errors.New("master not found")

// ErrInvalid means malformed input, such as SPARK_MASTER_URL=foo; errors
// wrapping it name the variable and the value. Retrying does not help.
var ErrInvalid = errors.New("invalid setting")

// Defaults for the fields of Inputs.
const (
	DefaultService = "spark-master"
	DefaultPort    = 7077
)

// Source names, as used in Master.Source and accepted by Find.
const (
	SourceStatic        = "static"
	SourceCloudMap      = "cloudmap"
	SourceKubernetesEnv = "kubernetes-env"
	SourceAmbassador    = "ambassador"
	SourceDockerLinks   = "docker-links"
	SourceECS           = "ecs"
	SourceClusterDNS    = "cluster-dns"
	SourceSwarm         = "swarm"
	SourceDockerDNS     = "docker-dns"
)

type sourceFunc func(ctx context.Context, in Inputs) (Master, error)

// sources is the auto order; see the package documentation for why.
var sources = []struct {
	name string
	find sourceFunc
}{
	{SourceStatic, findStatic},
	{SourceCloudMap, findCloudMap},
	{SourceKubernetesEnv, findKubernetesEnv},
	{SourceAmbassador, findAmbassador},
	{SourceDockerLinks, findDockerLinks},
	{SourceECS, findECS},
	{SourceClusterDNS, findClusterDNS},
	{SourceSwarm, findSwarm},
	{SourceDockerDNS, findDockerDNS},
}

// Sources lists the source names in the documented auto order.
func Sources() []string {
	names := make([]string, len(sources))
	for i, s := range sources {
		names[i] = s.name
	}
	return names
}

func lookupSource(name string) (sourceFunc, bool) {
	for _, s := range sources {
		if s.name == name {
			return s.find, true
		}
	}
	return nil, false
}

// NotFoundError is returned by Find when no source found a master. It
// lists what each source tried, and matches ErrNotFound with errors.Is.
type NotFoundError struct {
	Tried []SourceError
}

// SourceError is the reason one source came up empty.
type SourceError struct {
	Source string
	Err    error
}

func (e *NotFoundError) Error() string {
	var b strings.Builder
	b.WriteString(ErrNotFound.Error())
	for i, t := range e.Tried {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(t.Source)
		b.WriteString(": ")
		b.WriteString(strings.TrimPrefix(t.Err.Error(), ErrNotFound.Error()+": "))
	}
	return b.String()
}

// Unwrap returns ErrNotFound and every source's error, so errors.Is also
// sees, e.g., context.DeadlineExceeded from a DNS query.
func (e *NotFoundError) Unwrap() []error {
	errs := []error{ErrNotFound}
	for _, t := range e.Tried {
		errs = append(errs, t.Err)
	}
	return errs
}

// Find tries the named sources in order once and returns the first master
// found. "auto" stands for all of [Sources] in their order; nil, empty
// names and a list of only empty names mean "auto"; names are trimmed and
// duplicates dropped, so "static, auto" tries static first, then the rest. An unknown
// source name, or a source reporting malformed input, stops the search with
// an error wrapping ErrInvalid; otherwise, when nothing is found, the
// *NotFoundError lists what each source tried.
func Find(ctx context.Context, in Inputs, names []string) (Master, error) {
	names, err := expandSources(names)
	if err != nil {
		return Master{}, err
	}
	in = in.withDefaults()
	if err := in.validate(); err != nil {
		return Master{}, err
	}
	nf := &NotFoundError{}
	for _, name := range names {
		if err := ctx.Err(); err != nil {
			return Master{}, fmt.Errorf("find master: %w", err)
		}
		find, _ := lookupSource(name)
		m, err := find(ctx, in)
		if err == nil {
			m.Source = name
			return m, nil
		}
		if errors.Is(err, ErrInvalid) {
			return Master{}, fmt.Errorf("%s: %w", name, err)
		}
		nf.Tried = append(nf.Tried, SourceError{Source: name, Err: err})
	}
	return Master{}, nf
}

// UnknownSourceError names a discovery source that does not exist; it
// wraps ErrInvalid. Its text is the reason only, so that the caller can
// name the setting the list came from.
type UnknownSourceError struct{ Name string }

func (e *UnknownSourceError) Error() string {
	return fmt.Sprintf("unknown discovery source %q (known: auto, %s)", e.Name, strings.Join(Sources(), ", "))
}

func (e *UnknownSourceError) Unwrap() error { return ErrInvalid }

// CheckSources reports an unknown name in names (an *UnknownSourceError),
// as Find and Wait would, without looking for anything.
func CheckSources(names []string) error {
	_, err := expandSources(names)
	return err
}

func expandSources(names []string) ([]string, error) {
	var out []string
	add := func(n string) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, n := range names {
		switch n = strings.TrimSpace(n); n {
		case "":
		case "auto":
			for _, s := range sources {
				add(s.name)
			}
		default:
			if _, ok := lookupSource(n); !ok {
				return nil, &UnknownSourceError{Name: n}
			}
			add(n)
		}
	}
	if len(out) == 0 {
		return Sources(), nil
	}
	return out, nil
}

func (in Inputs) withDefaults() Inputs {
	if in.Env == nil {
		in.Env = map[string]string{}
	}
	if in.Service == "" {
		in.Service = DefaultService
	}
	if in.Port == 0 {
		in.Port = DefaultPort
	}
	if in.HTTP == nil {
		in.HTTP = &http.Client{Timeout: 2 * time.Second}
	}
	if in.ReadFile == nil {
		in.ReadFile = os.ReadFile
	}
	return in
}

func (in Inputs) validate() error {
	if !validHostname(in.Service) || strings.HasSuffix(in.Service, ".") {
		return fmt.Errorf("%w: SPARK_MASTER_SERVICE=%q: want a DNS name such as spark-master", ErrInvalid, in.Service)
	}
	if in.Port < 1 || in.Port > 65535 {
		return fmt.Errorf("%w: master port %d: want 1..65535", ErrInvalid, in.Port)
	}
	return nil
}

// envPrefix is the variable prefix that Kubernetes and Docker derive from
// the service (or link alias) name: its first label, upper-cased, with
// "-" replaced by "_" (kubelet envvars.go, moby links.go).
func (in Inputs) envPrefix() string {
	name, _, _ := strings.Cut(in.Service, ".")
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// notFound returns an error wrapping ErrNotFound.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrNotFound, fmt.Sprintf(format, args...))
}

// invalid returns an error wrapping ErrInvalid that names variable and value.
func invalid(variable, value, want string) error {
	return fmt.Errorf("%w: %s=%q: %s", ErrInvalid, variable, value, want)
}
