package discovery

import (
	"bufio"
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"
)

// fakeDNS is an authoritative-style DNS server on 127.0.0.1 (UDP and TCP
// on the same port) answering from a fixed record set.
type fakeDNS struct {
	addr     string
	records  []dns.RR
	truncate bool // answer UDP queries with TC set and no records

	udpQueries, tcpQueries atomic.Int64
	mu                     sync.Mutex
	questions              []string // "udp A spark-master.", in order
}

// startDNS starts a fakeDNS for the test and returns its address.
func startDNS(t *testing.T, records []dns.RR, truncate bool) string {
	t.Helper()
	return newFakeDNS(t, records, truncate).addr
}

func newFakeDNS(t *testing.T, records []dns.RR, truncate bool) *fakeDNS {
	t.Helper()
	f := &fakeDNS{records: records, truncate: truncate}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 {
		var err error
		pc, err = net.ListenPacket("udp", "127.0.0.1:0")
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
	f.addr = pc.LocalAddr().String()
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

func (f *fakeDNS) serve(w dns.ResponseWriter, req *dns.Msg) {
	_, isUDP := w.RemoteAddr().(*net.UDPAddr)
	if isUDP {
		f.udpQueries.Add(1)
	} else {
		f.tcpQueries.Add(1)
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

func (f *fakeDNS) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.questions...)
}

// parseZone parses one resource record per line ("name ttl IN type data",
// absolute names); blank lines and ; comments are skipped.
func parseZone(t *testing.T, b []byte) []dns.RR {
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

func mustRRs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	return parseZone(t, []byte(strings.Join(lines, "\n")))
}

// newECSServer serves a fake ECS task metadata endpoint v4 from dir:
// GET /v4/<id> → container.json, GET /v4/<id>/task → task.json. A file
// "status" holding an HTTP status code makes every request fail with it.
func newECSServer(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, err := os.ReadFile(filepath.Join(dir, "status")); err == nil {
			code := 500
			if n, ok := parsePort(strings.TrimSpace(string(b))); ok {
				code = n
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
