package boot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestAuthEnv(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	os.WriteFile(file, []byte("s3cr3t-from-file\n"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o600)
	tests := []struct {
		name       string
		role       sparkenv.Role
		env        []string
		wantSecret string
		wantOpts   []string
		wantErr    bool
	}{
		{"no secret", sparkenv.Worker, []string{"SPARK_WORKER_OPTS=-Dx=1"}, "", nil, false},
		{"master secret", sparkenv.Master, []string{"SPARK_AUTH_SECRET=s3cr3t"}, "s3cr3t",
			[]string{"SPARK_MASTER_OPTS=-Dspark.master.rest.enabled=false -Dspark.authenticate=true"}, false},
		{"worker secret file and encryption", sparkenv.Worker, []string{"SPARK_AUTH_SECRET_FILE=" + file, "SPARK_RPC_ENCRYPTION=true"}, "s3cr3t-from-file",
			[]string{"SPARK_WORKER_OPTS=-Dspark.authenticate=true -Dspark.network.crypto.enabled=true"}, false},
		{"both", sparkenv.Worker, []string{"SPARK_AUTH_SECRET=a", "SPARK_AUTH_SECRET_FILE=" + file}, "", nil, true},
		{"missing file", sparkenv.Worker, []string{"SPARK_AUTH_SECRET_FILE=" + filepath.Join(dir, "nope")}, "", nil, true},
		{"empty file", sparkenv.Worker, []string{"SPARK_AUTH_SECRET_FILE=" + empty}, "", nil, true},
		{"encryption without secret", sparkenv.Worker, []string{"SPARK_RPC_ENCRYPTION=true"}, "", nil, true},
		{"encryption typo", sparkenv.Worker, []string{"SPARK_AUTH_SECRET=s3cr3t", "SPARK_RPC_ENCRYPTION=yes"}, "", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, auth, err := authEnv(tt.role, tt.env)
			if tt.wantErr {
				if !errors.Is(err, settings.ErrInvalid) {
					t.Fatalf("authEnv() error = %v, want ErrInvalid", err)
				}
				if strings.Contains(err.Error(), "s3cr3t") {
					t.Errorf("authEnv() error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sparkenv.Get(env, "_SPARK_AUTH_SECRET"); got != tt.wantSecret || auth != (tt.wantSecret != "") {
				t.Errorf("_SPARK_AUTH_SECRET = %q (auth %v), want %q", got, auth, tt.wantSecret)
			}
			for _, kv := range env {
				if strings.HasPrefix(kv, "SPARK_AUTH_SECRET") || strings.HasPrefix(kv, "SPARK_RPC_ENCRYPTION") {
					t.Errorf("authEnv() passes %q on to the JVM", kv)
				}
				if strings.Contains(kv, "s3cr3t") && !strings.HasPrefix(kv, "_SPARK_AUTH_SECRET=") {
					t.Errorf("the secret is in %q", kv)
				}
			}
			for _, want := range tt.wantOpts {
				k, v, _ := strings.Cut(want, "=")
				if got := sparkenv.Get(env, k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}
