package etcfiles

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

const resolvHeader = beginMarker + "\n" + resolvGenerated

func addrs(s ...string) []netip.Addr {
	var a []netip.Addr
	for _, x := range s {
		a = append(a, netip.MustParseAddr(x))
	}
	return a
}

func TestRewriteResolv(t *testing.T) {
	clusterFirst := Resolv{
		Nameservers: addrs("10.96.0.10"),
		Search:      []string{"spark.svc.cluster.local", "svc.cluster.local", "cluster.local"},
		Options:     []string{"ndots:5"},
	}
	tests := []struct {
		name string
		in   string
		want Resolv
		out  string
	}{
		{"empty want, no block: unchanged", "nameserver 1.1.1.1\nsearch a", Resolv{}, "nameserver 1.1.1.1\nsearch a"},
		{
			"empty file",
			"", clusterFirst,
			resolvHeader + "nameserver 10.96.0.10\nsearch spark.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n" + endMarker + "\n",
		},
		{
			"docker: 127.0.0.11 kept after ours, ndots replaced",
			"nameserver 127.0.0.11\noptions ndots:0 edns0\n", clusterFirst,
			"# swarming-spark disabled: nameserver 127.0.0.11\n# swarming-spark disabled: options ndots:0 edns0\n" +
				resolvHeader + "nameserver 10.96.0.10\nnameserver 127.0.0.11\nsearch spark.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 edns0\n" + endMarker + "\n",
		},
		{
			"existing nameservers cut at three, duplicates of ours dropped",
			"nameserver 1.1.1.1\nnameserver 10.96.0.10\nnameserver 2.2.2.2\nnameserver 3.3.3.3\n", Resolv{Nameservers: addrs("10.96.0.10", "9.9.9.9")},
			"# swarming-spark disabled: nameserver 1.1.1.1\n# swarming-spark disabled: nameserver 10.96.0.10\n# swarming-spark disabled: nameserver 2.2.2.2\n# swarming-spark disabled: nameserver 3.3.3.3\n" +
				resolvHeader + "nameserver 10.96.0.10\nnameserver 9.9.9.9\nnameserver 1.1.1.1\n" + endMarker + "\n",
		},
		{
			"search domains deduplicated ignoring case and final dot",
			"search Cluster.Local. corp.example.com\n", Resolv{Search: []string{"svc.cluster.local", "cluster.local"}},
			"# swarming-spark disabled: search Cluster.Local. corp.example.com\n" +
				resolvHeader + "search svc.cluster.local cluster.local corp.example.com\n" + endMarker + "\n",
		},
		{
			"domain line counts when it is the last",
			"search a.example\ndomain b.example\n", Resolv{Search: []string{"c.example"}},
			"# swarming-spark disabled: search a.example\n# swarming-spark disabled: domain b.example\n" +
				resolvHeader + "search c.example b.example\n" + endMarker + "\n",
		},
		{
			"existing domains beyond six dropped",
			"search d1 d2 d3 d4 d5\n", Resolv{Search: []string{"a", "b"}},
			"# swarming-spark disabled: search d1 d2 d3 d4 d5\n" +
				resolvHeader + "search a b d1 d2 d3 d4\n" + endMarker + "\n",
		},
		{
			"existing domains beyond 255 bytes dropped",
			"search " + strings.Repeat("x", 200) + " " + strings.Repeat("y", 60) + "\n", Resolv{Search: []string{"a"}},
			"# swarming-spark disabled: search " + strings.Repeat("x", 200) + " " + strings.Repeat("y", 60) + "\n" +
				resolvHeader + "search a " + strings.Repeat("x", 200) + "\n" + endMarker + "\n",
		},
		{
			"already right: unchanged, no block",
			"search spark.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n", clusterFirst,
			"search spark.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n",
		},
		{
			"already right with a stale block: block removed",
			"nameserver 10.96.0.10\n" + resolvHeader + "nameserver 1.2.3.4\n" + endMarker + "\n", Resolv{Nameservers: addrs("10.96.0.10")},
			"nameserver 10.96.0.10\n",
		},
		{
			"indented and bare directives disabled too, other lines kept",
			"  nameserver 1.1.1.1\nsearch\n; comment\nsortlist 10.0.0.0/8\n", Resolv{Options: []string{"ndots:2"}},
			"# swarming-spark disabled:   nameserver 1.1.1.1\n# swarming-spark disabled: search\n; comment\nsortlist 10.0.0.0/8\n" +
				resolvHeader + "options ndots:2\n" + endMarker + "\n",
		},
		{
			"CRLF and missing final newline",
			"nameserver 1.1.1.1\r\nsearch a", Resolv{Nameservers: addrs("10.96.0.10")},
			"# swarming-spark disabled: nameserver 1.1.1.1\r\n# swarming-spark disabled: search a\n" +
				resolvHeader + "nameserver 10.96.0.10\nnameserver 1.1.1.1\nsearch a\n" + endMarker + "\n",
		},
		{
			// Someone deleted our block by hand but left the disabled lines.
			"orphaned disabled lines restored before merging",
			"# swarming-spark disabled: nameserver 1.1.1.1\n# swarming-spark disabled: # swarming-spark disabled: search a\n", Resolv{},
			"nameserver 1.1.1.1\nsearch a\n",
		},
		{
			"prefixed non-directive is not ours",
			"# swarming-spark disabled: hello\n", Resolv{},
			"# swarming-spark disabled: hello\n",
		},
		{
			"removal",
			"# swarming-spark disabled: nameserver 1.1.1.1\n" + resolvHeader + "nameserver 10.96.0.10\nnameserver 1.1.1.1\n" + endMarker + "\n", Resolv{},
			"nameserver 1.1.1.1\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteResolv([]byte(tt.in), tt.want)
			if err != nil {
				t.Fatalf("RewriteResolv(%q) error: %v", tt.in, err)
			}
			if string(got) != tt.out {
				t.Errorf("RewriteResolv(%q, %+v) =\n%s\nwant\n%s", tt.in, tt.want, got, tt.out)
			}
			checkResolvProps(t, []byte(tt.in), tt.want)
		})
	}
}

func TestRewriteResolvErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Resolv
	}{
		{"four nameservers", "", Resolv{Nameservers: addrs("1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4")}},
		{"invalid nameserver", "", Resolv{Nameservers: []netip.Addr{{}}}},
		{"search domain with space", "", Resolv{Search: []string{"a b"}}},
		{"empty search domain", "", Resolv{Search: []string{""}}},
		{"seven search domains", "", Resolv{Search: []string{"a", "b", "c", "d", "e", "f", "g"}}},
		{"search list of 256 bytes", "", Resolv{Search: []string{strings.Repeat("a", 63) + "." + strings.Repeat("b", 63), strings.Repeat("c", 63) + "." + strings.Repeat("d", 62), "x"}}},
		{"option with space", "", Resolv{Options: []string{"ndots: 5"}}},
		{"option without name", "", Resolv{Options: []string{":5"}}},
		{"empty option", "", Resolv{Options: []string{""}}},
		{"NUL in input", "nameserver 1.1.1.1\x00", Resolv{Options: []string{"ndots:5"}}},
		{"unterminated block", beginMarker + "\nnameserver 1.1.1.1\n", Resolv{Options: []string{"ndots:5"}}},
		{"unterminated block, removal", beginMarker + "\n", Resolv{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteResolv([]byte(tt.in), tt.want)
			if err == nil {
				t.Errorf("RewriteResolv(%q, %+v) = %q, want an error", tt.in, tt.want, got)
			}
		})
	}
}

// checkResolvProps checks the properties every successful RewriteResolv
// must have. It is shared by the table tests and the fuzz target.
func checkResolvProps(t *testing.T, in []byte, want Resolv) {
	t.Helper()
	out, err := RewriteResolv(in, want)
	if err != nil {
		return
	}
	again, err := RewriteResolv(out, want)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("not idempotent: err %v\nfirst:\n%q\nsecond:\n%q", err, out, again)
	}
	base, err := RewriteResolv(in, Resolv{})
	if err != nil {
		t.Fatalf("removal from the input failed after a rewrite succeeded: %v", err)
	}
	removed, err := RewriteResolv(out, Resolv{})
	if err != nil {
		t.Fatalf("removal from the output: %v", err)
	}
	if !bytes.Equal(removed, base) && !(len(base) > 0 && base[len(base)-1] != '\n' && bytes.Equal(removed, append(slices.Clip(base), '\n'))) {
		t.Fatalf("removal did not restore the original:\noriginal:\n%q\nrestored:\n%q", base, removed)
	}
	if again, _ := RewriteResolv(base, Resolv{}); !bytes.Equal(again, base) {
		t.Fatalf("removal is not idempotent:\n%q\n%q", base, again)
	}
	got, err := etcformat.ParseResolv(out)
	if err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	// The result must be exactly the merge of want into the original's
	// configuration: nothing of the platform's is lost beyond the limits.
	if want.IsZero() {
		return
	}
	have, _ := etcformat.ParseResolv(base)
	if ref := referenceResolv(want, have); !sameConfig(got, ref) {
		t.Fatalf("effective config %+v, want %+v\n%q", got, ref, out)
	}
}

