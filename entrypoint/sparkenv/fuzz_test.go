package sparkenv

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// FuzzScrub feeds arbitrary environments (one NAME=value a line) to Scrub,
// the link-variable filter every start goes through. It must not panic;
// it fails only with ErrInvalid naming a variable; what it keeps is the
// input in order minus what it reports removed; every integer variable it
// keeps is an integer in range; the copies of a linked container's
// environment are never shown; and a second pass changes nothing.
func FuzzScrub(f *testing.F) {
	f.Add(strings.Join(linkEnv, "\n"))
	f.Add("SPARK_WORKER_PORT=tcp://[fd00::7]:7078\nSPARK_WORKER_SERVICE_HOST=fd00::7\nSPARK_MASTER_WEBUI_PORT=tcp://10.0.0.9:80\nSPARK_MASTER_WEBUI_PORT_80_TCP_PORT=80")
	f.Add("SPARK_MASTER_PORT=7077\nSPARK_MASTER_PORT=udp://1.2.3.4:53\nSPARK_MASTER_ENV_SPARK_MASTER_PORT=tcp://x:1")
	f.Add("SPARK_WORKER_CORES=0x10\nNOEQUALS\n=\nSPARK_WORKER_INSTANCES=2")
	f.Fuzz(func(t *testing.T, text string) {
		env := strings.Split(text, "\n")
		out, removed, err := Scrub(env)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Scrub error %v is not ErrInvalid", err)
			}
			named := false
			for name := range intVars {
				named = named || strings.Contains(err.Error(), name+"=")
			}
			if !named {
				t.Fatalf("Scrub error %q names no variable", err)
			}
			return
		}
		if len(out)+len(removed) != len(env) {
			t.Fatalf("kept %d and removed %d of %d variables", len(out), len(removed), len(env))
		}
		i := 0
		for _, kv := range out {
			for i < len(env) && env[i] != kv {
				i++
			}
			if i == len(env) {
				t.Fatalf("kept %q out of order or not in the input", kv)
			}
			i++
		}
		families := map[string]bool{}
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			if _, ok := intVars[k]; ok && isLinkValue(v) {
				families[strings.TrimSuffix(k, "_PORT")] = true
			}
		}
		for _, kv := range out {
			k, v, _ := strings.Cut(kv, "=")
			lim, ok := intVars[k]
			if !ok || v == "" {
				continue
			}
			if n, err := strconv.Atoi(v); err != nil || n < lim.min || n > lim.max {
				t.Fatalf("kept %s, which spark cannot read as an integer from %d to %d", kv, lim.min, lim.max)
			}
		}
		for _, r := range removed {
			for fam := range families {
				if strings.HasPrefix(r.Name, fam+"_ENV_") && !strings.HasPrefix(r.Name, fam+"_PORT") && r.Value != "(not shown)" {
					t.Fatalf("removal of %s shows its value %q", r.Name, r.Value)
				}
			}
		}
		again, removedAgain, err := Scrub(out)
		if err != nil || len(removedAgain) != 0 || !slices.Equal(again, out) {
			t.Fatalf("second pass: kept %q, removed %v, error %v; want no change", again, removedAgain, err)
		}
	})
}
