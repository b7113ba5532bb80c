package sparkenv

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Classes of the Spark Connect server and of spark-submit, which starts it
// as sbin/start-connect-server.sh does.
const (
	ConnectClass = "org.apache.spark.sql.connect.service.SparkConnectServer"
	SubmitClass  = "org.apache.spark.deploy.SparkSubmit"
)

// ConnectAppName is the application name the server registers with the
// master under, as start-connect-server.sh names it.
const ConnectAppName = "Spark Connect server"

// ConnectPortKey is Spark's setting of the server's gRPC port; 15002 is
// its default.
const (
	ConnectPortKey     = "spark.connect.grpc.binding.port"
	DefaultConnectPort = 15002
)

// ConnectOpts is the variable whose -D options configure the server's
// JVM: spark-submit's own, read by Spark's launcher.
const ConnectOpts = "SPARK_SUBMIT_OPTS"

// ErrNoConnect means the image's Spark has no Connect server: the jar is
// part of Spark's jars since 4.0, an extra package before.
var ErrNoConnect = errors.New("this spark has no connect server")

// connectArgv is spark-submit running the Connect server in client mode,
// the driver in this JVM. Spark's launcher knows the class needs no
// application jar and adds its placeholder itself; --load-spark-defaults
// keeps spark-defaults.conf, which --properties-file would otherwise
// replace (Spark 4.0+).
func (n Node) connectArgv(argv []string) ([]string, error) {
	if n.MasterURL == "" {
		return nil, errors.New("connect needs a master url")
	}
	argv = append(argv, SubmitClass, "--class", ConnectClass, "--name", ConnectAppName, "--master", n.MasterURL)
	if n.PropertiesFile != "" {
		argv = append(argv, "--properties-file", n.PropertiesFile, "--load-spark-defaults")
	}
	return argv, nil
}

// ConnectPort is the server's gRPC port: -Dspark.connect.grpc.binding.port
// in SPARK_SUBMIT_OPTS, else Spark's default.
func ConnectPort(env []string) (int, error) {
	v, ok := JavaOption(env, ConnectOpts, ConnectPortKey)
	if !ok {
		return DefaultConnectPort, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%w: %s=%q: -D%s wants a port from 1 to 65535", ErrInvalid, ConnectOpts, Get(env, ConnectOpts), ConnectPortKey)
	}
	return n, nil
}

// HasConnect reports whether Spark under home ships the Connect server.
func HasConnect(home string) bool {
	jars, _ := filepath.Glob(filepath.Join(home, "jars", "spark-connect_*.jar"))
	for _, j := range jars {
		if fi, err := os.Stat(j); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}

// JWSFilter is Spark 4's servlet filter that lets into a web UI only
// requests that carry a token signed with its key.
const JWSFilter = "org.apache.spark.ui.JWSFilter"

// HasJWSFilter reports whether Spark under home ships JWSFilter: its class
// in the spark-core jar (Spark 4 has it, 3.5 does not).
func HasJWSFilter(home string) bool {
	jars, _ := filepath.Glob(filepath.Join(home, "jars", "spark-core_*.jar"))
	for _, j := range jars {
		z, err := zip.OpenReader(j)
		if err != nil {
			continue
		}
		_, err = z.Open(strings.ReplaceAll(JWSFilter, ".", "/") + ".class")
		z.Close()
		if err == nil {
			return true
		}
	}
	return false
}
