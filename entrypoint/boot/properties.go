package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// Settings that hold secrets reach the JVM in a properties file
// (--properties-file), never on its command line, where ps shows them:
// a standalone driver must have spark.authenticate.secret in its conf
// (SecurityManager.initializeAuth requires it outside YARN and Kubernetes,
// and secret files are refused there), and JWSFilter reads its key from
// the conf. Spark redacts both in its UIs and event logs
// (spark.redaction.regex matches "secret").

// nodeProperties is the properties file of p's JVM, holding props, or ""
// when it needs none. A daemon reads this file instead of
// spark-defaults.conf, so the file starts with that one's lines; the
// Connect server's spark-submit reads both (--load-spark-defaults).
func nodeProperties(p Plan, props []javaOption) []byte {
	if len(props) == 0 {
		return nil
	}
	var b strings.Builder
	if p.Role != sparkenv.Connect {
		if defaults, err := os.ReadFile(filepath.Join(sparkenv.ConfDir(p.Env), "spark-defaults.conf")); err == nil {
			b.Write(defaults)
			b.WriteString("\n")
		}
	}
	// Java properties: a backslash escapes, a line ends a value.
	esc := strings.NewReplacer(`\`, `\\`, "\n", `\n`, "\r", `\r`)
	for _, o := range props {
		b.WriteString(o.key + "=" + esc.Replace(o.value) + "\n")
	}
	return []byte(b.String())
}

// writeProperties writes body to a file that is the JVM user's alone, in a
// directory of its own that the returned cleanup removes.
func writeProperties(body []byte, uid, gid int) (string, func(), error) {
	dir, err := os.MkdirTemp("", "spark-properties-")
	if err != nil {
		return "", nil, fmt.Errorf("the jvm's properties file: %w", err)
	}
	cleanup := func() { os.RemoveAll(dir) }
	file := filepath.Join(dir, "spark.conf")
	err = os.WriteFile(file, body, 0o600)
	if err == nil && os.Geteuid() == 0 {
		err = os.Chown(file, uid, gid)
		if err == nil {
			err = os.Chown(dir, uid, gid)
		}
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("the jvm's properties file: %w", err)
	}
	return file, cleanup, nil
}
