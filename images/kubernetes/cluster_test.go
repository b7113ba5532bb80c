package kubernetes_test

// The emulated cluster's network: kube-proxy's forwarding from the
// Services' ClusterIPs, and cluster DNS with a pod's resolv.conf.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// kubeProxy plays kube-proxy in its userspace mode: the test adds each
// ClusterIP to the network's bridge on the host, listens on the Service's
// ports there and forwards every connection to the same port of the
// current endpoint of its Service: the master pod, which a restart
// changes, or the Connect server's. Endpoints follow the pods' start, not
// their readiness, which the test checks itself. A connection ends on both
// sides when either side ends, so the master sees a worker's death and the
// workers see the master's.
type kubeProxy struct {
	mu   sync.Mutex
	pods map[string]string // by ClusterIP
}

// endpoint makes pod the endpoint of the Services at clusterIPs.
func (p *kubeProxy) endpoint(pod string, clusterIPs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ip := range clusterIPs {
		p.pods[ip] = pod
	}
}

func startKubeProxy(t *testing.T, network string, services map[string][]int) *kubeProxy {
	t.Helper()
	id := strings.TrimSpace(e2e.Run(t, "docker", "network", "inspect", "-f", "{{.Id}}", network))
	bridge := "br-" + id[:12]
	p := &kubeProxy{pods: map[string]string{}}
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	for clusterIP, ports := range services {
		if out, err := e2e.Try("ip", "addr", "add", clusterIP+"/32", "dev", bridge); err != nil {
			t.Skipf("kube-proxy: ip addr add %s dev %s: %v: %s (needs CAP_NET_ADMIN)", clusterIP, bridge, err, out)
		}
		t.Cleanup(func() { _, _ = e2e.Try("ip", "addr", "del", clusterIP+"/32", "dev", bridge) })
		for _, port := range ports {
			ln, err := net.Listen("tcp", net.JoinHostPort(clusterIP, fmt.Sprint(port)))
			if err != nil {
				t.Fatalf("kube-proxy on %s:%d: %v", clusterIP, port, err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						p.mu.Lock()
						pod := p.pods[clusterIP]
						p.mu.Unlock()
						// No endpoint, or a pod not listening yet: refused,
						// as kube-proxy rejects a Service without ready
						// endpoints.
						up, err := net.DialTimeout("tcp", net.JoinHostPort(pod, fmt.Sprint(port)), 2*time.Second)
						if err != nil {
							return
						}
						defer up.Close()
						track(c, true)
						track(up, true)
						defer track(c, false)
						defer track(up, false)
						done := make(chan struct{}, 2)
						go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
						go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
						<-done
					}()
				}
			}()
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			c.Close()
		}
	})
	return p
}

// clusterFirstResolv is the kubelet's ClusterFirst resolv.conf for a pod
// of namespace, with the cluster DNS at nameserver.
func clusterFirstResolv(nameserver string) string {
	return fmt.Sprintf("nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n",
		nameserver, namespace, clusterDomain, clusterDomain, clusterDomain)
}

// serveClusterDNS answers, on addr:53 (UDP and TCP), A records for hosts
// and the SRV records _<port>._tcp.<name> of named ports, as cluster DNS
// does for ClusterIP Services; NXDOMAIN for anything else (it forwards
// nothing). It returns the count of queries answered.
func serveClusterDNS(t *testing.T, addr string, hosts map[string]string, ports map[string]map[string]int) *atomic.Int64 {
	t.Helper()
	records := map[string][]dns.RR{}
	add := func(s string) {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("dns record %q: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	for name, ip := range hosts {
		add(fmt.Sprintf("%s. 5 IN A %s", name, ip))
		for pn, p := range ports[name] {
			add(fmt.Sprintf("_%s._tcp.%s. 5 IN SRV 0 100 %d %s.", pn, name, p, name))
		}
	}
	var n atomic.Int64
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		n.Add(1)
		msg := new(dns.Msg)
		msg.SetReply(r)
		msg.Authoritative = true
		if len(r.Question) != 1 {
			msg.Rcode = dns.RcodeFormatError
			_ = w.WriteMsg(msg)
			return
		}
		q := r.Question[0]
		rrs, known := records[strings.ToLower(q.Name)]
		if !known {
			msg.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				msg.Answer = append(msg.Answer, dns.Copy(rr))
				if srv, ok := rr.(*dns.SRV); ok {
					for _, a := range records[strings.ToLower(srv.Target)] {
						msg.Extra = append(msg.Extra, dns.Copy(a))
					}
				}
			}
		}
		_ = w.WriteMsg(msg)
	})
	hp := net.JoinHostPort(addr, "53")
	pc, err := net.ListenPacket("udp", hp)
	if errors.Is(err, syscall.EACCES) {
		t.Skipf("cluster DNS on %s: %v: port 53 needs root or CAP_NET_BIND_SERVICE", hp, err)
	}
	if err != nil {
		t.Fatalf("cluster DNS on %s: %v", hp, err)
	}
	ln, err := net.Listen("tcp", hp)
	if err != nil {
		pc.Close()
		t.Fatalf("cluster DNS on %s: %v", hp, err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: handler}
	tcp := &dns.Server{Listener: ln, Handler: handler}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	// Self-check over loopback routing to the gateway address.
	c := dns.Client{Timeout: 2 * time.Second}
	q := new(dns.Msg)
	for name := range hosts {
		q.SetQuestion(name+".", dns.TypeA)
		break
	}
	if r, _, err := c.Exchange(q, hp); err != nil || len(r.Answer) == 0 {
		t.Fatalf("cluster DNS self-check: %v %v", err, r)
	}
	return &n
}
