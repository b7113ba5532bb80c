// Package discoverytest holds the fixtures the discovery tests and the
// entrypoint's explain tests share: a DNS server on loopback answering from
// a zone, a fake ECS task metadata endpoint, a free loopback port, and the loader of the
// testdata/<platform>/<case>/ directories. It must not import discovery,
// whose own tests use it.
package discoverytest

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// DNS is an authoritative-style DNS server on 127.0.0.1 (UDP and TCP on
// the same port) answering from a fixed record set.
type DNS struct {
	// Addr is host:port of the server.
	Addr     string
	records  []dns.RR
	truncate bool // answer UDP queries with TC set and no records

	UDPQueries, TCPQueries atomic.Int64
	mu                     sync.Mutex
	questions              []string // "udp A spark-master.", in order
}

// StartDNS starts a DNS server for the test, stopped at its end. With
// truncate, UDP answers that have records come back truncated and empty,
// so a client must retry over TCP.
func StartDNS(t testing.TB, records []dns.RR, truncate bool) *DNS {
	t.Helper()
	return StartDNSOn(t, "127.0.0.1:0", records, truncate)
}

// StartDNSOn is StartDNS on addr (host:port; port 0 picks one free for
// both UDP and TCP), e.g. the gateway of a docker network the test made,
// port 53, for containers whose --dns it is.
func StartDNSOn(t testing.TB, addr string, records []dns.RR, truncate bool) *DNS {
	t.Helper()
	f := &DNS{records: records, truncate: truncate}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("could not bind UDP and TCP on the same loopback port")
	}
	f.Addr = pc.LocalAddr().String()
	udp := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(f.serve)}
	tcp := &dns.Server{Listener: ln, Handler: dns.HandlerFunc(f.serve)}
	var started sync.WaitGroup
	started.Add(2)
	udp.NotifyStartedFunc = started.Done
	tcp.NotifyStartedFunc = started.Done
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	started.Wait()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return f
}

func (f *DNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	_, isUDP := w.RemoteAddr().(*net.UDPAddr)
	if isUDP {
		f.UDPQueries.Add(1)
	} else {
		f.TCPQueries.Add(1)
	}
	r := new(dns.Msg)
	r.SetReply(req)
	r.Authoritative = true
	if len(req.Question) != 1 {
		r.Rcode = dns.RcodeFormatError
		w.WriteMsg(r)
		return
	}
	q := req.Question[0]
	f.mu.Lock()
	proto := "tcp"
	if isUDP {
		proto = "udp"
	}
	f.questions = append(f.questions, proto+" "+dns.TypeToString[q.Qtype]+" "+strings.ToLower(q.Name))
	f.mu.Unlock()

	exists := false
	for _, rr := range f.records {
		h := rr.Header()
		if !strings.EqualFold(h.Name, q.Name) {
			continue
		}
		exists = true
		if h.Rrtype == q.Qtype || h.Rrtype == dns.TypeCNAME {
			r.Answer = append(r.Answer, dns.Copy(rr))
		}
	}
	// Like CoreDNS, add the addresses of SRV targets.
	for _, a := range r.Answer {
		if srv, ok := a.(*dns.SRV); ok {
			for _, rr := range f.records {
				h := rr.Header()
				if strings.EqualFold(h.Name, srv.Target) && (h.Rrtype == dns.TypeA || h.Rrtype == dns.TypeAAAA) {
					r.Extra = append(r.Extra, dns.Copy(rr))
				}
			}
		}
	}
	if !exists {
		r.Rcode = dns.RcodeNameError
	}
	if isUDP && f.truncate && len(r.Answer) > 0 {
		r.Answer, r.Extra = nil, nil
		r.Truncated = true
	}
	w.WriteMsg(r)
}

// Log returns the questions asked so far, as "udp A name.", in order.
func (f *DNS) Log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.questions...)
}

// ParseZone parses one resource record per line ("name ttl IN type data",
// absolute names); blank lines and ; comments are skipped.
func ParseZone(t testing.TB, b []byte) []dns.RR {
	t.Helper()
	var rrs []dns.RR
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("zone line %q: %v", line, err)
		}
		rrs = append(rrs, rr)
	}
	return rrs
}

// RRs parses records given one per argument, as ParseZone does.
func RRs(t testing.TB, lines ...string) []dns.RR {
	t.Helper()
	return ParseZone(t, []byte(strings.Join(lines, "\n")))
}

