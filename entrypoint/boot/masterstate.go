package boot

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"syscall"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// A restarted standalone master knows nothing of its workers: each worker
// finds it again only at its next registration retry, a random 5-15 s
// after it lost the old one (Worker.scala, hardcoded), so a master that is
// back in 4 s is fully used again only after up to 20 s. With Spark's
// FILESYSTEM recovery mode the master writes its workers and applications
// to a directory and, when it starts and finds them there, tells each one
// where it now is (MasterChanged); they answer at once, and recovery ends
// as soon as all have answered. Kept in the container's own file system,
// the state survives a restart of the same container (docker restart,
// restart policies, links and compose v1); a volume mounted there carries
// it over to a new container (the Compose Specification file and the
// Swarm stack do that).

// masterRecoveryTimeout bounds how long a restarted master waits for
// workers that do not answer (gone while it was down) before it schedules
// again. Live workers answer in milliseconds. Spark 3.5 has no such setting
// and waits spark.worker.timeout (60 s) instead.
const masterRecoveryTimeout = "15s"

// masterStateOptions are the JVM options that keep the master's state in
// dir.
func masterStateOptions(dir string) []javaOption {
	return []javaOption{
		{"spark.deploy.recoveryMode", "FILESYSTEM"},
		{"spark.deploy.recoveryDirectory", dir},
		{"spark.deploy.recoveryTimeout", masterRecoveryTimeout},
	}
}

type javaOption struct{ key, value string }

// addJavaOptions adds each of opts to the JVM options variable name,
// unless the variable already sets it (sparkenv.AddJavaOption).
func addJavaOptions(env []string, name string, opts []javaOption) []string {
	for _, o := range opts {
		env = sparkenv.AddJavaOption(env, name, o.key, o.value)
	}
	return env
}

// masterStateDir is the directory the master keeps its state in: the
// user's spark.deploy.recoveryDirectory in SPARK_MASTER_OPTS, else the
// setting; "" when ENTRYPOINT_MASTER_STATE is off or the user has chosen a
// recovery mode of their own (ZooKeeper, say), anywhere Spark would read it.
func masterStateDir(setting string, env []string) string {
	if setting == settings.MasterStateOff || setting == "" {
		return ""
	}
	if sparkConfSets(env, "spark.deploy.recoveryMode", "SPARK_MASTER_OPTS") {
		return ""
	}
	if dir, ok := sparkenv.JavaOption(env, "SPARK_MASTER_OPTS", "spark.deploy.recoveryDirectory"); ok {
		return dir
	}
	return setting
}

// errStateNotWritable: the workload user cannot write the state directory.
var errStateNotWritable = errors.New("not writable by the jvm's user")

// prepareStateDir makes dir a directory the JVM's uid:gid can write:
// created if missing and, as root, given to uid:gid with mode if it cannot
// write it yet (a fresh volume or a bind mount is root's). Spark fails to
// register workers when it cannot write its state, and a driver fails to
// start when it cannot write its event log, so anything short of a
// writable directory is an error and the caller starts the JVM without it.
func prepareStateDir(dir string, uid, gid int, mode os.FileMode) error {
	root := os.Geteuid() == 0
	if err := os.MkdirAll(dir, mode.Perm()); err != nil {
		return err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s: not a directory", dir)
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err == nil && fs.Flags&stRdonly != 0 {
		return fmt.Errorf("%s: read-only file system", dir)
	}
	if writableBy(fi, uid, gid) {
		return nil
	}
	if root {
		if err := os.Chown(dir, uid, gid); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			return fmt.Errorf("%s: %w", dir, err)
		}
		return nil
	}
	return fmt.Errorf("%s: %w (uid %d, gid %d)", dir, errStateNotWritable, uid, gid)
}

// stRdonly is ST_RDONLY of statfs(2)'s f_flags.
const stRdonly = 1

// writableBy reports whether the permission bits let uid:gid create files
// in the directory fi describes (the JVM runs with no supplementary
// groups).
func writableBy(fi os.FileInfo, uid, gid int) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	perm := fi.Mode().Perm()
	switch {
	case uid == 0:
		return true
	case int(st.Uid) == uid:
		return perm&0o300 == 0o300
	case int(st.Gid) == gid:
		return perm&0o030 == 0o030
	}
	return perm&0o003 == 0o003
}

// withoutOptions drops the -Dkey=value arguments of opts from a java
// command line, so that a master whose state cannot be kept starts as if
// it had never been asked to keep it, without asking the launcher again.
func withoutOptions(argv []string, opts []javaOption) []string {
	return slices.DeleteFunc(slices.Clone(argv), func(a string) bool {
		return slices.ContainsFunc(opts, func(o javaOption) bool { return a == "-D"+o.key+"="+o.value })
	})
}
