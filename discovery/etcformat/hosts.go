// Package etcformat reads the files of /etc that name hosts and name
// servers (hosts, resolv.conf), the way glibc (and so the Spark JVM) reads
// them. It imports nothing of the project: discovery, the command's /etc
// transforms and its doctor read these files through it, so each format
// has one reader.
package etcformat

import (
	"bytes"
	"fmt"
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

// CheckHostname reports why name is not a host name a resolver accepts
// (RFC 1123 labels, with "_" too, which Docker and Kubernetes names may
// hold): dot-separated labels of 1 to 63 letters, digits, "-" and "_", not
// starting or ending with "-", 253 bytes at most. A trailing dot is the
// caller's to remove where it means the root.
func CheckHostname(name string) error {
	if name == "" {
		return fmt.Errorf("empty hostname")
	}
	if len(name) > 253 {
		return fmt.Errorf("hostname %.20q...: longer than 253 bytes", name)
	}
	for label := range strings.SplitSeq(name, ".") {
		switch {
		case label == "":
			return fmt.Errorf("hostname %q: empty label", name)
		case len(label) > 63:
			return fmt.Errorf("hostname %q: label longer than 63 bytes", name)
		case label[0] == '-' || label[len(label)-1] == '-':
			return fmt.Errorf("hostname %q: label starts or ends with '-'", name)
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("hostname %q: invalid character %q", name, c)
			}
		}
	}
	return nil
}
