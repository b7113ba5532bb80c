package boot

import (
	"bytes"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// nssWrapperLibs are where Debian, Ubuntu and Red Hat put nss_wrapper.
var nssWrapperLibs = []string{
	"/usr/lib/x86_64-linux-gnu/libnss_wrapper.so",
	"/usr/lib/aarch64-linux-gnu/libnss_wrapper.so",
	"/usr/lib64/libnss_wrapper.so",
	"/usr/lib/libnss_wrapper.so",
}

// workloadIDs are the uid and gid the workload runs as: cred's, or ours
// when it keeps our identity (cred nil).
func workloadIDs(cred *syscall.Credential) (uid, gid int) {
	if cred == nil {
		return os.Geteuid(), os.Getegid()
	}
	return int(cred.Uid), int(cred.Gid)
}

// ensurePasswdEntry gives a uid without a passwd entry one. Under an
// arbitrary uid (OpenShift, `docker run --user 12345:0`) Hadoop's login
// inside Spark asks getpwuid for the user's name, gets none and the JVM
// dies with "invalid null input: name". The least invasive cure that works
// with a read-only /etc is nss_wrapper: a private copy of passwd with the
// entry added, in a writable directory, preloaded into the JVM only. Without
// nss_wrapper in the image, a writable /etc/passwd (the OpenShift `chmod g=u`
// convention) gets the line appended; failing both, one warning says what
// will happen and how to fix it.
func ensurePasswdEntry(uid, gid int, env []string, log zerolog.Logger) []string {
	if _, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return env
	}
	home := sparkenv.Get(env, "SPARK_HOME")
	entry := fmt.Sprintf("spark:x:%d:%d:spark (uid %d):%s:/bin/false\n", uid, gid, uid, filepath.Join(home, "work-dir"))
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil {
		log.Warn().Err(err).Msg("cannot read /etc/passwd")
		return env
	}
	if !bytes.HasSuffix(passwd, []byte("\n")) && len(passwd) > 0 {
		passwd = append(passwd, '\n')
	}
	if lib := firstExisting(nssWrapperLibs); lib != "" {
		for _, dir := range []string{sparkenv.Get(env, "TMPDIR"), os.TempDir(), sparkenv.Get(env, "SPARK_WORKER_DIR"), filepath.Join(home, "work-dir")} {
			if dir == "" {
				continue
			}
			f, err := os.CreateTemp(dir, "passwd.")
			if err != nil {
				continue
			}
			_, werr := f.Write(append(passwd, entry...))
			cerr := f.Close()
			if werr != nil || cerr != nil || os.Chmod(f.Name(), 0o644) != nil {
				os.Remove(f.Name())
				continue
			}
			preload := lib
			if p := sparkenv.Get(env, "LD_PRELOAD"); p != "" {
				preload = p + " " + lib
			}
			env = sparkenv.Set(env, "LD_PRELOAD", preload)
			env = sparkenv.Set(env, "NSS_WRAPPER_PASSWD", f.Name())
			env = sparkenv.Set(env, "NSS_WRAPPER_GROUP", "/etc/group")
			log.Info().Int("uid", uid).Str("passwd", f.Name()).Msg("uid has no passwd entry: giving the jvm one through nss_wrapper")
			return env
		}
	}
	_, err = etcfiles.Apply("/etc/passwd", func(b []byte) ([]byte, error) {
		if len(b) > 0 && !bytes.HasSuffix(b, []byte("\n")) {
			b = append(b, '\n')
		}
		return append(b, entry...), nil
	})
	if err == nil {
		log.Info().Int("uid", uid).Msg("uid has no passwd entry: added one to /etc/passwd")
		return env
	}
	log.Warn().Int("uid", uid).Err(err).Msg("uid has no passwd entry and none can be provided (no nss_wrapper, /etc/passwd not writable): " +
		"spark will fail with \"invalid null input: name\"; install libnss-wrapper in the image or run with a uid that has an entry")
	return env
}

func firstExisting(paths []string) string {
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}
