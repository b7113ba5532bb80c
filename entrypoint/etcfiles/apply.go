package etcfiles

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// maxFileSize caps what Apply reads. Real hosts and resolv.conf files are a
// few hundred bytes; anything near this size is not one of them, and a cap
// keeps a mistaken path (a device, a huge log) from being read into memory.
const maxFileSize = 1 << 20

// ErrReadOnly is wrapped by the error [Apply] returns when the file cannot
// be written: the container's root file system is read-only (EROFS), or
// the entrypoint does not run as root (EACCES, EPERM). Callers check it
// with errors.Is and degrade to a single warning, since a read-only /etc is
// a legitimate deployment choice rather than a fault.
var ErrReadOnly = errors.New("read-only")

// Apply reads the file at path, passes its contents to transform and, if
// the result differs, writes it back in place. It reports whether the file
// changed.
//
// The file must be a regular file of at most 1 MiB, and so must the
// transformed contents. When transform returns an error, or the bytes are
// unchanged, the file is not opened for writing at all; an unchanged file on
// a read-only mount is therefore not an error.
//
// The write goes to the same inode: open for writing without O_TRUNC, write
// from offset 0, truncate to the new length, fsync. Renaming a new file over
// the old one is not possible, because Docker, the kubelet and ECS
// bind-mount these files and rename(2) onto a mount point fails with EBUSY.
// Writing before truncating means a concurrent reader sees either the old
// bytes, the new ones, or the new ones followed by a tail of the old, but
// never an empty file; with the managed block at the end, a reader that
// catches the moment in between sees every platform line. Apply does not
// lock against other writers (Docker rewrites /etc/hosts when a linked
// container restarts); the last writer wins, and the next run of the
// entrypoint puts the block back.
//
// Errors that mean the file cannot be written match [ErrReadOnly] as well as
// the underlying errno.
func Apply(path string, transform func([]byte) ([]byte, error)) (changed bool, err error) {
	in, err := readCapped(path)
	if err != nil {
		return false, err
	}
	out, err := transform(in)
	if err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	if bytes.Equal(in, out) {
		return false, nil
	}
	if len(out) > maxFileSize {
		return false, fmt.Errorf("%s: new contents are %d bytes, more than the %d allowed", path, len(out), maxFileSize)
	}
	if err := writeInPlace(path, out); err != nil {
		return false, err
	}
	return true, nil
}

func readCapped(path string) ([]byte, error) {
	// Check the path before opening it, because opening a FIFO for
	// reading blocks until someone writes to it.
	if err := checkRegular(os.Stat(path)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// And check the opened file again, so that a device swapped in
	// between the two is not read either.
	if err := checkRegular(f.Stat()); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return b, nil
}

func checkRegular(fi os.FileInfo, err error) error {
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return pe.Err
		}
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("not a regular file (mode %s)", fi.Mode().Type())
	}
	return nil
}

func writeInPlace(path string, b []byte) (err error) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return readOnlyError("open", path, err)
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", path, cerr)
		}
	}()
	if _, err := f.WriteAt(b, 0); err != nil {
		return readOnlyError("write", path, err)
	}
	if err := f.Truncate(int64(len(b))); err != nil {
		return readOnlyError("truncate", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", path, err)
	}
	return nil
}

// readOnlyError wraps err, adding ErrReadOnly when it says the file cannot
// be written. The *PathError is unwrapped so the message names the path
// once.
func readOnlyError(op, path string, err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if isReadOnly(err) {
		return fmt.Errorf("%s %s: %w: %w", op, path, ErrReadOnly, err)
	}
	return fmt.Errorf("%s %s: %w", op, path, err)
}

func isReadOnly(err error) bool {
	return errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}
