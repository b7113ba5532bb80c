package etcformat

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func TestHostsLines(t *testing.T) {
	in := "127.0.0.1\tlocalhost\n# 10.0.0.1 commented\n172.17.0.2 spark-master  abc123 # alias\nnot-an-ip name\n10.0.0.3\n\v fd00::1 \fSpark-Worker\r\n10.0.0.4 last"
	want := []HostsLine{
		{netip.MustParseAddr("127.0.0.1"), []string{"localhost"}},
		{netip.MustParseAddr("172.17.0.2"), []string{"spark-master", "abc123"}},
		{netip.MustParseAddr("fd00::1"), []string{"Spark-Worker"}},
		{netip.MustParseAddr("10.0.0.4"), []string{"last"}},
	}
	if got := HostsLines([]byte(in)); !reflect.DeepEqual(got, want) {
		t.Errorf("HostsLines() = %v, want %v", got, want)
	}
	if l := want[2]; !l.Has("spark-worker") || l.Has("spark-worker.") {
		t.Errorf("Has: want a case-insensitive match and no trailing-dot match (glibc's)")
	}
}

func TestCheckHostname(t *testing.T) {
	for name, ok := range map[string]bool{
		"spark-master": true, "spark_master": true, "tasks.spark-master": true, "10.0.0.1": true,
		"a" + strings.Repeat(".a", 126): true, strings.Repeat("a", 63): true,
		"": false, "spark-": false, "-spark": false, "a..b": false, "spark-master.": false,
		strings.Repeat("a", 64): false, "a" + strings.Repeat(".a", 127): false, "spark master": false, "spärk": false,
	} {
		if err := CheckHostname(name); (err == nil) != ok {
			t.Errorf("CheckHostname(%q) = %v, want ok %v", name, err, ok)
		}
	}
}
