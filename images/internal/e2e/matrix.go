package e2e

// The one line each platform path prints.

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// Matrix is the one line a platform path prints, e.g.
// "path=compose-spec discovery=ok alive=3/3 job=ok stop=ok". Fields not
// reached stay "-"; the line is logged when the test ends, after teardown,
// whether it passed or not.
type Matrix struct {
	mu     sync.Mutex
	fields []string
	values map[string]string
}

// NewMatrix starts the line for path and logs it at the end of t. Call it
// before registering any other cleanup, so that it runs last.
func NewMatrix(t *testing.T, path string) *Matrix {
	t.Helper()
	m := &Matrix{
		fields: []string{"path", "discovery", "alive", "job", "stop"},
		values: map[string]string{"path": path},
	}
	t.Cleanup(func() { t.Log(m.String()) })
	return m
}

// Set records a field.
func (m *Matrix) Set(field, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, known := m.values[field]; !known && !slices.Contains(m.fields, field) {
		// Fault fields (restart, kill) read best before the final stop.
		i := slices.Index(m.fields, "stop")
		if i < 0 {
			i = len(m.fields)
		}
		m.fields = slices.Insert(m.fields, i, field)
	}
	m.values[field] = value
}

// OK records field as "ok" when ok, else "fail".
func (m *Matrix) OK(field string, ok bool) {
	if ok {
		m.Set(field, "ok")
	} else {
		m.Set(field, "fail")
	}
}

func (m *Matrix) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := make([]string, len(m.fields))
	for i, f := range m.fields {
		v := m.values[f]
		if v == "" {
			v = "-"
		}
		parts[i] = f + "=" + v
	}
	return strings.Join(parts, " ")
}
