//go:build linux && !race

package supervisor

const raceBuild = false
