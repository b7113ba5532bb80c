package etcfiles

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

const block1 = beginMarker + "\n" + hostsGenerated + "10.0.0.12\tspark-master\n" + endMarker + "\n"

var master = []HostEntry{{Addr: netip.MustParseAddr("10.0.0.12"), Names: []string{"spark-master"}}}

func TestRewriteHosts(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		entries []HostEntry
		want    string
	}{
		{"empty file", "", master, block1},
		{"appended after platform lines", "127.0.0.1\tlocalhost\n", master, "127.0.0.1\tlocalhost\n" + block1},
		{"last line without newline gets one", "127.0.0.1\tlocalhost", master, "127.0.0.1\tlocalhost\n" + block1},
		{"CRLF lines kept byte for byte", "127.0.0.1 localhost\r\n# c\r\n", master, "127.0.0.1 localhost\r\n# c\r\n" + block1},
		{"existing block replaced", "a\n" + beginMarker + "\n1.2.3.4\told\n" + endMarker + "\n", master, "a\n" + block1},
		{
			// Docker appends a line (docker network connect) after our block.
			"block moved to the end after a platform append",
			"a\n" + block1 + "172.18.0.5\tnew\n", master, "a\n172.18.0.5\tnew\n" + block1,
		},
		{"two blocks become one", block1 + "a\n" + block1, master, "a\n" + block1},
		{"marker with trailing space and CR recognised", "a\n" + beginMarker + " \r\nx\n" + endMarker + "\t\n", master, "a\n" + block1},
		{"nil entries remove the block", "a\n" + block1 + "b\n", nil, "a\nb\n"},
		{"empty entries remove the block", "a\n" + block1, []HostEntry{}, "a\n"},
		{"nil entries and no block: unchanged", "a\nb", nil, "a\nb"},
		{
			"several entries, aliases, IPv6",
			"",
			[]HostEntry{
				{Addr: netip.MustParseAddr("10.0.0.12"), Names: []string{"spark-master", "spark-master.spark.svc.cluster.local"}},
				{Addr: netip.MustParseAddr("fd00:10:96::7"), Names: []string{"myapp_master_1"}},
			},
			beginMarker + "\n" + hostsGenerated + "10.0.0.12\tspark-master spark-master.spark.svc.cluster.local\nfd00:10:96::7\tmyapp_master_1\n" + endMarker + "\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteHosts([]byte(tt.in), tt.entries)
			if err != nil {
				t.Fatalf("RewriteHosts(%q) error: %v", tt.in, err)
			}
			if string(got) != tt.want {
				t.Errorf("RewriteHosts(%q) =\n%s\nwant\n%s", tt.in, got, tt.want)
			}
			checkHostsProps(t, []byte(tt.in), tt.entries)
		})
	}
}

func TestRewriteHostsErrors(t *testing.T) {
	ip := netip.MustParseAddr("10.0.0.1")
	tests := []struct {
		name    string
		in      string
		entries []HostEntry
	}{
		{"invalid address", "", []HostEntry{{Names: []string{"a"}}}},
		{"zoned address", "", []HostEntry{{Addr: netip.MustParseAddr("fe80::1%eth0"), Names: []string{"a"}}}},
		{"no names", "", []HostEntry{{Addr: ip}}},
		{"empty name", "", []HostEntry{{Addr: ip, Names: []string{""}}}},
		{"name with space", "", []HostEntry{{Addr: ip, Names: []string{"a b"}}}},
		{"name with comment", "", []HostEntry{{Addr: ip, Names: []string{"a#b"}}}},
		{"name with newline", "", []HostEntry{{Addr: ip, Names: []string{"a\nb"}}}},
		{"name with trailing dot", "", []HostEntry{{Addr: ip, Names: []string{"a."}}}},
		{"empty label", "", []HostEntry{{Addr: ip, Names: []string{"a..b"}}}},
		{"label starting with hyphen", "", []HostEntry{{Addr: ip, Names: []string{"-a"}}}},
		{"label too long", "", []HostEntry{{Addr: ip, Names: []string{strings.Repeat("a", 64)}}}},
		{"name too long", "", []HostEntry{{Addr: ip, Names: []string{strings.Repeat("a.", 127)}}}},
		{"name is an address", "", []HostEntry{{Addr: ip, Names: []string{"10.0.0.2"}}}},
		{"BEGIN without END", "a\n" + beginMarker + "\nb\n", master},
		{"END without BEGIN", "a\n" + endMarker + "\n", master},
		{"nested BEGIN", beginMarker + "\n" + beginMarker + "\n" + endMarker + "\n", master},
		{"damaged block and removal", beginMarker + "\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RewriteHosts([]byte(tt.in), tt.entries)
			if err == nil {
				t.Errorf("RewriteHosts(%q, %v) = %q, want an error", tt.in, tt.entries, got)
			}
		})
	}
}