// ECSServer serves a fake ECS task metadata endpoint v4 from dir:
// GET /v4/<id> → container.json, GET /v4/<id>/task → task.json. A file
// "status" holding an HTTP status code makes every request fail with it.
func ECSServer(t testing.TB, dir string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
			code, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err != nil || code < 100 || code > 599 {
				code = 500
			}
			http.Error(w, "fake failure", code)
			return
		}
		parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
		var file string
		switch {
		case r.Method != http.MethodGet || len(parts) < 2 || parts[0] != "v4":
			http.NotFound(w, r)
			return
		case len(parts) == 2:
			file = "container.json"
		case len(parts) == 3 && parts[2] == "task":
			file = "task.json"
		default:
			http.NotFound(w, r)
			return
		}
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Case is one testdata/<platform>/<case>/ directory, loaded and served.
//
// A case directory may hold:
//
//	env         KEY=VALUE lines (# comments); "{{ECS}}" is replaced by the
//	            URL of a loopback server serving the case's ecs/ directory
//	hosts       /etc/hosts contents
//	resolv.conf /etc/resolv.conf contents
//	dns.zone    records a loopback DNS server answers (RFC 1035 zone lines,
//	            absolute names); every other question gets NXDOMAIN
//	args        "sources: a b", "service: name", "port: n", "dns: truncate",
//	            "role: master|worker" (explain only), "addrs: a b" (the
//	            container's own addresses, explain only)
//	ecs/        files served at /v4/<path>; metadata.json is the container
//	            metadata file (ECS_CONTAINER_METADATA_FILE={{ECSFILE}})
//
// The DNS server is the case's own loopback server, so no case can reach a
// real resolver, not even 127.0.0.11.
type Case struct {
	Dir     string
	Env     map[string]string
	Hosts   []byte
	Resolv  []byte
	Sources []string // from args "sources:"; nil = auto
	Service string   // from args "service:"
	Port    int      // from args "port:"
	Role    string   // from args "role:"
	Addrs   []string // from args "addrs:"
	// DNSServer is the loopback server answering dns.zone.
	DNSServer string
	// HTTP is the client for the ECS server; nil when the case has no ecs/.
	HTTP *http.Client
	// Scrub turns what changes from run to run (the servers' ports, the
	// case's absolute path) back into {{DNS}}, {{ECS}} and {{ECSFILE}}.
	Scrub *strings.Replacer
}

// Load reads dir and starts its servers for the test.
func Load(t testing.TB, dir string) Case {
	t.Helper()
	c := Case{Dir: dir, Env: map[string]string{}}
	truncate := false
	if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			v = strings.TrimSpace(v)
			switch strings.TrimSpace(k) {
			case "sources":
				c.Sources = strings.Fields(v)
			case "service":
				c.Service = v
			case "port":
				p, err := strconv.Atoi(v)
				if err != nil {
					t.Fatalf("args port %q: %v", v, err)
				}
				c.Port = p
			case "dns":
				truncate = v == "truncate"
			case "role":
				c.Role = v
			case "addrs":
				c.Addrs = strings.Fields(v)
			default:
				t.Fatalf("unknown args key %q", k)
			}
		}
	}
	c.Hosts = ReadOptional(t, filepath.Join(dir, "hosts"))
	c.Resolv = ReadOptional(t, filepath.Join(dir, "resolv.conf"))

	repl := strings.NewReplacer()
	ecsURL, ecsFile := "{{ECS}}", "{{ECSFILE}}"
	if fi, err := os.Stat(filepath.Join(dir, "ecs")); err == nil && fi.IsDir() {
		srv := ECSServer(t, filepath.Join(dir, "ecs"))
		ecsURL, ecsFile = srv.URL, filepath.Join(dir, "ecs", "metadata.json")
		repl = strings.NewReplacer("{{ECS}}", ecsURL, "{{ECSFILE}}", ecsFile)
		c.HTTP = srv.Client()
	}
	for k, v := range ParseEnv(t, ReadOptional(t, filepath.Join(dir, "env"))) {
		c.Env[k] = repl.Replace(v)
	}
	zone := ReadOptional(t, filepath.Join(dir, "dns.zone"))
	c.DNSServer = StartDNS(t, ParseZone(t, zone), truncate).Addr
	c.Scrub = strings.NewReplacer(c.DNSServer, "{{DNS}}", ecsURL, "{{ECS}}", ecsFile, "{{ECSFILE}}")
	return c
}

// ParseEnv parses KEY=VALUE lines; blank lines and # comments are skipped.
func ParseEnv(t testing.TB, b []byte) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("env line %q has no =", line)
		}
		env[k] = v
	}
	return env
}

// ReadOptional reads path; a missing file is empty.
func ReadOptional(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

// UnusedAddr returns a loopback host:port that nothing listens on, for the
// moment: a port to refuse connections, or one to listen on later.
func UnusedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// MasterPort is a loopback TCP listener standing in for a master's RPC
// port: it accepts and closes, which is all a dial check sees. It is
// closed when the test ends, or earlier by the caller for a master gone.
func MasterPort(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return ln
}
