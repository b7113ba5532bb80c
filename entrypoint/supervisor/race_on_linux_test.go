//go:build linux && race

package supervisor

// Every process in these tests is this test binary or a shell, and a
// race-instrumented binary takes about a second to start on a loaded
// machine; the sweeps are thinned under -race, whose value here is in
// checking Run's own goroutines.
const raceBuild = true
