package discovery

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// envSources are the sources that read only Env and Hosts.
var envSources = []string{SourceStatic, SourceKubernetesEnv, SourceAmbassador, SourceDockerLinks}

// FuzzEnvSources feeds arbitrary environments and hosts files to the
// sources that parse link and service variables: they must not panic,
// must fail only with ErrInvalid or ErrNotFound, and anything they find
// must be a valid master URL.
func FuzzEnvSources(f *testing.F) {
	envs, _ := filepath.Glob(filepath.Join("testdata", "*", "*", "env"))
	for _, p := range envs {
		env, _ := os.ReadFile(p)
		hosts, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "hosts"))
		f.Add(string(env), string(hosts), "")
	}
	f.Add("SPARK_MASTER_PORT_7077_TCP_ADDR=fd00::2%eth0\nSPARK_MASTER_NAME=/a/spark-master", "", "")
	f.Add("MASTER_SERVICE_HOST=10.0.0.1\nMASTER_SERVICE_PORT=99999", "", "master")
	f.Fuzz(func(t *testing.T, envText, hosts, service string) {
		env := map[string]string{}
		for _, line := range strings.Split(envText, "\n") {
			if k, v, ok := strings.Cut(line, "="); ok {
				env[k] = v
			}
		}
		in := Inputs{Env: env, Hosts: []byte(hosts), Service: service}
		for _, src := range envSources {
			m, err := Find(context.Background(), in, []string{src})
			if err != nil {
				if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrNotFound) {
					t.Fatalf("Find(%s) error %v is neither ErrInvalid nor ErrNotFound", src, err)
				}
				continue
			}
			if verr := validateMasterURL(m.URL); verr != nil {
				t.Fatalf("Find(%s) = %q, which is not a valid master URL: %v", src, m.URL, verr)
			}
		}
	})
}

// FuzzECSMetadata feeds arbitrary task, container and metadata-file
// documents to the ECS parsers.
func FuzzECSMetadata(f *testing.F) {
	tasks, _ := filepath.Glob(filepath.Join("testdata", "ecs", "*", "ecs", "task.json"))
	for _, p := range tasks {
		b, _ := os.ReadFile(p)
		f.Add(b, []byte(containerBridge), []byte(fileReady))
	}
	f.Add([]byte(`{"Containers":[{"Name":"spark-master","KnownStatus":"RUNNING","Networks":[{"NetworkMode":"host"}]}]}`),
		[]byte(containerAwsvpc), []byte(fileNotReady))
	f.Add([]byte(`null`), []byte(`[]`), []byte(`{"MetadataFileStatus":"READY","HostPrivateIPv4Address":"::1%x"}`))
	f.Fuzz(func(t *testing.T, task, container, file []byte) {
		in := Inputs{
			Env:      map[string]string{envECSMetadataFile: "/m.json"},
			ReadFile: func(string) ([]byte, error) { return file, nil },
		}.withDefaults()
		if m, err := ecsMasterFromTask(in, "u", task); err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("ecsMasterFromTask error %v is not ErrNotFound", err)
			}
		} else if verr := validateMasterURL(m.URL); verr != nil {
			t.Fatalf("ecsMasterFromTask = %q, not a valid master URL: %v", m.URL, verr)
		}
		if s, err := ecsSelfFromContainer(context.Background(), in, "u", container); err != nil {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("ecsSelfFromContainer error %v is not ErrNotFound", err)
			}
		} else if s.Host == "" {
			t.Fatalf("ecsSelfFromContainer = %+v without a host", s)
		}
	})
}
