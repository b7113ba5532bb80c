package sparkenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// A class-data archive (JDK 13+ dynamic CDS, -XX:SharedArchiveFile) maps the
// classes a master or worker loads at start, already parsed and verified, so
// its JVM starts on about half the CPU. The JVM uses an archive only when the
// class path it runs with begins with the one it was written with, entry for
// entry, and when no directory in that part has files in it. Spark's class
// path breaks both rules: it starts with the conf directory, where users put
// spark-defaults.conf and log4j2.properties, and its jars/* wildcard expands
// in directory order, which differs between hosts that unpacked the same
// image. So the archive is written and used with the jars listed in sorted
// order first and the launcher's other entries after them, in their order.
// Only the conf directory and jars of the jars directory may come before
// them: anything else there
// (SPARK_DAEMON_CLASSPATH) is meant to shadow Spark's classes, and moving it
// behind them would change which class loads.

// ArchiveClasspathFile is the file next to archive that holds the class path
// it was written with.
func ArchiveClasspathFile(archive string) string {
	return strings.TrimSuffix(archive, ".jsa") + ".classpath"
}

// sharingOptions are the java options by which a user already chose what
// class data sharing does; the entrypoint then adds nothing.
var sharingOptions = []string{"-Xshare:", "-XX:SharedArchiveFile=", "-XX:ArchiveClassesAtExit=", "-XX:+AutoCreateSharedArchive", "-XX:SharedClassListFile="}

// WithClassArchive returns java set to map archive, or java unchanged and why
// not. Nothing it finds is an error: a node without its archive starts as
// Spark would start it, only slower.
func WithClassArchive(java []string, archive string, env []string) ([]string, string) {
	recorded, err := os.ReadFile(ArchiveClasspathFile(archive))
	if err == nil {
		_, err = os.Stat(archive)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return java, "no archive at " + archive
	} else if err != nil {
		return java, err.Error()
	}
	dirs := archiveDirs(env)
	jars, err := listJars(dirs.jars)
	if err != nil {
		return java, err.Error()
	}
	return useClassArchive(java, archive, strings.TrimSpace(string(recorded)), dirs, jars)
}

// ClassArchiveDump returns java set to write archive when the JVM exits, and
// the class path to record next to it.
func ClassArchiveDump(java []string, archive string, env []string) ([]string, string, error) {
	dirs := archiveDirs(env)
	jars, err := listJars(dirs.jars)
	if err != nil {
		return nil, "", err
	}
	i, lay, why := archiveLayout(java, dirs, jars)
	if why != "" {
		return nil, "", errors.New(why)
	}
	out := append([]string{java[0], "-XX:ArchiveClassesAtExit=" + archive}, java[1:]...)
	// The archive records the jars alone: the entries after them may change
	// (a mounted conf directory) without spoiling it.
	out[i+1] = lay.jars
	return out, lay.jars, nil
}

// useClassArchive is WithClassArchive once the files are read: recorded is
// the class path the archive was written with, jars the sorted jar files.
func useClassArchive(java []string, archive, recorded string, dirs archiveDirsOf, jars []string) ([]string, string) {
	for _, a := range java[1:] {
		for _, o := range sharingOptions {
			if strings.HasPrefix(a, o) {
				return java, "the java options already set class data sharing (" + a + ")"
			}
		}
	}
	i, lay, why := archiveLayout(java, dirs, jars)
	if why != "" {
		return java, why
	}
	if lay.jars != recorded {
		return java, "spark's jars are not the ones the archive was written for; run entrypoint class-archive again after adding jars"
	}
	out := append([]string{java[0], "-XX:SharedArchiveFile=" + archive}, java[1:]...)
	out[i+1] = lay.run
	return out, ""
}

// archiveDirsOf names the two directories the launcher's class path holds.
type archiveDirsOf struct{ jars, conf string }

func archiveDirs(env []string) archiveDirsOf {
	return archiveDirsOf{jars: filepath.Join(Get(env, "SPARK_HOME"), "jars"), conf: ConfDir(env)}
}

// layout is a class path rearranged for an archive: jars is the sorted jars
// alone, run is jars followed by the launcher's other entries.
type layout struct{ jars, run string }

// archiveLayout finds the class path argument of java (its index) and
// rearranges it, or says why it cannot.
func archiveLayout(java []string, dirs archiveDirsOf, jars []string) (int, layout, string) {
	i := classpathIndex(java)
	if i < 0 {
		return 0, layout{}, "the java command has no class path"
	}
	if len(jars) == 0 {
		return 0, layout{}, "no jars in " + dirs.jars
	}
	wild := filepath.Join(dirs.jars, "*")
	// Spark 4.1's launcher names slf4j-api before jars/*, so that it loads
	// first; such jars stay first.
	var first, conf, after []string
	listed := map[string]bool{}
	seen := false
	for _, e := range strings.Split(java[i], string(os.PathListSeparator)) {
		switch {
		case e == "":
		case e == wild:
			seen = true
		case seen:
			after = append(after, e)
		case filepath.Clean(e) == filepath.Clean(dirs.conf):
			conf = append(conf, e)
		case filepath.Dir(e) == filepath.Clean(dirs.jars) && slices.Contains(jars, e):
			first = append(first, e)
			listed[e] = true
		default:
			return 0, layout{}, fmt.Sprintf("%s comes before spark's jars in the class path, and must stay there", e)
		}
	}
	if !seen {
		return 0, layout{}, "the class path does not hold " + wild
	}
	for _, j := range jars {
		if !listed[j] {
			first = append(first, j)
		}
	}
	sep := string(os.PathListSeparator)
	lay := layout{jars: strings.Join(first, sep)}
	lay.run = strings.Join(append(append([]string{lay.jars}, conf...), after...), sep)
	return i, lay, ""
}

// listJars lists what the JVM's dir/* wildcard expands to, the files named
// *.jar or *.JAR, in sorted order (os.ReadDir sorts).
func listJars(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var jars []string
	for _, e := range ents {
		if n := e.Name(); !e.IsDir() && (strings.HasSuffix(n, ".jar") || strings.HasSuffix(n, ".JAR")) {
			jars = append(jars, filepath.Join(dir, n))
		}
	}
	return jars, nil
}

// ShortClasspath is argv for a log line: the run of Spark's jars the
// archive's class path lists one by one (some 250, longer than the 16 KB at
// which Docker splits a log line) is written as jars/{N jars, sorted}.
func ShortClasspath(argv []string, env []string) []string {
	out := slices.Clone(argv)
	if i := classpathIndex(out); i >= 0 {
		jarsDir := filepath.Clean(archiveDirs(env).jars)
		var kept []string
		n, at := 0, 0
		for _, e := range strings.Split(out[i], string(os.PathListSeparator)) {
			if filepath.Dir(e) == jarsDir && strings.HasSuffix(strings.ToLower(e), ".jar") {
				if n++; n == 1 {
					at = len(kept)
					kept = append(kept, e)
				}
				continue
			}
			kept = append(kept, e)
		}
		if n > 1 {
			kept[at] = fmt.Sprintf("%s/{%d jars, sorted}", jarsDir, n)
			out[i] = strings.Join(kept, string(os.PathListSeparator))
		}
	}
	return out
}

// classpathIndex is the index of java's class path argument, or -1.
func classpathIndex(java []string) int {
	for j := 1; j+1 < len(java); j++ {
		if a := java[j]; a == "-cp" || a == "-classpath" || a == "--class-path" {
			return j + 1
		}
	}
	return -1
}
