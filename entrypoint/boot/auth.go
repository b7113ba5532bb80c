package boot

import (
	"fmt"
	"os"
	"strings"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// authEnv turns SPARK_AUTH_SECRET or SPARK_AUTH_SECRET_FILE into what the
// daemon JVM needs for spark.authenticate: the secret in _SPARK_AUTH_SECRET,
// which Spark's SecurityManager reads and which never shows in ps (a
// -Dspark.authenticate.secret would), and -Dspark.authenticate=true in the
// node's *_OPTS. A master also gets its REST server turned off: it has no
// authentication, Spark refuses to start it next to a secret, and it is on
// by default since 4.1. SPARK_RPC_ENCRYPTION=true adds AES-based RPC
// encryption, which needs the secret. Errors name the variables, never the
// secret.
func authEnv(role sparkenv.Role, env []string) ([]string, bool, error) {
	secret, fromEnv := sparkenv.Lookup(env, "SPARK_AUTH_SECRET")
	file, fromFile := sparkenv.Lookup(env, "SPARK_AUTH_SECRET_FILE")
	env = sparkenv.Unset(env, "SPARK_AUTH_SECRET", "SPARK_AUTH_SECRET_FILE")
	encrypt := sparkenv.Get(env, "SPARK_RPC_ENCRYPTION")
	env = sparkenv.Unset(env, "SPARK_RPC_ENCRYPTION")
	switch encrypt {
	case "", "false", "true":
	default:
		return env, false, fmt.Errorf("%w: SPARK_RPC_ENCRYPTION=%q: want true or false", settings.ErrInvalid, encrypt)
	}
	switch {
	case fromEnv && fromFile && secret != "" && file != "":
		return env, false, fmt.Errorf("%w: SPARK_AUTH_SECRET and SPARK_AUTH_SECRET_FILE are both set: choose one", settings.ErrInvalid)
	case fromFile && file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return env, false, fmt.Errorf("%w: SPARK_AUTH_SECRET_FILE=%q: %v", settings.ErrInvalid, file, err)
		}
		secret = strings.TrimRight(string(b), "\r\n")
		if secret == "" {
			return env, false, fmt.Errorf("%w: SPARK_AUTH_SECRET_FILE=%q: the file is empty", settings.ErrInvalid, file)
		}
	}
	if secret == "" {
		if encrypt == "true" {
			return env, false, fmt.Errorf("%w: SPARK_RPC_ENCRYPTION=true needs SPARK_AUTH_SECRET or SPARK_AUTH_SECRET_FILE", settings.ErrInvalid)
		}
		return env, false, nil
	}
	opts := "SPARK_WORKER_OPTS"
	switch role {
	case sparkenv.Master:
		opts = "SPARK_MASTER_OPTS"
		env = sparkenv.AddJavaOption(env, opts, "spark.master.rest.enabled", "false")
	case sparkenv.Connect:
		// A driver also needs the secret in its conf: startNode writes
		// it to the properties file.
		opts = sparkenv.ConnectOpts
	}
	env = sparkenv.AddJavaOption(env, opts, "spark.authenticate", "true")
	if encrypt == "true" {
		env = sparkenv.AddJavaOption(env, opts, "spark.network.crypto.enabled", "true")
	}
	return sparkenv.Set(env, "_SPARK_AUTH_SECRET", secret), true, nil
}
