package etcfiles

import (
	"bytes"
	"fmt"
)

// The marker lines delimit the one block of a file that belongs to us. They
// are comments in both file formats, so a resolver never sees them.
const (
	beginMarker = "# BEGIN swarming-spark managed block"
	endMarker   = "# END swarming-spark managed block"
)

// splitLines splits b into lines that keep their "\n" terminator, so that
// concatenating the result gives b back. Only the last line can lack a
// terminator.
func splitLines(b []byte) [][]byte {
	var lines [][]byte
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			lines = append(lines, b)
			break
		}
		lines = append(lines, b[:i+1])
		b = b[i+1:]
	}
	return lines
}

// isMarker reports whether line is the marker. Surrounding white space
// (including a "\r" left by an editor) is ignored so that a block that was
// touched by hand is still recognised as ours.
func isMarker(line []byte, marker string) bool {
	return string(bytes.TrimSpace(line)) == marker
}

// outsideBlocks returns the lines of in that are not inside a managed block,
// and whether in contained a block. All complete blocks are dropped, not just
// the first: two blocks can only come from a hand edit or an interrupted
// write, and both are ours. file names the file in errors.
func outsideBlocks(in []byte, file string) (outside [][]byte, found bool, err error) {
	inBlock := false
	beginLine := 0
	for i, line := range splitLines(in) {
		switch {
		case isMarker(line, beginMarker):
			if inBlock {
				return nil, false, fmt.Errorf("%s: line %d: managed block begun again before the END of the block at line %d", file, i+1, beginLine)
			}
			inBlock, beginLine, found = true, i+1, true
		case isMarker(line, endMarker):
			if !inBlock {
				return nil, false, fmt.Errorf("%s: line %d: managed block END without BEGIN", file, i+1)
			}
			inBlock = false
		case !inBlock:
			outside = append(outside, line)
		}
	}
	if inBlock {
		// Deleting up to the end of the file could delete lines someone
		// else added after a hand-damaged block; refusing is safer.
		return nil, false, fmt.Errorf("%s: line %d: managed block has no END line", file, beginLine)
	}
	return outside, found, nil
}

// assemble concatenates lines and appends block after them. If the last line
// lacks a terminator, one is added so that the block starts on its own line;
// this is the one byte a later removal of the block does not take back.
func assemble(lines [][]byte, block []byte) []byte {
	n := len(block) + 1
	for _, l := range lines {
		n += len(l)
	}
	out := make([]byte, 0, n)
	for _, l := range lines {
		out = append(out, l...)
	}
	if len(block) > 0 && len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return append(out, block...)
}
