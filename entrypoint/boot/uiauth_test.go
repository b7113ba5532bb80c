package boot

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
	"github.com/snufkin/swarming-spark/entrypoint/uitoken"
)

// sparkHome is a SPARK_HOME whose spark-core jar holds JWSFilter (Spark 4)
// or not (3.5).
func sparkHome(t *testing.T, jws bool) string {
	t.Helper()
	home := t.TempDir()
	if err := os.Mkdir(filepath.Join(home, "jars"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(home, "jars", "spark-core_2.13-9.9.9.jar"))
	if err != nil {
		t.Fatal(err)
	}
	z := zip.NewWriter(f)
	names := []string{"org/apache/spark/SparkContext.class"}
	if jws {
		names = append(names, "org/apache/spark/ui/JWSFilter.class")
	}
	for _, n := range names {
		if _, err := z.Create(n); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return home
}

func TestPlanUIAuth(t *testing.T) {
	spark4, spark35 := sparkHome(t, true), sparkHome(t, false)
	key := uitoken.Derive("s")
	filter := []string{"-Dspark.ui.filters=" + sparkenv.JWSFilter, "-D" + jwsRequireExpKey + "=true"}
	for _, tt := range []struct {
		name     string
		role     sparkenv.Role
		home     string
		key      []byte
		s        settings.Settings
		userOpts string
		wantOpts []string // the role's options after the plan
		filtered bool     // the key goes to the properties file
		warn     bool
	}{
		{"no key: kill links off", sparkenv.Master, spark4, nil, settings.Settings{UIAuth: "auto"}, "",
			[]string{"-Dspark.ui.killEnabled=false"}, false, false},
		{"master", sparkenv.Master, spark4, key, settings.Settings{UIAuth: "auto"}, "",
			append([]string{"-Dspark.ui.killEnabled=false"}, filter...), true, false},
		{"worker: no kill links to turn off", sparkenv.Worker, spark4, key, settings.Settings{UIAuth: "auto"}, "", filter, true, false},
		{"history", sparkenv.History, spark4, key, settings.Settings{UIAuth: "auto"}, "", filter, true, false},
		{"connect, kill links asked for", sparkenv.Connect, spark4, key, settings.Settings{UIAuth: "auto", UIKill: true}, "", filter, true, false},
		{"off", sparkenv.Worker, spark4, key, settings.Settings{UIAuth: "off"}, "", nil, false, false},
		{"the user's filter", sparkenv.Worker, spark4, key, settings.Settings{UIAuth: "auto"}, "-Dspark.ui.filters=my.Filter",
			[]string{"-Dspark.ui.filters=my.Filter"}, false, false},
		{"the user's kill links", sparkenv.Master, spark4, nil, settings.Settings{UIAuth: "auto"}, "-Dspark.ui.killEnabled=true",
			[]string{"-Dspark.ui.killEnabled=true"}, false, false},
		{"spark 3.5", sparkenv.Worker, spark35, key, settings.Settings{UIAuth: "auto"}, "", nil, false, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p Plan
			opts := optsOf(tt.role)
			env := []string{"SPARK_HOME=" + tt.home, "SPARK_CONF_DIR=" + t.TempDir()}
			if tt.userOpts != "" {
				env = append(env, opts+"="+tt.userOpts)
			}
			env, props := planUIAuth(&p, tt.role, env, tt.s, tt.key, "derived from SPARK_AUTH_SECRET")
			if got := strings.Fields(sparkenv.Get(env, opts)); !slices.Equal(got, tt.wantOpts) {
				t.Errorf("%s = %q, want %q", opts, got, tt.wantOpts)
			}
			wantProps := []javaOption(nil)
			if tt.filtered {
				wantProps = []javaOption{{jwsKeyKey, uitoken.Encode(key)}}
			}
			if !slices.Equal(props, wantProps) {
				t.Errorf("properties = %q, want %q", props, wantProps)
			}
			if (p.UIAuth.Filter != "") != tt.filtered || (p.UIAuth.Open == "") != tt.filtered {
				t.Errorf("ui_auth = %+v, want filtered %v", p.UIAuth, tt.filtered)
			}
			if (len(p.Warnings) > 0) != tt.warn {
				t.Errorf("warnings = %q, want some: %v", p.Warnings, tt.warn)
			}
			if tt.key != nil && strings.Contains(strings.Join(env, "\n"), uitoken.Encode(tt.key)) {
				t.Error("the key is in the JVM's environment")
			}
		})
	}
}

func TestUIKeyOf(t *testing.T) {
	good := uitoken.Encode([]byte(strings.Repeat("k", 32)))
	file := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(file, []byte(good+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name   string
		env    []string
		source string // "": no key
		err    string // a part of the error; "": none
	}{
		{"none", nil, "", ""},
		{"given", []string{"SPARK_UI_KEY=" + good}, "SPARK_UI_KEY", ""},
		{"file", []string{"SPARK_UI_KEY_FILE=" + file}, "SPARK_UI_KEY_FILE", ""},
		{"given wins over the secret", []string{"SPARK_UI_KEY=" + good, "SPARK_AUTH_SECRET=s"}, "SPARK_UI_KEY", ""},
		{"derived", []string{"SPARK_AUTH_SECRET=s"}, "derived from SPARK_AUTH_SECRET", ""},
		{"derived in the jvm's env", []string{"_SPARK_AUTH_SECRET=s"}, "derived from SPARK_AUTH_SECRET", ""},
		{"short", []string{"SPARK_UI_KEY=c2hvcnQta2V5"}, "", "SPARK_UI_KEY: not a base64url key of at least 32 bytes"},
		{"both", []string{"SPARK_UI_KEY=" + good, "SPARK_UI_KEY_FILE=" + file}, "", "SPARK_UI_KEY and SPARK_UI_KEY_FILE are both set"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			key, source, env, err := uiKeyOf(tt.env)
			if tt.err != "" {
				if !errors.Is(err, settings.ErrInvalid) || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "c2hvcnQta2V5") {
					t.Errorf("error = %v, want ErrInvalid with %q and no key", err, tt.err)
				}
				return
			}
			if err != nil || source != tt.source || (key == nil) != (tt.source == "") {
				t.Errorf("uiKeyOf = %d bytes from %q, %v; want from %q", len(key), source, err, tt.source)
			}
			if sparkenv.Get(env, "SPARK_UI_KEY") != "" || sparkenv.Get(env, "SPARK_UI_KEY_FILE") != "" {
				t.Errorf("SPARK_UI_KEY* left in the environment: %q", env)
			}
		})
	}
}

