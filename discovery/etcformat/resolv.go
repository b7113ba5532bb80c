package etcformat

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// MaxNameservers is MAXNS: glibc and musl ignore nameserver lines after
// the third.
const MaxNameservers = 3

// Resolv is the part of a resolv.conf that decides how names are resolved.
type Resolv struct {
	// Nameservers are the servers in the order they are queried.
	Nameservers []netip.Addr
	// Search is the search list, tried in order for names with fewer
	// dots than ndots.
	Search []string
	// Options are "options" tokens such as "ndots:5" or "edns0". An
	// option's name is the part before ':'.
	Options []string
}

// IsZero reports whether r asks for nothing.
func (r Resolv) IsZero() bool {
	return len(r.Nameservers) == 0 && len(r.Search) == 0 && len(r.Options) == 0
}

// ParseResolv returns the configuration glibc would read from the
// resolv.conf in. It follows glibc's res_init:
//
//   - a line starting with '#' or ';' is a comment;
//   - a directive is recognised only at the start of a line and only when
//     followed by a space or a tab, so indented lines are ignored;
//   - nameserver lines are used in order, at most 3; a line whose first
//     word is not an IP address is skipped (an IPv6 zone is kept);
//   - search and domain lines replace the search list, so the last one
//     counts; domain keeps only its first word; a line with no words is
//     ignored;
//   - options accumulate across lines; for an option given twice the later
//     value wins but the first position is kept.
//
// Two deliberate differences: "\r" separates words like a blank, as in Go's
// resolver (glibc keeps it as part of a word, and so ignores the nameserver
// of a CRLF line; the block RewriteResolv writes has no "\r" and so fixes
// such a file), and IPv4 nameservers must be dotted quads (glibc's inet_aton
// also accepts forms like "127.1"). The LOCALDOMAIN and RES_OPTIONS environment
// variables are not considered; this reads the file only. Without search or
// domain lines glibc takes the domain of the host name; Search is then empty.
//
// The only error is a NUL byte, which means the input is not a text file.
func ParseResolv(in []byte) (Resolv, error) {
	if i := bytes.IndexByte(in, 0); i >= 0 {
		return Resolv{}, fmt.Errorf("resolv.conf: NUL byte at offset %d", i)
	}
	var r Resolv
	var opts OptionSet
	for _, line := range bytes.Split(in, []byte("\n")) {
		s := string(line)
		// The keyword is everything up to the first space or tab (not
		// "\r": glibc ignores "search\r"). A comment starts with '#' or
		// ';' and so never matches a keyword.
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			continue
		}
		kw, rest := s[:i], s[i+1:]
		words := strings.FieldsFunc(rest, isWordSep)
		switch kw {
		case "nameserver":
			if len(words) == 0 || len(r.Nameservers) == MaxNameservers {
				continue
			}
			if a, err := netip.ParseAddr(words[0]); err == nil {
				r.Nameservers = append(r.Nameservers, a)
			}
		case "domain":
			if len(words) > 0 {
				r.Search = []string{words[0]}
			}
		case "search":
			if len(words) > 0 {
				r.Search = words
			}
		case "options":
			for _, w := range strings.FieldsFunc(rest, IsSpace) {
				opts.Set(w)
			}
		}
	}
	r.Options = opts.List()
	return r, nil
}

// isWordSep separates the words of a resolv.conf line: glibc's space and
// tab, and "\r" (see ParseResolv). A word therefore never contains a
// character the block's own line syntax could split or drop, which keeps
// parse, write and parse again stable.
func isWordSep(r rune) bool { return r == ' ' || r == '\t' || r == '\r' }

// OptionSet is an ordered set of resolver options keyed by name. The index
// keeps merging linear: a hostile or broken file of a megabyte of options
// must not stall PID 1.
type OptionSet struct {
	list  []string
	index map[string]int // option name -> position in list
}

// OptionName is the name of option o, the part before ':'.
func OptionName(o string) string {
	name, _, _ := strings.Cut(o, ":")
	return name
}

// Set adds o, replacing in place an option of the same name.
func (s *OptionSet) Set(o string) {
	s.Add(o, true)
}

// Add adds o; an option of the same name is replaced only if replace is set.
func (s *OptionSet) Add(o string, replace bool) {
	name := OptionName(o)
	if i, ok := s.index[name]; ok {
		if replace {
			s.list[i] = o
		}
		return
	}
	if s.index == nil {
		s.index = make(map[string]int)
	}
	s.index[name] = len(s.list)
	s.list = append(s.list, o)
}

// List returns the options in order.
func (s *OptionSet) List() []string { return s.list }

// Ndots is the resolver's ndots: the "ndots:N" option (the last one
// given), 1 without one, at most 15 as glibc caps it.
func (r Resolv) Ndots() int {
	n := 1
	for _, o := range r.Options {
		if v, ok := strings.CutPrefix(o, "ndots:"); ok {
			if i, err := strconv.Atoi(v); err == nil && i >= 0 {
				n = min(i, 15)
			}
		}
	}
	return n
}
