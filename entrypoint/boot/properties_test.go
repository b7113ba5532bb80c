package boot

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// TestNodeProperties: a daemon's file keeps the user's spark-defaults.conf
// (it replaces it), the Connect server's does not (spark-submit reads both),
// and values are escaped as Java properties.
func TestNodeProperties(t *testing.T) {
	conf := t.TempDir()
	if err := os.WriteFile(filepath.Join(conf, "spark-defaults.conf"), []byte("spark.ui.port 4041"), 0o644); err != nil {
		t.Fatal(err)
	}
	props := []javaOption{{"spark.authenticate.secret", "a\\b=c\nd"}, {jwsKeyKey, "k_-"}}
	env := []string{"SPARK_CONF_DIR=" + conf}
	for _, c := range []struct {
		role  sparkenv.Role
		props []javaOption
		want  string
	}{
		{sparkenv.Master, props, "spark.ui.port 4041\nspark.authenticate.secret=a\\\\b=c\\nd\n" + jwsKeyKey + "=k_-\n"},
		{sparkenv.Connect, props[:1], "spark.authenticate.secret=a\\\\b=c\\nd\n"},
		{sparkenv.Worker, nil, ""},
	} {
		if got := string(nodeProperties(Plan{Role: c.role, Env: env}, c.props)); got != c.want {
			t.Errorf("%s: properties = %q, want %q", c.role, got, c.want)
		}
	}
}

func TestWriteProperties(t *testing.T) {
	file, cleanup, err := writeProperties([]byte("k=v\n"), os.Getuid(), os.Getgid())
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(file); string(b) != "k=v\n" {
		t.Errorf("properties = %q", b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Dir(file)); fi.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", fi.Mode().Perm())
	}
	cleanup()
	if _, err := os.Stat(filepath.Dir(file)); !os.IsNotExist(err) {
		t.Errorf("cleanup left %s: %v", filepath.Dir(file), err)
	}
}