func TestUITokenCommand(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  []string
		err  error
	}{
		{nil, []string{"SPARK_AUTH_SECRET=s"}, nil},
		{[]string{"720h"}, []string{"SPARK_AUTH_SECRET=s"}, nil},
		{[]string{"-1h"}, []string{"SPARK_AUTH_SECRET=s"}, ErrUsage},
		{[]string{"1h", "2h"}, []string{"SPARK_AUTH_SECRET=s"}, ErrUsage},
		{nil, nil, ErrUsage},
	} {
		var out bytes.Buffer
		err := uiTokenCommand(tt.args, tt.env, &out)
		if !errors.Is(err, tt.err) {
			t.Errorf("ui-token %q = %v, want %v", tt.args, err, tt.err)
		}
		if tok := strings.TrimSpace(out.String()); tt.err == nil && (strings.Count(tok, ".") != 2 || !strings.HasPrefix(tok, "eyJ")) {
			t.Errorf("ui-token %q printed %q, want a compact JWS", tt.args, tok)
		}
	}
}

// TestPlanKeepsUIKeyOffTheCommandLine: the whole plan of a master with a
// secret puts the key in the properties file only, not in its options,
// its environment or explain.
func TestPlanKeepsUIKeyOffTheCommandLine(t *testing.T) {
	s := testSettings()
	s.UIAuth = settings.UIAuthAuto
	home := sparkHome(t, true)
	in := discovery.Inputs{Env: map[string]string{"SPARK_MASTER_HOST": "spark-master", "SPARK_HOME": home, "SPARK_AUTH_SECRET": "s3cr3t"}}
	p, err := plan(context.Background(), sparkenv.Master, s, in, zerolog.Nop(), false)
	if err != nil {
		t.Fatal(err)
	}
	key := uitoken.Encode(uitoken.Derive("s3cr3t"))
	if len(p.secretProps) != 1 || p.secretProps[0].value != key {
		t.Fatalf("secret properties = %q, want the derived key", p.secretProps)
	}
	out, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"environment": strings.Join(p.Env, "\n"), "command": strings.Join(p.Argv, " "), "explain": string(out)} {
		if strings.Contains(text, key) {
			t.Errorf("the key is in the %s", what)
		}
	}
	if !strings.Contains(string(out), `"filter": "org.apache.spark.ui.JWSFilter"`) {
		t.Errorf("explain does not show the filter:\n%s", out)
	}
}
