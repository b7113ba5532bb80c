//go:build emulated

// Package arm64_test is the smoke test of the arm64 images on a host of
// another architecture, under QEMU's user-mode emulation (Debian's
// qemu-user-static, registered with binfmt_misc): `make test-arm64`, not
// part of `make test`, since an emulated JVM starts about ten times slower.
// The images are the default Spark line built for arm64 (make images-arm64,
// tagged VERSION-arm64): marked arm64, with an arm64 entrypoint, Java and
// Python; version, explain and doctor answer; a master and one worker,
// linked, reach ALIVE with their class-data archives mapped, and a job from
// a driver on the host runs on the worker's executor.
package arm64_test

import (
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// emulated is how long an emulated JVM may take where a native one has a
// few seconds: a master's or a worker's start, an executor's registration.
const emulated = 10 * time.Minute

func TestArm64Emulated(t *testing.T) {
	const arch = "arm64"
	if runtime.GOARCH == arch {
		t.Skip("the host is arm64: the images need no emulation here")
	}
	version := e2e.Versions(t)["SPARK_VERSION_DEFAULT"]
	tag := version + "-" + arch
	e2e.RequireTag(t, tag, "images-arm64")
	m := e2e.NewMatrix(t, "arm64-emulated")
	start := time.Now()
	masterImage, workerImage := "snufkin/spark-master:"+tag, "snufkin/spark-worker:"+tag

	// The images, what runs in them, and what they say of themselves.
	archOK := true
	for _, img := range []string{masterImage, workerImage} {
		got := strings.TrimSpace(e2e.Run(t, "docker", "image", "inspect", "-f", "{{.Os}}/{{.Architecture}}", img))
		if got != "linux/"+arch {
			archOK = false
			t.Errorf("%s is %s, want linux/%s", img, got, arch)
		}
	}
	// --platform: the image's own, which docker run otherwise warns of.
	platform := "--platform=linux/" + arch
	uname := strings.TrimSpace(e2e.Run(t, "docker", "run", "--rm", platform, workerImage, "uname", "-m"))
	file := e2e.Run(t, "docker", "run", "--rm", platform, "--entrypoint", "sh", workerImage, "-c",
		`for f in /usr/local/bin/entrypoint "$JAVA_HOME/bin/java" "$(command -v python3)"; do od -An -tx1 -j18 -N2 "$(readlink -f "$f")"; done`)
	// e_machine 0xb7 (183) is EM_AARCH64, little-endian in the ELF header.
	if uname != "aarch64" || strings.Count(file, "b7 00") != 3 {
		archOK = false
		t.Errorf("in %s: uname -m %q, ELF machines of entrypoint, java, python3 %q: want aarch64 and b7 00 three times", workerImage, uname, file)
	}
	m.OK("arch", archOK)

	version0 := e2e.Run(t, "docker", "run", "--rm", platform, workerImage, "version")
	versionOK := strings.Contains(version0, "spark "+version+"\n") && strings.Contains(version0, "arch "+arch+"\n") && !strings.Contains(version0, "unknown")
	if !versionOK {
		t.Errorf("%s version:\n%s", workerImage, version0)
	}
	m.OK("version", versionOK)

	formation := time.Now()
	prefix := e2e.Name("arm64")
	res := e2e.NewResources(t, prefix)
	master := prefix + "-spark-master"
	res.Container(master)
	e2e.Run(t, "docker", "run", "-d", "--name", master, platform, "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080",
		"--stop-timeout", "30", "-e", "ENTRYPOINT_GRACE=25s", masterImage)
	worker := prefix + "-worker-1"
	res.Container(worker)
	e2e.Run(t, "docker", "run", "-d", "--name", worker, platform, "--link", master+":spark-master",
		"--stop-timeout", "30", "-e", "ENTRYPOINT_GRACE=25s", workerImage)

	m.OK("discovery", e2e.CheckDiscovery(t, worker, "docker-links", "spark://spark-master:7077"))
	r := e2e.Runtime(t, worker)
	explainOK := r.Arch == arch && r.Spark == version && r.Java != "" && r.Python != ""
	if !explainOK {
		t.Errorf("explain's runtime in %s: %+v, want arch %s, Spark %s, a Java and a Python", worker, r, arch, version)
	}
	m.OK("explain", explainOK)

	ui := e2e.Published(t, master, "8080/tcp")
	e2e.RequireAlive(t, m, ui, 1, emulated)
	m.Set("formation", time.Since(formation).Round(time.Second).String())
	m.OK("class-archive", e2e.CheckClassArchive(t, master, "master") && e2e.CheckClassArchive(t, worker, "worker"))

	// doctor in the running worker: the master it found answers.
	out, err := e2e.Try("docker", "exec", worker, "/usr/local/bin/entrypoint", "doctor")
	if err != nil {
		t.Errorf("entrypoint doctor in %s: %v\n%s", worker, err, out)
	}
	m.OK("doctor", err == nil)

	jobStart := time.Now()
	ok, _ := e2e.JobWith(t, e2e.Python(t), "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), e2e.Gateway(t, master), 1,
		"--wait", strconv.Itoa(int(emulated.Seconds())))
	if ok {
		m.Set("job", "ok("+time.Since(jobStart).Round(time.Second).String()+")")
	} else {
		m.Set("job", "fail")
	}
	m.OK("stop", e2e.Stop(t, []string{worker, master}))
	t.Logf("arm64-emulated path took %s", time.Since(start).Round(time.Second))
}
