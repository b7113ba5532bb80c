package sparkenv

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestUseClassArchive(t *testing.T) {
	dirs := archiveDirsOf{jars: "/opt/spark/jars", conf: "/opt/spark/conf"}
	jars := []string{"/opt/spark/jars/a.jar", "/opt/spark/jars/b.JAR"}
	recorded := "/opt/spark/jars/a.jar:/opt/spark/jars/b.JAR"
	java := func(cp string, opts ...string) []string {
		return append(append([]string{"/usr/bin/java"}, opts...), "-cp", cp, "-Xmx1g", WorkerClass, "spark://m:7077")
	}
	tests := []struct {
		name     string
		in       []string
		jars     []string
		recorded string
		want     []string
		why      string
	}{
		{"conf before the jars goes after them", java("/opt/spark/conf/:/opt/spark/jars/*"), jars, recorded,
			[]string{"/usr/bin/java", "-XX:SharedArchiveFile=/a/worker.jsa", "-cp", recorded + ":/opt/spark/conf/", "-Xmx1g", WorkerClass, "spark://m:7077"}, ""},
		{"hadoop conf and dist class path stay after", java("/opt/spark/conf:/opt/spark/jars/*:/etc/hadoop:/x/y.jar"), jars, recorded,
			[]string{"/usr/bin/java", "-XX:SharedArchiveFile=/a/worker.jsa", "-cp", recorded + ":/opt/spark/conf:/etc/hadoop:/x/y.jar", "-Xmx1g", WorkerClass, "spark://m:7077"}, ""},
		{"a jar named first stays first", java("/opt/spark/conf:/opt/spark/jars/b.JAR:/opt/spark/jars/*"), jars, "/opt/spark/jars/b.JAR:/opt/spark/jars/a.jar",
			[]string{"/usr/bin/java", "-XX:SharedArchiveFile=/a/worker.jsa", "-cp", "/opt/spark/jars/b.JAR:/opt/spark/jars/a.jar:/opt/spark/conf", "-Xmx1g", WorkerClass, "spark://m:7077"}, ""},
		{"a jar from elsewhere named first", java("/opt/spark/conf:/opt/other/b.JAR:/opt/spark/jars/*"), jars, recorded, nil, "/opt/other/b.JAR comes before"},
		{"no conf", java("/opt/spark/jars/*"), jars, recorded,
			[]string{"/usr/bin/java", "-XX:SharedArchiveFile=/a/worker.jsa", "-cp", recorded, "-Xmx1g", WorkerClass, "spark://m:7077"}, ""},
		{"daemon class path shadows spark", java("/opt/extra.jar:/opt/spark/conf/:/opt/spark/jars/*"), jars, recorded, nil, "/opt/extra.jar comes before"},
		{"user chose sharing", java("/opt/spark/conf/:/opt/spark/jars/*", "-Xshare:off"), jars, recorded, nil, "-Xshare:off"},
		{"user archive", java("/opt/spark/jars/*", "-XX:SharedArchiveFile=/mine.jsa"), jars, recorded, nil, "/mine.jsa"},
		{"a jar added since", java("/opt/spark/jars/*"), append(jars, "/opt/spark/jars/c.jar"), recorded, nil, "not the ones the archive was written for"},
		{"no wildcard", java("/opt/spark/conf/:/elsewhere/*"), jars, recorded, nil, "/elsewhere/* comes before"},
		{"no jars", java("/opt/spark/jars/*"), nil, recorded, nil, "no jars in /opt/spark/jars"},
		{"no class path", []string{"/usr/bin/java", "-version"}, jars, recorded, nil, "no class path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := useClassArchive(tt.in, "/a/worker.jsa", tt.recorded, dirs, tt.jars)
			if tt.why == "" {
				if why != "" || !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("useClassArchive = %q, %q; want %q", got, why, tt.want)
				}
				return
			}
			if !strings.Contains(why, tt.why) || !reflect.DeepEqual(got, tt.in) {
				t.Fatalf("useClassArchive = %q, %q; want the command unchanged and a reason with %q", got, why, tt.why)
			}
		})
	}
}

// TestClassArchiveFiles: what class-archive records is what a start with
// the same jars accepts, whatever order the directory lists them in.
func TestClassArchiveFiles(t *testing.T) {
	home := t.TempDir()
	jarsDir := filepath.Join(home, "jars")
	if err := os.Mkdir(jarsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"z.jar", "a.jar", "M.JAR", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(jarsDir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(jarsDir, "d.jar"), 0o755); err != nil {
		t.Fatal(err)
	}
	env := []string{"SPARK_HOME=" + home}
	java := []string{"/j/java", "-cp", home + "/conf/:" + home + "/jars/*", MasterClass}
	archive := filepath.Join(t.TempDir(), "master.jsa")
	if _, why := WithClassArchive(java, archive, env); !strings.Contains(why, "no archive at "+archive) {
		t.Fatalf("without the files: why = %q", why)
	}
	dump, cp, err := ClassArchiveDump(java, archive, env)
	if err != nil {
		t.Fatal(err)
	}
	wantCP := strings.Join([]string{jarsDir + "/M.JAR", jarsDir + "/a.jar", jarsDir + "/z.jar"}, ":")
	if want := []string{"/j/java", "-XX:ArchiveClassesAtExit=" + archive, "-cp", wantCP, MasterClass}; cp != wantCP || !reflect.DeepEqual(dump, want) {
		t.Fatalf("ClassArchiveDump = %q, %q; want %q, %q", dump, cp, want, wantCP)
	}
	for f, b := range map[string]string{archive: "jsa", ArchiveClasspathFile(archive): cp + "\n"} {
		if err := os.WriteFile(f, []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, why := WithClassArchive(java, archive, env)
	if want := []string{"/j/java", "-XX:SharedArchiveFile=" + archive, "-cp", wantCP + ":" + home + "/conf/", MasterClass}; why != "" || !reflect.DeepEqual(got, want) {
		t.Fatalf("WithClassArchive = %q, %q; want %q", got, why, want)
	}
	if err := os.WriteFile(filepath.Join(jarsDir, "b.jar"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, why := WithClassArchive(java, archive, env); why == "" || !reflect.DeepEqual(got, java) {
		t.Fatalf("after a jar was added: %q, %q; want the command unchanged and a reason", got, why)
	}
}

func TestShortClasspath(t *testing.T) {
	in := []string{"/j/java", "-XX:SharedArchiveFile=/a.jsa", "-cp", "/s/jars/x.jar:/s/jars/a.jar:/s/jars/b.JAR:/s/conf:/h/conf", "C"}
	want := []string{"/j/java", "-XX:SharedArchiveFile=/a.jsa", "-cp", "/s/jars/{3 jars, sorted}:/s/conf:/h/conf", "C"}
	if got := ShortClasspath(in, []string{"SPARK_HOME=/s"}); !reflect.DeepEqual(got, want) {
		t.Errorf("ShortClasspath = %q, want %q", got, want)
	}
	if in[3] != "/s/jars/x.jar:/s/jars/a.jar:/s/jars/b.JAR:/s/conf:/h/conf" {
		t.Errorf("ShortClasspath changed its argument: %q", in)
	}
	// Spark's own form has nothing to shorten.
	plain := []string{"/j/java", "-cp", "/s/conf:/s/jars/slf4j.jar:/s/jars/*", "C"}
	if got := ShortClasspath(plain, []string{"SPARK_HOME=/s"}); !reflect.DeepEqual(got, plain) {
		t.Errorf("ShortClasspath = %q, want it unchanged", got)
	}
}
