package boot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

func TestParseDriverTarget(t *testing.T) {
	tests := []struct {
		arg   string
		host  string
		ports []int
		err   string // in the usage error
	}{
		{arg: "172.17.0.1:40400,40401", host: "172.17.0.1", ports: []int{40400, 40401}},
		{arg: "spark-driver:40400", host: "spark-driver", ports: []int{40400}},
		{arg: "[fd00::1]:40400,40401", host: "fd00::1", ports: []int{40400, 40401}},
		{arg: "h:40401,40400,40401", host: "h", ports: []int{40401, 40400}},
		{arg: "", err: "no port"},
		{arg: "172.17.0.1", err: "no port"},
		{arg: "172.17.0.1:", err: `port ""`},
		{arg: "h:0", err: `port "0"`},
		{arg: "h:65536", err: `port "65536"`},
		{arg: "h:40400,x", err: `port "x"`},
		{arg: "h:40400,,40401", err: `port ""`},
		{arg: ":40400", err: "want a host name or an address"},
		{arg: "http://h:40400", err: "brackets"},
		{arg: "fd00::1:40400", err: "brackets"},
		{arg: "[fd00::1]40400", err: "]:PORT"},
		{arg: "[10.0.0.1]:40400", err: "IPv6 address in brackets"},
		{arg: "my laptop:40400", err: "want a host name or an address"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			got, err := parseDriverTarget(tt.arg)
			if tt.err != "" {
				if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("parseDriverTarget(%q): %v, want a usage error saying %q", tt.arg, err, tt.err)
				}
				return
			}
			if err != nil || got.host != tt.host || fmt.Sprint(got.ports) != fmt.Sprint(tt.ports) {
				t.Errorf("parseDriverTarget(%q) = %+v, %v; want %s %v", tt.arg, got, err, tt.host, tt.ports)
			}
		})
	}
}

// droppingPort is a loopback port whose SYNs the kernel drops, as a
// firewall's DROP does: a listener with a backlog of 0 whose accept queue
// is full (one connection, never accepted).
func droppingPort(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*syscall.SockaddrInet4).Port
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
		if err != nil {
			return port
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the kernel kept accepting connections on a full accept queue")
	return 0
}

func TestDiagnoseDriver(t *testing.T) {
	open := discoverytest.MasterPort(t)
	_, openPort, _ := net.SplitHostPort(open.Addr().String())
	listening, _ := strconv.Atoi(openPort)
	_, closedPort, _ := net.SplitHostPort(discoverytest.UnusedAddr(t))
	closed, _ := strconv.Atoi(closedPort)
	dropping := droppingPort(t)
	lookup := func(_ context.Context, host string) ([]string, error) {
		if host == "spark-driver" {
			return []string{"127.0.0.1"}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	const timeout = 700 * time.Millisecond

	tests := []struct {
		name   string
		target driverTarget
		want   []string // "severity check" of each finding, in order
		fix    string   // in the fix of the first FAIL
	}{
		{"driver listens", driverTarget{"127.0.0.1", []int{listening}},
			[]string{"warn driver", "ok driver"}, ""},
		{"nothing listens", driverTarget{"127.0.0.1", []int{closed}},
			[]string{"warn driver", "FAIL driver"}, "spark.driver.bindAddress=0.0.0.0"},
		{"one port of two", driverTarget{"127.0.0.1", []int{listening, closed}},
			[]string{"warn driver", "ok driver", "FAIL driver"}, "random port"},
		{"dropped", driverTarget{"127.0.0.1", []int{dropping}},
			[]string{"warn driver", "FAIL driver"}, "a firewall on the driver's machine drops them"},
		{"name", driverTarget{"spark-driver", []int{listening}},
			[]string{"ok names", "warn driver", "ok driver"}, ""},
		{"name resolves nowhere", driverTarget{"laptop.local", []int{listening, closed}},
			[]string{"FAIL names"}, "a name only the driver's machine knows"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			fs := diagnoseDriver(context.Background(), tt.target, driverProbe{lookup: lookup, timeout: timeout})
			took := time.Since(start)
			var got []string
			fix := ""
			for _, f := range fs {
				got = append(got, f.Severity+" "+f.Check)
				if f.Severity == sevFail && f.Fix == "" {
					t.Errorf("%s failed without a fix: %s", f.Check, f.Detail)
				}
				if f.Severity == sevFail && fix == "" {
					fix = f.Fix
				}
			}
			var out bytes.Buffer
			err := report(fs, false, &out)
			t.Logf("doctor driver:\n%s", out.String())
			if strings.Join(got, ", ") != strings.Join(tt.want, ", ") {
				t.Errorf("findings %q, want %q", got, tt.want)
			}
			if !strings.Contains(fix, tt.fix) {
				t.Errorf("fix %q, want it to say %q", fix, tt.fix)
			}
			if wantFail := tt.fix != ""; errors.Is(err, ErrFindings) != wantFail {
				t.Errorf("report: %v, want failing %v", err, wantFail)
			}
			// Ports are dialled at once: one timeout in all, not one per port.
			if took > timeout+500*time.Millisecond {
				t.Errorf("took %s, more than one timeout (%s)", took, timeout)
			}
		})
	}
}

// TestDoctorCommandDriver: doctor driver's arguments, with --json
// anywhere, and its JSON, the same array of findings doctor prints.
func TestDoctorCommandDriver(t *testing.T) {
	open := discoverytest.MasterPort(t)
	for _, args := range [][]string{
		{"driver", open.Addr().String(), "--json"},
		{"--json", "driver", open.Addr().String()},
	} {
		var out bytes.Buffer
		if err := doctorCommand(args, settings.Settings{}, &out); err != nil {
			t.Fatalf("doctor %q: %v\n%s", args, err, out.String())
		}
		var fs []finding
		if err := json.Unmarshal(out.Bytes(), &fs); err != nil || len(fs) != 2 || fs[1].Severity != sevOK || fs[1].Check != "driver" {
			t.Errorf("doctor %q: %v\n%s", args, err, out.String())
		}
	}
	for _, args := range [][]string{
		{"driver"},
		{"driver", "--json"},
		{"driver", "127.0.0.1:40400", "127.0.0.1:40401"},
		{"worker", "driver", "127.0.0.1:40400"},
		{"driver", "127.0.0.1"},
	} {
		if err := doctorCommand(args, settings.Settings{}, &bytes.Buffer{}); !errors.Is(err, ErrUsage) {
			t.Errorf("doctor %q: %v, want a usage error", args, err)
		}
	}
}
