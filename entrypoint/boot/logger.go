package boot

import (
	"fmt"
	"io"
	"strings"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

// newLogger writes the entrypoint's lines in the layout of Spark's own
// default log4j2 pattern (yy/MM/dd HH:mm:ss LEVEL name: message), followed
// by the facts as key=value, so that the entrypoint's lines and the JVM's
// read as one log in `docker logs`; ENTRYPOINT_LOG_FORMAT=json writes one
// JSON object per line instead, for a log shipper. No colours: what a
// terminal gets under `docker run -t` is kept in `docker logs` too. Spark's
// own output does not go through it: the JVM inherits the container's
// stdout and stderr.
func newLogger(s settings.Settings, w io.Writer) (zerolog.Logger, error) {
	level, err := s.Level()
	if err != nil {
		return zerolog.Nop(), err
	}
	if s.LogFormat != "json" {
		w = sparkLayout(w)
	}
	return zerolog.New(w).Level(level).With().Timestamp().Str("component", "entrypoint").Logger(), nil
}

// sparkLayout is a zerolog writer printing Spark's log layout.
func sparkLayout(w io.Writer) io.Writer {
	return zerolog.ConsoleWriter{
		Out:           w,
		NoColor:       true,
		TimeFormat:    "06/01/02 15:04:05",
		PartsOrder:    []string{zerolog.TimestampFieldName, zerolog.LevelFieldName, "component", zerolog.MessageFieldName},
		FieldsExclude: []string{"component"},
		FormatLevel: func(i any) string {
			if l, ok := i.(string); ok {
				return strings.ToUpper(l)
			}
			return "INFO"
		},
		FormatPartValueByName: func(i any, name string) string {
			if name == "component" {
				return fmt.Sprintf("%v:", i)
			}
			return fmt.Sprint(i)
		},
	}
}