// referenceResolv is the configuration RewriteResolv's doc promises for
// want merged into have, the platform's own. It is written from that doc,
// plainly, and shares nothing with resolv.go (normalize, merge,
// limitSearch, sameResolv), so that the properties do not check that code
// against itself.
func referenceResolv(want, have Resolv) Resolv {
	var r Resolv
	// Nameservers: want's, then the platform's not already listed; glibc
	// and musl use the first 3.
	for _, a := range append(slices.Clone(want.Nameservers), have.Nameservers...) {
		if !slices.Contains(r.Nameservers, a) && len(r.Nameservers) < 3 {
			r.Nameservers = append(r.Nameservers, a)
		}
	}
	// Search: want's, then the platform's, each domain once, compared as
	// DNS names are (case aside, a final dot aside).
	domain := func(d string) string { return strings.ToLower(strings.TrimSuffix(d, ".")) }
	for _, d := range append(slices.Clone(want.Search), have.Search...) {
		if !slices.ContainsFunc(r.Search, func(e string) bool { return domain(e) == domain(d) }) {
			r.Search = append(r.Search, d)
		}
	}
	// Options: want's, a later value of a name replacing an earlier one in
	// its place; then the platform's whose name want does not set.
	name := func(o string) string { n, _, _ := strings.Cut(o, ":"); return n }
	for _, o := range want.Options {
		if i := slices.IndexFunc(r.Options, func(e string) bool { return name(e) == name(o) }); i >= 0 {
			r.Options[i] = o
		} else {
			r.Options = append(r.Options, o)
		}
	}
	for _, o := range have.Options {
		if !slices.ContainsFunc(r.Options, func(e string) bool { return name(e) == name(o) }) {
			r.Options = append(r.Options, o)
		}
	}
	// A platform file that already says all this is left as it is;
	// otherwise the search list is cut to what every glibc and musl reads
	// in full: 6 domains, 255 bytes on one line.
	if sameConfig(r, have) {
		return have
	}
	r.Search = r.Search[:min(len(r.Search), 6)]
	for len(strings.Join(r.Search, " ")) > 255 {
		r.Search = r.Search[:len(r.Search)-1]
	}
	return r
}

// sameConfig reports whether a and b make a resolver behave alike: the
// same servers and search list in the same order, the same options in any
// order.
func sameConfig(a, b Resolv) bool {
	ao, bo := slices.Clone(a.Options), slices.Clone(b.Options)
	slices.Sort(ao)
	slices.Sort(bo)
	return slices.Equal(a.Nameservers, b.Nameservers) && slices.Equal(a.Search, b.Search) && slices.Equal(ao, bo)
}

// TestLargeInputs runs every transform on inputs near the 1 MiB cap that
// are built to hit each loop's worst case. A quadratic step would take
// minutes here and trip the test timeout; PID 1 must not hang on a strange
// file.
func TestLargeInputs(t *testing.T) {
	var opts, search, hosts strings.Builder
	opts.WriteString("options")
	search.WriteString("search")
	for i := 0; opts.Len() < maxFileSize-20; i++ {
		fmt.Fprintf(&opts, " o%d:1", i)
		fmt.Fprintf(&search, " d%d", i)
		fmt.Fprintf(&hosts, "10.%d.%d.%d spark-master\n", i>>16&255, i>>8&255, i&255)
	}
	for name, in := range map[string]string{"options": opts.String(), "search": search.String()} {
		got, err := RewriteResolv([]byte(in), Resolv{Nameservers: addrs("10.96.0.10"), Search: []string{"a"}, Options: []string{"o1:5"}})
		if err != nil {
			t.Fatalf("RewriteResolv(huge %s): %v", name, err)
		}
		if len(got) < len(in) {
			t.Errorf("RewriteResolv(huge %s) lost content", name)
		}
	}
	if _, err := RewriteHosts([]byte(hosts.String()), master); err != nil {
		t.Fatal(err)
	}
	if n := len(LookupHosts([]byte(hosts.String()), "spark-master")); n < 1000 {
		t.Errorf("LookupHosts found %d addresses", n)
	}
}
