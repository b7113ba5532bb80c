package e2e

import "testing"

// TestStopLine reads the line in both log formats the images write.
func TestStopLine(t *testing.T) {
	for _, tt := range []struct {
		log   string
		named bool
	}{
		{"26/12/07 01:43:15 INFO entrypoint: workload started pid=7\n26/12/07 01:44:15 WARN entrypoint: stopping the workload reason=\"the master lists no application app-1 for 1m0s\"\n", true},
		{`{"level":"info","message":"workload started"}` + "\n" + `{"level":"warn","reason":"the master lists no application app-1 for 1m0s","message":"stopping the workload"}` + "\n", true},
		{`{"level":"warn","reason":"other","message":"stopping the workload"}`, false},
	} {
		line, named := StopLine(tt.log)
		if line == "" || named != tt.named {
			t.Errorf("StopLine(%q) = %q, %v; want a line, named %v", tt.log, line, named, tt.named)
		}
	}
	if line, _ := StopLine("26/12/07 01:43:15 INFO entrypoint: workload started pid=7\n"); line != "" {
		t.Errorf("StopLine found %q in a log without one", line)
	}
}
