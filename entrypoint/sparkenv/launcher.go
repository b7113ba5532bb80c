package sparkenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// LauncherClass is Spark's command builder, the Java half of spark-class.
const LauncherClass = "org.apache.spark.launcher.Main"

// JavaCommand asks Spark's launcher for the final java command of the node,
// as bin/spark-class does, so that the supervisor's child is the JVM itself.
// Going through spark-class instead leaves a zombie behind for the JVM's
// whole life: spark-class reads the launcher's output from a process
// substitution and execs java without waiting for that subshell, which then
// exits as a child of the JVM, and the JVM never reaps it.
//
// env must already carry SPARK_HOME, SPARK_SCALA_VERSION (WithScalaVersion)
// and what spark-env.sh would set (SourceSparkEnv); the launcher reads the *_OPTS and SPARK_DAEMON_* variables
// from it.
func (n Node) JavaCommand(ctx context.Context, env []string) ([]string, error) {
	argv, err := n.Argv()
	if err != nil {
		return nil, err
	}
	home := Get(env, "SPARK_HOME")
	java := "java"
	if jh := Get(env, "JAVA_HOME"); jh != "" {
		java = filepath.Join(jh, "bin", "java")
	}
	// argv is "bash HOME/bin/spark-class CLASS ARGS..."; the launcher takes CLASS ARGS...
	args := append([]string{"-Xmx128m"}, strings.Fields(Get(env, "SPARK_LAUNCHER_OPTS"))...)
	args = append(args, "-cp", filepath.Join(home, "jars", "*"), LauncherClass)
	args = append(args, argv[2:]...)
	cmd := exec.CommandContext(ctx, java, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		out := stderr.String() + stdout.String()
		if msg, ok := launcherRefusal(out); ok {
			return nil, fmt.Errorf("%w: spark's launcher refuses the settings: %s", ErrInvalid, msg)
		}
		return nil, fmt.Errorf("spark launcher (%s %s): %w: %s", java, LauncherClass, err, lastLine(out))
	}
	return ParseLauncherOutput(stdout.Bytes())
}

// ParseLauncherOutput reads the launcher's NUL-separated command. Spark 3.4
// and later print "\x00\n" before the command so that JVM warnings printed to
// stdout can be told apart from it; earlier output is only the command.
func ParseLauncherOutput(out []byte) ([]string, error) {
	if i := bytes.Index(out, []byte("\x00\n")); i >= 0 && (i == 0 || out[i-1] == '\n') {
		out = out[i+2:]
	}
	out = bytes.TrimSuffix(out, []byte{0})
	if len(bytes.TrimSpace(out)) == 0 {
		return nil, errors.New("spark launcher printed no command")
	}
	cmd := strings.Split(string(out), "\x00")
	if strings.ContainsAny(cmd[0], "\n") || !strings.HasSuffix(cmd[0], "java") {
		return nil, fmt.Errorf("spark launcher printed %q, not a java command", lastLine(string(out)))
	}
	return cmd, nil
}

// WithScalaVersion sets SPARK_SCALA_VERSION, which load-spark-env.sh would
// have set, from the spark-core jar's name under $SPARK_HOME/jars. The
// launcher needs it, and so does the worker JVM, which builds its executors'
// command lines with the same code.
func WithScalaVersion(env []string) []string {
	home := Get(env, "SPARK_HOME")
	if Get(env, "SPARK_SCALA_VERSION") != "" {
		return env
	}
	jars, _ := filepath.Glob(filepath.Join(home, "jars", "spark-core_*.jar"))
	for _, j := range jars {
		v, _, ok := strings.Cut(strings.TrimPrefix(filepath.Base(j), "spark-core_"), "-")
		if _, err := strconv.ParseFloat(v, 64); ok && err == nil {
			return Set(env, "SPARK_SCALA_VERSION", v)
		}
	}
	return env
}

// ConfDir is the directory Spark reads its conf files from:
// SPARK_CONF_DIR, else $SPARK_HOME/conf.
func ConfDir(env []string) string {
	if conf := Get(env, "SPARK_CONF_DIR"); conf != "" {
		return conf
	}
	return filepath.Join(Get(env, "SPARK_HOME"), "conf")
}

// SourceSparkEnv returns env as $SPARK_CONF_DIR/spark-env.sh leaves it, the
// file spark-class would have sourced (with set -a, so every assignment is
// exported). Without the file env comes back unchanged and nothing runs.
func SourceSparkEnv(ctx context.Context, env []string) ([]string, error) {
	file := filepath.Join(ConfDir(env), "spark-env.sh")
	if _, err := os.Stat(file); err != nil {
		return env, nil
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", `set -a; . "$1" >&2; set +a; exec env -0`, "bash", file)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("source %s: %w: %s", file, err, lastLine(stderr.String()))
	}
	var sourced []string
	for _, kv := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		if k, _, ok := strings.Cut(kv, "="); ok && k != "_" && k != "SHLVL" && k != "PWD" {
			sourced = append(sourced, kv)
		}
	}
	return Set(sourced, "SPARK_ENV_LOADED", "1"), nil
}

// launcherRefusal finds the message of the IllegalArgumentException Spark's
// launcher throws for settings it will not run with (an -Xmx in
// SPARK_WORKER_OPTS, say): that message names the variable and is the one line
// of the stack trace a user needs. Secret -D values in it are hidden.
func launcherRefusal(out string) (string, bool) {
	const exc = "java.lang.IllegalArgumentException: "
	for _, l := range strings.Split(out, "\n") {
		if _, msg, ok := strings.Cut(l, exc); ok {
			words := strings.Fields(msg)
			for i, w := range words {
				// The value sits inside Spark's "(was ...)." text.
				core := strings.TrimRight(w, ").")
				words[i] = Redact([]string{core})[0] + w[len(core):]
			}
			return strings.Join(words, " "), true
		}
	}
	return "", false
}

// SecretKey reports whether a Spark conf key holds a secret, so that no log
// line, error or explain output shows its value.
func SecretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "secret") || strings.Contains(k, "password") || strings.Contains(k, "token")
}

// Redact hides the values of -D options that hold secrets, which a user may
// have put in SPARK_*_OPTS.
func Redact(argv []string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if k, _, ok := strings.Cut(strings.TrimPrefix(a, "-D"), "="); ok && strings.HasPrefix(a, "-D") && SecretKey(k) {
			a = "-D" + k + "=(not shown)"
		}
		out[i] = a
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
