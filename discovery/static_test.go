package discovery

import (
	"context"
	"errors"
	"testing"
)

func TestStatic(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value, want string
	}{
		{"plain", "spark://spark-master:7077", "spark://spark-master:7077"},
		{"ha", "spark://a:7077,b.example.com:7078", "spark://a:7077,b.example.com:7078"},
		{"ipv4", "spark://10.0.0.12:7077", "spark://10.0.0.12:7077"},
		{"ipv6", "spark://[fd00::2]:7077", "spark://[fd00::2]:7077"},
		{"ipv6 ha", "spark://[fd00::2]:7077,[fd00::3]:7077", "spark://[fd00::2]:7077,[fd00::3]:7077"},
		{"underscore name", "spark://myapp_master_1:7077", "spark://myapp_master_1:7077"},
		{"surrounding space trimmed", " spark://m:7077\n", "spark://m:7077"},
		{"port max", "spark://m:65535", "spark://m:65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := Inputs{Env: map[string]string{"SPARK_MASTER_URL": tt.value}}
			m, err := Find(context.Background(), in, []string{SourceStatic})
			if err != nil {
				t.Fatalf("Find(SPARK_MASTER_URL=%q) error: %v", tt.value, err)
			}
			if m.URL != tt.want || m.Source != SourceStatic {
				t.Errorf("Find(SPARK_MASTER_URL=%q) = %q from %q, want %q from static", tt.value, m.URL, m.Source, tt.want)
			}
		})
	}
}

func TestStaticInvalid(t *testing.T) {
	t.Parallel()
	for _, v := range []string{
		"foo",
		"spark-master:7077",
		"http://m:7077",
		"spark://",
		"spark://m",
		"spark://m:",
		"spark://m:0",
		"spark://m:65536",
		"spark://m:70a7",
		"spark://m:+77",
		"spark://m:7077/",
		"spark://m:7077,",
		"spark://m:7077,,n:7077",
		"spark://fd00::2:7077",
		"spark://[fd00::2]",
		"spark://[fd00::2:7077",
		"spark://[10.0.0.1]:7077",
		"spark://-bad-:7077",
		"spark://a..b:7077",
		"spark://user@m:7077",
		"SPARK://m:7077",
	} {
		in := Inputs{Env: map[string]string{"SPARK_MASTER_URL": v}}
		_, err := Find(context.Background(), in, nil)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Find(SPARK_MASTER_URL=%q) error = %v, want ErrInvalid", v, err)
			continue
		}
		if msg := err.Error(); !containsAll(msg, "SPARK_MASTER_URL", v) {
			t.Errorf("Find(SPARK_MASTER_URL=%q) error %q does not name the variable and the value", v, msg)
		}
	}
}

func TestStaticUnset(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{nil, {"SPARK_MASTER_URL": ""}, {"SPARK_MASTER_URL": "  "}} {
		_, err := Find(context.Background(), Inputs{Env: env}, []string{SourceStatic})
		if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			t.Errorf("Find(env %v) error = %v, want ErrNotFound", env, err)
		}
	}
}
