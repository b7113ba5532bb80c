package etcfiles

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// mountHelperEnv marks the re-executed test binary that runs inside its own
// mount namespace.
const mountHelperEnv = "ETCFILES_TEST_MOUNT_NAMESPACE"

// TestApplyBindMounts reproduces how container runtimes provide
// /etc/hosts: a single file bind-mounted over another, read-write or
// read-only. Mounting needs root and a private mount namespace, so the test
// re-executes itself with CLONE_NEWNS (Go makes the new namespace's mounts
// private before exec, so nothing leaks to the host). Without the privilege
// it is skipped.
func TestApplyBindMounts(t *testing.T) {
	if os.Getenv(mountHelperEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("skipping: bind mounts need root (run as root, or in a privileged container)")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestApplyBindMounts$", "-test.v")
		cmd.Env = append(os.Environ(), mountHelperEnv+"=1")
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
		out, err := cmd.CombinedOutput()
		if err != nil {
			if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL) {
				t.Skipf("skipping: cannot create a mount namespace: %v", err)
			}
			t.Fatalf("helper in a mount namespace failed: %v\n%s", err, out)
		}
		if strings.Contains(string(out), "--- SKIP") {
			t.Skipf("helper skipped:\n%s", out)
		}
		t.Logf("helper output:\n%s", out)
		return
	}

	dir := t.TempDir()
	const platform = "127.0.0.1\tlocalhost\n"

	t.Run("read-write mount: rename fails, in-place write works", func(t *testing.T) {
		target := bindMount(t, dir, "hosts-rw", platform, false)
		other := filepath.Join(dir, "replacement")
		if err := os.WriteFile(other, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(other, target); !errors.Is(err, syscall.EBUSY) {
			t.Fatalf("rename onto the mount point: %v, want EBUSY (the simulation is not a bind mount)", err)
		}
		changed, err := Apply(target, addMaster)
		if err != nil || !changed {
			t.Fatalf("Apply = %v, %v; want true, nil", changed, err)
		}
		assertContent(t, target, platform+block1)
	})

	t.Run("read-only mount: ErrReadOnly, nothing changed", func(t *testing.T) {
		target := bindMount(t, dir, "hosts-ro", platform, true)
		changed, err := Apply(target, addMaster)
		if !errors.Is(err, ErrReadOnly) || !errors.Is(err, syscall.EROFS) || changed {
			t.Fatalf("Apply = %v, %v; want false and an error matching ErrReadOnly and EROFS", changed, err)
		}
		t.Logf("error as callers see it: %v", err)
		assertContent(t, target, platform)

		// A file that is already right is not opened for writing, so a
		// read-only mount is no error.
		changed, err = Apply(target, identity)
		if err != nil || changed {
			t.Errorf("Apply(identity) on a read-only mount = %v, %v; want false, nil", changed, err)
		}
	})
}

// bindMount creates dir/name with content and bind-mounts a second file
// over it, as Docker mounts its per-container hosts file over /etc/hosts.
func bindMount(t *testing.T, dir, name, content string, readOnly bool) string {
	t.Helper()
	source := filepath.Join(dir, name+".source")
	target := filepath.Join(dir, name)
	for _, p := range []string{source, target} {
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mount(source, target, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("skipping: bind mount not permitted: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(target, syscall.MNT_DETACH) })
	if readOnly {
		// A bind mount takes the read-only flag only on a remount.
		if err := syscall.Mount("", target, "", syscall.MS_BIND|syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			t.Skipf("skipping: read-only remount not permitted: %v", err)
		}
	}
	return target
}
