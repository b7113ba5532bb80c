package discovery

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

const k8sResolv = "search spark.svc.cluster.local svc.cluster.local cluster.local ec2.internal\nnameserver 10.96.0.10\noptions ndots:5\n"

func TestClusterDNSTruncatedRetriesOverTCP(t *testing.T) {
	t.Parallel()
	f := discoverytest.StartDNS(t, mustRRs(t,
		"spark-master.spark.svc.cluster.local. 5 IN A 10.96.14.7",
		"_spark._tcp.spark-master.spark.svc.cluster.local. 5 IN SRV 0 100 7077 spark-master.spark.svc.cluster.local.",
	), true)
	in := Inputs{Resolv: []byte(k8sResolv), DNSServer: f.Addr}
	m, err := Find(context.Background(), in, []string{SourceClusterDNS})
	if err != nil {
		t.Fatalf("Find(cluster-dns, truncating server) error: %v", err)
	}
	if want := "spark://spark-master.spark.svc.cluster.local:7077"; m.URL != want {
		t.Errorf("Find(cluster-dns, truncating server) = %q, want %q", m.URL, want)
	}
	// A (answered over TCP) and SRV _spark (answered over TCP).
	if got := f.TCPQueries.Load(); got != 2 {
		t.Errorf("TCP queries = %d, want 2; log: %q", got, f.Log())
	}
}

func TestClusterDNSSearchOrder(t *testing.T) {
	t.Parallel()
	f := discoverytest.StartDNS(t, mustRRs(t, "spark-master.cluster.local. 5 IN AAAA fd00::7"), false)
	in := Inputs{Resolv: []byte(k8sResolv), DNSServer: f.Addr}
	m, err := Find(context.Background(), in, []string{SourceClusterDNS})
	if err != nil {
		t.Fatalf("Find(cluster-dns) error: %v", err)
	}
	if want := "spark://spark-master.cluster.local:7077"; m.URL != want {
		t.Errorf("Find(cluster-dns) = %q, want %q", m.URL, want)
	}
	want := []string{
		"udp A spark-master.spark.svc.cluster.local.",
		"udp A spark-master.svc.cluster.local.",
		"udp A spark-master.cluster.local.",
		"udp AAAA spark-master.cluster.local.",
		"udp SRV _spark._tcp.spark-master.cluster.local.",
		"udp SRV _rpc._tcp.spark-master.cluster.local.",
		"udp SRV _cluster._tcp.spark-master.cluster.local.",
		"udp SRV _master._tcp.spark-master.cluster.local.",
	}
	if got := f.Log(); !slices.Equal(got, want) {
		t.Errorf("questions:\n got %q\nwant %q", got, want)
	}
}

func TestNameListNdots(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		ndots int
		want  []string
	}{
		{"spark-master", 5, []string{"spark-master.a.", "spark-master.b.", "spark-master."}},
		{"spark-master", 0, []string{"spark-master.", "spark-master.a.", "spark-master.b."}},
		{"x.y", 1, []string{"x.y.", "x.y.a.", "x.y.b."}},
		{"x.y", 2, []string{"x.y.a.", "x.y.b.", "x.y."}},
		{"x.y.", 5, []string{"x.y."}},
	}
	for _, tt := range tests {
		r := resolver{search: []string{"a", "b"}, ndots: tt.ndots}
		if got := r.nameList(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("nameList(%q, ndots %d) = %q, want %q", tt.name, tt.ndots, got, tt.want)
		}
	}
}

func TestClusterDNSUnansweredServer(t *testing.T) {
	t.Parallel()
	// A UDP socket that never answers: the query must give up when the
	// context ends, not after the client's own timeout.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = Find(ctx, Inputs{Resolv: []byte(k8sResolv), DNSServer: pc.LocalAddr().String()}, []string{SourceClusterDNS})
	if err == nil || errors.Is(err, ErrInvalid) {
		t.Fatalf("Find(silent server) error = %v, want a retryable error", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Find(silent server) took %v, want about 100ms", d)
	}
}

func TestClusterDNSInvalidKubeDNS(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{
		{"KUBE_DNS_SERVICE_HOST": "kube-dns"},
		{"KUBE_DNS_SERVICE_HOST": "10.0.0.10", "KUBE_DNS_SERVICE_PORT": "udp://10.0.0.10:53"},
	} {
		_, err := Find(context.Background(), Inputs{Env: env}, []string{SourceClusterDNS})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Find(cluster-dns, env %v) error = %v, want ErrInvalid", env, err)
		}
	}
}

func TestKubeDNSResolv(t *testing.T) {
	t.Parallel()
	kubeDNS := map[string]string{"KUBE_DNS_SERVICE_HOST": "10.0.0.10", "KUBE_DNS_SERVICE_PORT": "53"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range kubeDNS {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name       string
		env        map[string]string
		resolv     string
		wantOK     bool
		wantNS     string
		wantSearch []string
	}{
		{"node resolv.conf", kubeDNS, "nameserver 169.254.169.254\nsearch c.proj.internal google.internal\n", true, "10.0.0.10",
			[]string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local", "c.proj.internal", "google.internal"}},
		{"no resolv.conf", kubeDNS, "", true, "10.0.0.10", []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}},
		{"namespace and domain", with(map[string]string{"POD_NAMESPACE": "kube-system", "CLUSTER_DOMAIN": "k8s.example."}), "nameserver 8.8.8.8\n", true, "10.0.0.10",
			[]string{"kube-system.svc.k8s.example", "svc.k8s.example", "k8s.example"}},
		{"dedup", kubeDNS, "nameserver 8.8.8.8\nsearch cluster.local\n", true, "10.0.0.10", []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}},
		{"already cluster first", kubeDNS, k8sResolv, false, "", nil},
		{"already has nameserver", kubeDNS, "nameserver 10.0.0.10\n", false, "", nil},
		{"no env", nil, "nameserver 8.8.8.8\n", false, "", nil},
		{"bad env", map[string]string{"KUBE_DNS_SERVICE_HOST": "x"}, "nameserver 8.8.8.8\n", false, "", nil},
		{"ipv6", map[string]string{"KUBE_DNS_SERVICE_HOST": "fd00::a"}, "nameserver 8.8.8.8\n", true, "fd00::a", []string{"default.svc.cluster.local", "svc.cluster.local", "cluster.local"}},
	}
	for _, tt := range tests {
		ns, search, ok := KubeDNSResolv(Inputs{Env: tt.env, Resolv: []byte(tt.resolv)})
		if ok != tt.wantOK || !slices.Equal(search, tt.wantSearch) || (tt.wantOK && ns != netip.MustParseAddr(tt.wantNS)) {
			t.Errorf("%s: KubeDNSResolv() = %v, %q, %v; want %s, %q, %v", tt.name, ns, search, ok, tt.wantNS, tt.wantSearch, tt.wantOK)
		}
	}
}
