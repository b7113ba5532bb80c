package boot

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
	"github.com/snufkin/swarming-spark/entrypoint/supervisor"
)

// Version is the entrypoint's version, set at build time
// (-ldflags "-X .../entrypoint/boot.Version=..."); without it, the VCS
// revision Go recorded, or "devel".
var Version = ""

// runCommand runs a command named in place of a subcommand (`docker run
// IMAGE spark-submit ...`, `... bash`), as the official image runs one:
// under the supervisor, as the workload user (ENTRYPOINT_USER when started
// as root), with the environment the JVMs get (the platform's colliding
// variables removed). No discovery and no /etc changes; `entrypoint --
// CMD` runs a command as the container's own user (root) instead.
func runCommand(args []string, s settings.Settings, log zerolog.Logger) error {
	// What the user reads here is the command's own output: the
	// entrypoint says only what went wrong, unless asked for more.
	if _, set := os.LookupEnv("ENTRYPOINT_LOG_LEVEL"); !set {
		log = log.Level(zerolog.WarnLevel)
	}
	env, removed, err := sparkenv.Scrub(os.Environ())
	if err != nil {
		return err
	}
	logRemovals(log, removed, "the command's")
	name, cred, env, err := workloadUser(s.User, env)
	if err != nil {
		return err
	}
	uid, gid := workloadIDs(cred)
	env = ensurePasswdEntry(uid, gid, env, log)
	log.Debug().Strs("args", args).Str("user", name).Msg("running a command")
	return supervise(supervisor.Config{Args: args, Env: env, Credential: cred}, s, log)
}

// versionCommand prints what a driver must match and what runs here, one
// "name version" line each.
func versionCommand(args []string, stdout io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: version takes no arguments (got %q)", ErrUsage, args)
	}
	r := readRuntime(os.Environ())
	for _, kv := range [][2]string{{"entrypoint", entrypointVersion()}, {"spark", r.Spark}, {"java", r.Java}, {"python", r.Python}, {"arch", r.Arch}} {
		v := kv[1]
		if v == "" {
			v = "unknown"
		}
		fmt.Fprintf(stdout, "%s %s\n", kv[0], v)
	}
	return nil
}

// entrypointVersion is Version, else the VCS revision in the build info.
func entrypointVersion() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, st := range bi.Settings {
			if st.Key == "vcs.revision" && len(st.Value) >= 12 {
				return st.Value[:12]
			}
		}
	}
	return "devel"
}

// isSubcommand reports whether a names one of the entrypoint's own
// subcommands; anything else that is not an option is a command to run.
func isSubcommand(a string) bool {
	switch a {
	case "--", "master", "worker", "connect", "history", "ambassador", "ready", "explain", "doctor",
		"driver-conf", "class-archive", "version", "ui-token", "-h", "--help", "help":
		return true
	}
	return false
}

// isCommand reports whether args name a command to run rather than a
// subcommand or an option.
func isCommand(args []string) bool {
	return len(args) > 0 && !isSubcommand(args[0]) && !strings.HasPrefix(args[0], "-")
}

// logRemovals says in one line which platform variables were taken out of
// whose environment, and why (a link's values, the linked container's own
// variables hidden).
func logRemovals(log zerolog.Logger, removed []sparkenv.Removal, whose string) {
	if len(removed) == 0 {
		return
	}
	vars := make([]string, len(removed))
	for i, r := range removed {
		vars[i] = r.Name + "=" + r.Value
	}
	log.Info().Strs("vars", vars).Msgf("removed from %s environment: variables a platform link injects, which spark would misread as its own settings", whose)
}
