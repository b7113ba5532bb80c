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
	secret, err := secretSetting(env, "SPARK_AUTH_SECRET")
	env = sparkenv.Unset(env, "SPARK_AUTH_SECRET", "SPARK_AUTH_SECRET_FILE")
	encrypt := sparkenv.Get(env, "SPARK_RPC_ENCRYPTION")
	env = sparkenv.Unset(env, "SPARK_RPC_ENCRYPTION")
	switch encrypt {
	case "", "false", "true":
	default:
		return env, false, fmt.Errorf("%w: SPARK_RPC_ENCRYPTION=%q: want true or false", settings.ErrInvalid, encrypt)
	}
	if err != nil {
		return env, false, err
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

// secretSetting is the secret in the variable name, or read from the file
// that name_FILE names (a mounted Kubernetes or ECS secret), without its
// trailing newline; "" when neither is set. Setting both, an unreadable
// file or an empty one is an error naming the variables, never the secret.
func secretSetting(env []string, name string) (string, error) {
	fileVar := name + "_FILE"
	secret, file := sparkenv.Get(env, name), sparkenv.Get(env, fileVar)
	switch {
	case secret != "" && file != "":
		return "", fmt.Errorf("%w: %s and %s are both set: choose one", settings.ErrInvalid, name, fileVar)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("%w: %s=%q: %v", settings.ErrInvalid, fileVar, file, err)
		}
		if secret = strings.TrimRight(string(b), "\r\n"); secret == "" {
			return "", fmt.Errorf("%w: %s=%q: the file is empty", settings.ErrInvalid, fileVar, file)
		}
	}
	return secret, nil
}
