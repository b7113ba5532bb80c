package boot

import (
	"strings"
	"testing"
)

// TestSubcommandsAreNotCommands: every subcommand Usage names (which a
// test of the command keeps in step with Main's switch) is one isSubcommand
// knows, so none of them is ever run as a command or caught as a
// supervised start (Listen); the CMD placeholder and any other word are
// commands.
func TestSubcommandsAreNotCommands(t *testing.T) {
	n := 0
	for _, line := range strings.Split(Usage, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "entrypoint ")
		if !ok {
			continue
		}
		word, _, _ := strings.Cut(rest, " ")
		for _, w := range strings.Split(word, "|") {
			if w == "CMD" {
				continue
			}
			n++
			if !isSubcommand(w) || isCommand([]string{w}) {
				t.Errorf("Usage names %q, which isSubcommand does not know: it would run as a command", w)
			}
		}
	}
	if n < 10 {
		t.Fatalf("read %d subcommands from Usage, want the whole list", n)
	}
	for _, args := range [][]string{{"CMD"}, {"spark-submit", "--version"}, {"bash"}} {
		if !isCommand(args) {
			t.Errorf("isCommand(%q) = false, want a command", args)
		}
	}
	if isCommand([]string{"-x"}) || isCommand(nil) {
		t.Error("an option or no argument is a command")
	}
}
