// Package etcformat reads the files of /etc that name hosts and name
// servers (hosts, resolv.conf), the way glibc (and so the Spark JVM) reads
// them. It imports nothing of the project: discovery, the command's /etc
// transforms and its doctor read these files through it, so each format
// has one reader.
package etcformat

import (
	"bytes"
	"net/netip"
	"strings"
)

// HostsLine is one well-formed entry of a hosts file, without its comment.
type HostsLine struct {
	Addr  netip.Addr
	Names []string
}

// Has reports whether the line names name, case-insensitively.
func (l HostsLine) Has(name string) bool {
	for _, n := range l.Names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// HostsLines returns the entries of a hosts file in order, skipping
// comments and lines without an address and a name, as glibc does.
func HostsLines(in []byte) []HostsLine {
	var lines []HostsLine
	for _, line := range bytes.Split(in, []byte("\n")) {
		if i := bytes.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.FieldsFunc(string(line), IsSpace)
		if len(f) < 2 {
			continue
		}
		addr, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		lines = append(lines, HostsLine{Addr: addr, Names: f[1:]})
	}
	return lines
}

// IsSpace is the C locale's isspace, which glibc uses to split the fields
// of hosts and resolv.conf lines.
func IsSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\v', '\f', '\r':
		return true
	}
	return false
}

// JoinAddrs writes addresses as a hosts line lists names: separated by
// one space.
func JoinAddrs(addrs []netip.Addr) string {
	s := make([]string, len(addrs))
	for i, a := range addrs {
		s[i] = a.String()
	}
	return strings.Join(s, " ")
}
