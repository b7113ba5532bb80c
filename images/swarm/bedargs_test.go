package swarm_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestBedArgs: scripts/swarm-bed.sh refuses bad input with exit 64 and
// one line naming what is wrong, before it asks Docker anything.
func TestBedArgs(t *testing.T) {
	script := filepath.Join(e2e.Root, "scripts", "swarm-bed.sh")
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"start"}, "unknown command start"},
		{[]string{"up", "ssx"}, "up needs NAME N IMAGE..."},
		{[]string{"up", "ssx", "2", "img"}, "N=2: 1 node, or 3 or more"},
		{[]string{"up", "ssx", "three", "img"}, "N=three:"},
		{[]string{"up", "ssx", "0", "img"}, "N=0:"},
		{[]string{"up", "Bad_Name", "3", "img"}, "NAME=Bad_Name is not lowercase letters, digits and dashes"},
		{[]string{"down"}, "down needs NAME"},
		{[]string{"down", "a b"}, "NAME=a b is not"},
	} {
		cmd := exec.Command("bash", append([]string{script}, c.args...)...)
		cmd.Env = []string{"PATH=/usr/bin:/bin"} // no docker needed to refuse
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 64 {
			t.Errorf("swarm-bed.sh %q: %v, want exit 64\n%s", c.args, err, out)
			continue
		}
		first, _, _ := strings.Cut(string(out), "\n")
		if !strings.HasPrefix(first, "swarm-bed: ") || !strings.Contains(first, c.want) {
			t.Errorf("swarm-bed.sh %q: first line %q, want it to say %q", c.args, first, c.want)
		}
	}
}