// checkHostsProps checks the properties every successful RewriteHosts must
// have. It is shared by the table tests and the fuzz target.
func checkHostsProps(t *testing.T, in []byte, entries []HostEntry) {
	t.Helper()
	out, err := RewriteHosts(in, entries)
	if err != nil {
		return
	}
	again, err := RewriteHosts(out, entries)
	if err != nil || !bytes.Equal(again, out) {
		t.Fatalf("not idempotent: err %v\nfirst:\n%q\nsecond:\n%q", err, out, again)
	}
	base, err := RewriteHosts(in, nil)
	if err != nil {
		t.Fatalf("removal from the input failed after a rewrite succeeded: %v", err)
	}
	removed, err := RewriteHosts(out, nil)
	if err != nil {
		t.Fatalf("removal from the output: %v", err)
	}
	if !bytes.Equal(removed, base) && !(len(base) > 0 && base[len(base)-1] != '\n' && bytes.Equal(removed, append(slices.Clip(base), '\n'))) {
		t.Fatalf("removal did not restore the lines outside the block:\ninput:\n%q\nrestored:\n%q", base, removed)
	}
	if len(entries) == 0 {
		if !bytes.Equal(out, base) {
			t.Fatalf("empty entries: got %q, want %q", out, base)
		}
		return
	}
	if !bytes.HasSuffix(out, []byte(endMarker+"\n")) {
		t.Fatalf("block is not at the end:\n%q", out)
	}
	for _, e := range entries {
		for _, n := range e.Names {
			if !slices.Contains(LookupHosts(out, n), e.Addr) {
				t.Fatalf("LookupHosts(out, %q) = %v, missing %v\n%q", n, LookupHosts(out, n), e.Addr, out)
			}
		}
	}
}

func TestLookupHosts(t *testing.T) {
	const hosts = "# Kubernetes-managed hosts file.\n" +
		"127.0.0.1\tlocalhost\n" +
		"::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"172.17.0.2\tmaster 8c1e2f3a4b5c myapp_master_1\n" +
		"172.17.0.2\tmaster_1 8c1e2f3a4b5c myapp_master_1\n" +
		"10.0.0.9 spark-master   \n" + // trailing spaces
		"10.0.0.10\t\tspark-master\t# second address, tabs\n" +
		"# 10.0.0.11 spark-master commented out\n" +
		"10.0.0.12 other # spark-master in a comment\n" +
		"10.0.0.13 crlf-host\r\n" +
		"not-an-ip spark-master\n" +
		"fd00::7 v6host V6Alias\n" +
		"fe80::1%eth0 zoned\n" +
		"10.0.0.9 spark-master\n" + // duplicate
		"10.0.0.14\n" // address without names
	tests := []struct {
		name string
		want []string
	}{
		{"localhost", []string{"127.0.0.1", "::1"}},
		{"ip6-loopback", []string{"::1"}},
		{"myapp_master_1", []string{"172.17.0.2"}},
		{"master_1", []string{"172.17.0.2"}},
		{"8C1E2F3A4B5C", []string{"172.17.0.2"}},
		{"spark-master", []string{"10.0.0.9", "10.0.0.10"}},
		{"SPARK-MASTER", []string{"10.0.0.9", "10.0.0.10"}},
		{"crlf-host", []string{"10.0.0.13"}},
		{"v6alias", []string{"fd00::7"}},
		{"zoned", []string{"fe80::1%eth0"}},
		{"other", []string{"10.0.0.12"}},
		{"spark-master.", nil},
		{"master", []string{"172.17.0.2"}},
		{"missing", nil},
		{"", nil},
		{"#", nil},
	}
	for _, tt := range tests {
		var got []string
		for _, a := range LookupHosts([]byte(hosts), tt.name) {
			got = append(got, a.String())
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("LookupHosts(hosts, %q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}
