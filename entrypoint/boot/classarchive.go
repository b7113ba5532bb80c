package boot

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// classArchiveFile is the archive of role's JVM under ENTRYPOINT_CLASS_ARCHIVE,
// or "" when it is off.
func classArchiveFile(s settings.Settings, role sparkenv.Role) string {
	if s.ClassArchive == settings.ClassArchiveOff {
		return ""
	}
	return filepath.Join(s.ClassArchive, string(role)+".jsa")
}

// withClassArchive sets java to map the plan's archive, or says why it
// does not ("" when the archive is off).
func withClassArchive(p Plan, java, env []string) ([]string, string) {
	if p.ClassArchive == "" {
		return java, "off"
	}
	return sparkenv.WithClassArchive(java, p.ClassArchive, env)
}

// Where class-archive runs its two JVMs: loopback and the default ports, as
// nothing else listens in a build step.
const (
	archiveHost      = "127.0.0.1"
	archiveMasterURL = "spark://127.0.0.1:7077"
	archiveMasterUI  = "http://127.0.0.1:8080/json/"
)

// writeClassArchive is `entrypoint class-archive ROLE`, run by the
// Dockerfiles: it starts a master and a worker on loopback, the role's JVM
// set to write its archive at exit, waits until the worker is ALIVE at the
// master, so that the archive holds registration too, and stops both.
// A java older than JDK 13 cannot write one: the image is then built
// without, and its JVMs start as Spark would start them.
func writeClassArchive(role sparkenv.Role, s settings.Settings, log zerolog.Logger) error {
	archive := classArchiveFile(s, role)
	if archive == "" {
		return fmt.Errorf("%w: ENTRYPOINT_CLASS_ARCHIVE=%q: class-archive needs a directory", settings.ErrInvalid, s.ClassArchive)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env := os.Environ()
	if sparkenv.Get(env, "SPARK_HOME") == "" {
		env = sparkenv.Set(env, "SPARK_HOME", "/opt/spark")
	}
	work, err := os.MkdirTemp("", "class-archive")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	// The worker's default work directory is in the image; nothing of this
	// run may stay there.
	env = sparkenv.Set(sparkenv.WithScalaVersion(env), "SPARK_WORKER_DIR", filepath.Join(work, "worker"))
	home := sparkenv.Get(env, "SPARK_HOME")
	master := sparkenv.Node{Role: sparkenv.Master, SparkHome: home, Host: archiveHost}
	worker := sparkenv.Node{Role: sparkenv.Worker, SparkHome: home, Host: archiveHost, MasterURL: archiveMasterURL}
	mj, err := master.JavaCommand(ctx, env)
	if err != nil {
		return err
	}
	wj, err := worker.JavaCommand(ctx, env)
	if err != nil {
		return err
	}
	if probe := exec.CommandContext(ctx, mj[0], "-XX:ArchiveClassesAtExit="+filepath.Join(work, "probe.jsa"), "-version"); probe.Run() != nil {
		log.Warn().Str("java", mj[0]).Msg("this java cannot write a class-data archive (JDK 13 or later can): none written")
		return nil
	}
	if err := os.MkdirAll(s.ClassArchive, 0o755); err != nil {
		return err
	}
	var classpath string
	if role == sparkenv.Master {
		mj, classpath, err = sparkenv.ClassArchiveDump(mj, archive, env)
	} else {
		wj, classpath, err = sparkenv.ClassArchiveDump(wj, archive, env)
	}
	if err != nil {
		return err
	}
	os.Remove(archive)
	os.Remove(sparkenv.ArchiveClasspathFile(archive))
	m, err := startQuiet(mj, env)
	if err != nil {
		return err
	}
	defer m.stop()
	if !awaitMasterPort(ctx, archiveMasterURL, 3*time.Minute, log) {
		return m.failed("the master did not listen on 7077")
	}
	w, err := startQuiet(wj, env)
	if err != nil {
		return err
	}
	defer w.stop()
	if err := awaitWorker(ctx, m, w); err != nil {
		return err
	}
	dumper := m
	if role == sparkenv.Worker {
		dumper = w
	}
	// Stop the worker first: the master has nothing left to do once it is
	// gone, and each JVM writes its archive as it exits.
	w.stop()
	m.stop()
	st, err := os.Stat(archive)
	if err != nil {
		return fmt.Errorf("%s: the %s jvm wrote no archive: %w: %s", archive, role, err, lastLines(dumper.out.String()))
	}
	if err := os.WriteFile(sparkenv.ArchiveClasspathFile(archive), []byte(classpath+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.Chmod(archive, 0o644); err != nil {
		return err
	}
	// The JVMs leave their (empty) perf-data directories in the image.
	stale, _ := filepath.Glob(filepath.Join(os.TempDir(), "hsperfdata_*"))
	for _, d := range stale {
		os.Remove(d)
	}
	log.Info().Str("archive", archive).Int64("bytes", st.Size()).Msg("class-data archive written")
	return nil
}

// quietJVM is a JVM whose output is kept for the error that needs it.
type quietJVM struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{}
}

func startQuiet(argv, env []string) (*quietJVM, error) {
	j := &quietJVM{cmd: exec.Command(argv[0], argv[1:]...), done: make(chan struct{})}
	j.cmd.Env = env
	j.cmd.Stdout, j.cmd.Stderr = &j.out, &j.out
	if err := j.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { j.cmd.Wait(); close(j.done) }()
	return j, nil
}

// stop ends the JVM with SIGTERM, as a container stop would, which runs its
// exit path and so writes the archive; SIGKILL after a minute.
func (j *quietJVM) stop() {
	select {
	case <-j.done:
		return
	default:
	}
	j.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-j.done:
	case <-time.After(time.Minute):
		j.cmd.Process.Kill()
		<-j.done
	}
}

func (j *quietJVM) failed(what string) error {
	j.stop()
	return fmt.Errorf("class-archive: %s: %s", what, lastLines(j.out.String()))
}

// lastLines is the end of a JVM's output, where its error is.
func lastLines(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) > 5 {
		lines = lines[len(lines)-5:]
	}
	return strings.Join(lines, "\n")
}

// awaitWorker waits until the master lists one ALIVE worker.
func awaitWorker(ctx context.Context, m, w *quietJVM) error {
	c := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		var st struct {
			AliveWorkers int `json:"aliveworkers"`
		}
		if getJSON(c, archiveMasterUI, &st) == nil && st.AliveWorkers > 0 {
			return nil
		}
		select {
		case <-m.done:
			return m.failed("the master exited")
		case <-w.done:
			return w.failed("the worker exited")
		case <-ctx.Done():
			return w.failed("no worker ALIVE at the master")
		case <-tick.C:
		}
	}
}
