package boot

import (
	"io"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

// newLogger writes JSON, one event per line, unless the output is a
// terminal (or ENTRYPOINT_LOG_FORMAT=console). Spark's own output does not go
// through it: the JVM inherits the container's stdout and stderr.
func newLogger(s settings.Settings, w io.Writer) (zerolog.Logger, error) {
	level, err := s.Level()
	if err != nil {
		return zerolog.Nop(), err
	}
	console := s.LogFormat == "console"
	if s.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok && isTerminal(f.Fd()) {
			console = true
		}
	}
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("component", "entrypoint").Logger(), nil
}

func isTerminal(fd uintptr) bool {
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return errno == 0
}
