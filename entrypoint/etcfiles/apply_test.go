//go:build unix

package etcfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// addMaster is the transform the entrypoint would apply to /etc/hosts.
func addMaster(in []byte) ([]byte, error) { return RewriteHosts(in, master) }

func identity(in []byte) ([]byte, error) { return in, nil }

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hosts")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return uint64(fi.Sys().(*syscall.Stat_t).Ino)
}

// ageFile sets the file's mtime far in the past, so any write shows.
func ageFile(t *testing.T, path string) time.Time {
	t.Helper()
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	return old
}

func assertContent(t *testing.T, path, want string) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s contains\n%q\nwant\n%q", path, got, want)
	}
}

func assertMtime(t *testing.T, path string, want time.Time) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(want) {
		t.Errorf("%s was written: mtime %v, want %v", path, fi.ModTime(), want)
	}
}

func TestApplyWritesInPlace(t *testing.T) {
	const platform = "127.0.0.1\tlocalhost\n"
	path := writeTemp(t, platform)
	// A second name for the inode, as a bind mount is: only an in-place
	// write shows through it.
	link := path + ".link"
	if err := os.Link(path, link); err != nil {
		t.Fatal(err)
	}
	before := inode(t, path)

	changed, err := Apply(path, addMaster)
	if err != nil || !changed {
		t.Fatalf("Apply(add) = %v, %v; want true, nil", changed, err)
	}
	if after := inode(t, path); after != before {
		t.Errorf("inode changed from %d to %d: file was replaced, not rewritten", before, after)
	}
	want := platform + block1
	assertContent(t, path, want)
	assertContent(t, link, want)

	// Shrinking must truncate: no tail of the longer content may remain.
	changed, err = Apply(path, func(in []byte) ([]byte, error) { return RewriteHosts(in, nil) })
	if err != nil || !changed {
		t.Fatalf("Apply(remove) = %v, %v; want true, nil", changed, err)
	}
	assertContent(t, link, platform)
	if after := inode(t, path); after != before {
		t.Errorf("inode changed from %d to %d on shrink", before, after)
	}
}

func TestApplyUnchangedNotWritten(t *testing.T) {
	path := writeTemp(t, "127.0.0.1\tlocalhost\n"+block1)
	old := ageFile(t, path)
	for name, transform := range map[string]func([]byte) ([]byte, error){
		"identity":            identity,
		"same block":          addMaster,
		"equal bytes, copied": func(in []byte) ([]byte, error) { return bytes.Clone(in), nil },
	} {
		changed, err := Apply(path, transform)
		if err != nil || changed {
			t.Errorf("Apply(%s) = %v, %v; want false, nil", name, changed, err)
		}
	}
	assertMtime(t, path, old)
}

func TestApplyTransformErrorWritesNothing(t *testing.T) {
	const content = "127.0.0.1\tlocalhost\n"
	path := writeTemp(t, content)
	old := ageFile(t, path)
	errBoom := errors.New("boom")
	changed, err := Apply(path, func([]byte) ([]byte, error) { return []byte("partial"), errBoom })
	if !errors.Is(err, errBoom) || changed {
		t.Errorf("Apply(failing) = %v, %v; want false and an error wrapping %v", changed, err, errBoom)
	}
	// A real rewrite error: a damaged block.
	damaged := writeTemp(t, beginMarker+"\n")
	if _, err := Apply(damaged, addMaster); err == nil {
		t.Error("Apply on a damaged block: no error")
	}
	assertContent(t, path, content)
	assertMtime(t, path, old)
}

func TestApplySizeCap(t *testing.T) {
	big := writeTemp(t, string(bytes.Repeat([]byte("#"), maxFileSize+1)))
	called := false
	if _, err := Apply(big, func(in []byte) ([]byte, error) { called = true; return in, nil }); err == nil || called {
		t.Errorf("Apply on a file over 1 MiB: err %v, transform called %v; want an error before transforming", err, called)
	}

	exact := writeTemp(t, string(bytes.Repeat([]byte("#"), maxFileSize)))
	if _, err := Apply(exact, identity); err != nil {
		t.Errorf("Apply on a file of exactly 1 MiB: %v", err)
	}
	old := ageFile(t, exact)
	if _, err := Apply(exact, func(in []byte) ([]byte, error) { return append(in, '\n'), nil }); err == nil {
		t.Error("Apply growing a file past 1 MiB: no error")
	}
	assertMtime(t, exact, old)
}

func TestApplyBadPaths(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		is         error
	}{
		{"missing", filepath.Join(dir, "missing"), fs.ErrNotExist},
		{"directory", dir, nil},
		{"fifo", fifo, nil}, // must fail, not block waiting for a writer
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, err := Apply(tt.path, identity)
			if err == nil || changed {
				t.Fatalf("Apply(%s) = %v, %v; want an error", tt.path, changed, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Apply(%s) error %v does not match %v", tt.path, err, tt.is)
			}
			if errors.Is(err, ErrReadOnly) {
				t.Errorf("Apply(%s) error %v matches ErrReadOnly", tt.path, err)
			}
		})
	}
}

func TestReadOnlyError(t *testing.T) {
	tests := []struct {
		err      error
		readOnly bool
	}{
		{syscall.EROFS, true},
		{syscall.EACCES, true},
		{syscall.EPERM, true},
		{&os.PathError{Op: "open", Path: "/etc/hosts", Err: syscall.EROFS}, true},
		{syscall.EBUSY, false},
		{syscall.ENOSPC, false},
		{syscall.EIO, false},
	}
	for _, tt := range tests {
		err := readOnlyError("open", "/etc/hosts", tt.err)
		if got := errors.Is(err, ErrReadOnly); got != tt.readOnly {
			t.Errorf("readOnlyError(%v) = %q; matches ErrReadOnly: %v, want %v", tt.err, err, got, tt.readOnly)
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			t.Errorf("readOnlyError(%v) = %q hides the errno", tt.err, err)
		}
	}
	want := "open /etc/hosts: read-only: read-only file system"
	if got := readOnlyError("open", "/etc/hosts", &os.PathError{Op: "open", Path: "/etc/hosts", Err: syscall.EROFS}).Error(); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
}

func ExampleApply() {
	dir, _ := os.MkdirTemp("", "etcfiles-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "hosts")
	_ = os.WriteFile(path, []byte("127.0.0.1\tlocalhost\n"), 0o644)

	changed, err := Apply(path, addMaster)
	switch {
	case errors.Is(err, ErrReadOnly):
		fmt.Println("warning: cannot add spark-master to hosts:", err)
	case err != nil:
		fmt.Println("error:", err)
	default:
		fmt.Println("changed:", changed)
	}
	changed, _ = Apply(path, addMaster)
	fmt.Println("changed on rerun:", changed)
	// Output:
	// changed: true
	// changed on rerun: false
}
