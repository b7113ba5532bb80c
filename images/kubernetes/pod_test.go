package kubernetes_test

// How the emulated kubelet starts a pod's containers: their environment,
// security context, volumes, and a sandbox for a pod of several.

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// runPod starts the Deployment's pod as a kubelet would: each container
// with its image and args, the Service variables first and the
// container's own env over them (secrets holds the namespace's Secrets,
// by name and key), the pod name as hostname, a ClusterFirst resolv.conf,
// the pod's volumes. extra (its network, address and published ports)
// goes to the container that holds the pod's network namespace: the first
// container, named name, when the pod has one; else a sandbox, name-pod,
// as the kubelet's pause container, which the containers join (the first
// named name, the others name-CONTAINER), so that a container restarted
// keeps the pod's address.
func runPod(t *testing.T, tmp, resolvConf, name, podName, podIP string, d deployment, svcEnv []string, secrets map[string]map[string]string, extra ...string) {
	t.Helper()
	resolv := filepath.Join(tmp, name+".resolv.conf")
	if err := os.WriteFile(resolv, []byte(resolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	network := []string{"--hostname", podName}
	if podIP != "" {
		network = append(network, "--ip", podIP)
	}
	network = append(network, extra...)
	cs := d.Template.Spec.Containers
	if len(cs) > 1 {
		// Sleeping is all a pause container does.
		e2e.Run(t, append(append([]string{"docker", "run", "-d", "--name", name + "-pod", "-v", resolv + ":/etc/resolv.conf"}, network...),
			"--entrypoint", "sleep", cs[0].Image, "infinity")...)
		network = []string{"--network", "container:" + name + "-pod"}
	}
	for i, c := range cs {
		cname := name
		if i > 0 {
			cname = name + "-" + c.Name
		}
		argv := []string{"docker", "run", "-d", "--name", cname, "-v", resolv + ":/etc/resolv.conf"}
		argv = append(argv, network...)
		flags, err := c.runtimeFlags()
		if err != nil {
			t.Fatalf("%s: %v", cname, err)
		}
		argv = append(argv, flags...)
		argv = append(argv, securityFlags(t, cname, d.Template.Spec, c)...)
		argv = append(argv, volumeFlags(t, filepath.Join(tmp, name), d.Template.Spec, c)...)
		for _, kv := range containerEnv(t, cname, podName, podIP, c, svcEnv, secrets) {
			argv = append(argv, "-e", kv)
		}
		argv = append(argv, c.Image)
		argv = append(argv, c.Args...)
		e2e.Run(t, argv...)
	}
}

// containerEnv is the environment the kubelet gives container c: the
// Service variables, then the container's own env over them (kubelet
// makeEnvironmentVariables), with HOSTNAME the pod's name.
func containerEnv(t *testing.T, name, podName, podIP string, c container, svcEnv []string, secrets map[string]map[string]string) []string {
	t.Helper()
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range svcEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, e := range c.Env {
		if r := e.secretRef(); r != nil {
			v, ok := secrets[r.Name][r.Key]
			switch {
			case ok:
				set(e.Name, v)
			case r.Optional == nil || !*r.Optional:
				t.Fatalf("%s: %s from Secret %s key %s, which does not exist: the kubelet would not start the container (CreateContainerConfigError)", name, e.Name, r.Name, r.Key)
			}
			continue
		}
		switch f := e.fieldPath(); f {
		case "":
			set(e.Name, e.Value)
		case "status.podIP":
			if podIP == "" {
				t.Fatalf("%s: %s from status.podIP, but the pod has no fixed address", name, e.Name)
			}
			set(e.Name, podIP)
		case "metadata.name":
			set(e.Name, podName)
		case "metadata.namespace":
			set(e.Name, namespace)
		default:
			t.Fatalf("%s: %s from %s: not emulated", name, e.Name, f)
		}
	}
	set("HOSTNAME", podName)
	var kvs []string
	for _, k := range order {
		kvs = append(kvs, k+"="+env[k])
	}
	return kvs
}

// securityFlags are what the kubelet asks of the runtime for the pod's
// and its container's securityContext: the user and group (and fsGroup as
// a supplementary group), no new privileges, the capabilities, a
// read-only root. A pod that must not run as root but names no user, or
// uid 0, is refused as the kubelet refuses it (CreateContainerConfigError).
func securityFlags(t *testing.T, name string, p podSpec, c container) []string {
	t.Helper()
	var flags []string
	if ps := p.SecurityContext; ps != nil {
		if ps.RunAsNonRoot != nil && *ps.RunAsNonRoot && (ps.RunAsUser == nil || *ps.RunAsUser == 0) {
			t.Fatalf("%s: runAsNonRoot without a non-zero runAsUser: the kubelet would not start it", name)
		}
		if ps.RunAsUser != nil {
			user := strconv.Itoa(*ps.RunAsUser)
			if ps.RunAsGroup != nil {
				user += ":" + strconv.Itoa(*ps.RunAsGroup)
			}
			flags = append(flags, "--user", user)
		}
		if ps.FSGroup != nil {
			flags = append(flags, "--group-add", strconv.Itoa(*ps.FSGroup))
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			flags = append(flags, "--security-opt", "no-new-privileges")
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Drop {
				flags = append(flags, "--cap-drop", c)
			}
			for _, c := range sc.Capabilities.Add {
				flags = append(flags, "--cap-add", c)
			}
		}
		if sc.ReadOnlyRootFilesystem {
			flags = append(flags, "--read-only")
		}
	}
	return flags
}

// volumeFlags mounts the pod's emptyDirs, each a directory under dir (the
// pod's, shared by its containers) as the kubelet makes it (mode 0777;
// with an fsGroup, that group's and setgid), at container c's mount
// paths. Any other kind of volume is not emulated.
func volumeFlags(t *testing.T, dir string, p podSpec, c container) []string {
	t.Helper()
	paths := map[string]string{}
	for _, v := range p.Volumes {
		if v.EmptyDir == nil {
			t.Fatalf("volume %s: only emptyDir is emulated", v.Name)
		}
		path := filepath.Join(dir, v.Name)
		if err := os.MkdirAll(path, 0o777); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o777)
		if ps := p.SecurityContext; ps != nil && ps.FSGroup != nil {
			if err := os.Chown(path, -1, *ps.FSGroup); err != nil {
				t.Fatal(err)
			}
			mode |= os.ModeSetgid
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		paths[v.Name] = path
	}
	var flags []string
	for _, m := range c.VolumeMounts {
		path, ok := paths[m.Name]
		if !ok {
			t.Fatalf("volumeMount %s: no such volume in the pod", m.Name)
		}
		spec := path + ":" + m.MountPath
		if m.ReadOnly {
			spec += ":ro"
		}
		flags = append(flags, "-v", spec)
	}
	return flags
}
