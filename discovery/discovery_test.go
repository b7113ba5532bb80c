package discovery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSourcesOrder(t *testing.T) {
	t.Parallel()
	want := []string{"static", "cloudmap", "kubernetes-env", "ambassador", "docker-links", "ecs", "cluster-dns", "swarm", "docker-dns"}
	if got := Sources(); !slices.Equal(got, want) {
		t.Errorf("Sources() = %v, want %v", got, want)
	}
	// Callers may modify the result without affecting the package.
	Sources()[0] = "x"
	if Sources()[0] != "static" {
		t.Error("Sources() shares its backing array")
	}
}

func TestFindUnknownSource(t *testing.T) {
	t.Parallel()
	_, err := Find(context.Background(), Inputs{}, []string{"static", "consul"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"consul"`) {
		t.Errorf("Find(sources static consul) error = %v, want ErrInvalid naming consul", err)
	}
}

func TestFindInvalidInputs(t *testing.T) {
	t.Parallel()
	for _, in := range []Inputs{
		{Service: "spark master"},
		{Service: "-x"},
		{Service: "spark-master."},
		{Port: -1},
		{Port: 70000},
	} {
		if _, err := Find(context.Background(), in, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Find(service %q, port %d) error = %v, want ErrInvalid", in.Service, in.Port, err)
		}
	}
}

func TestFindNotFoundListsEverySource(t *testing.T) {
	t.Parallel()
	in := Inputs{DNSServer: startDNS(t, nil, false)}
	_, err := Find(context.Background(), in, nil)
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("Find(empty inputs) error = %v, want *NotFoundError", err)
	}
	var got []string
	for _, tr := range nf.Tried {
		got = append(got, tr.Source)
	}
	if !slices.Equal(got, Sources()) {
		t.Errorf("Find(empty inputs) tried %v, want %v", got, Sources())
	}
	if strings.Count(err.Error(), ErrNotFound.Error()) != 1 {
		t.Errorf("Find(empty inputs) error repeats %q: %v", ErrNotFound, err)
	}
}

func TestFindCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Find(ctx, Inputs{}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Find(canceled ctx) error = %v, want context.Canceled", err)
	}
}

func ExampleFind() {
	in := Inputs{
		Env: map[string]string{
			"SPARK_MASTER_NAME":               "/spark-worker-1/spark-master",
			"SPARK_MASTER_PORT":               "tcp://172.17.0.2:7077",
			"SPARK_MASTER_PORT_7077_TCP_ADDR": "172.17.0.2",
		},
		Hosts: []byte("127.0.0.1 localhost\n172.17.0.2\tspark-master 3f9c0a1b2d4e\n"),
	}
	m, err := Find(context.Background(), in, []string{"static", "docker-links"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.Source, m.URL)
	// Output: docker-links spark://spark-master:7077
}

func TestExpandSources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []string
		want []string
	}{
		{nil, Sources()},
		{[]string{""}, Sources()},
		{[]string{"auto"}, Sources()},
		{[]string{" docker-links ", "static", "docker-links"}, []string{"docker-links", "static"}},
		{[]string{"ecs", "auto"}, append([]string{"ecs"}, slices.DeleteFunc(Sources(), func(s string) bool { return s == "ecs" })...)},
	}
	for _, tt := range tests {
		got, err := expandSources(tt.in)
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("expandSources(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
