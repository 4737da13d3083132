package backendtest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorai/backends"
)

// TrustedIsNotTried checks that backend b gives a client's blob to its trial (*trial, swapped for the test) and
// a trusted one not: with a trial program that is not there, the client's blob is refused and the trusted one
// loads.
func TrustedIsNotTried(t *testing.T, b backends.Backend, trial **backends.Trial, blob []byte) {
	t.Helper()
	saved := *trial
	t.Cleanup(func() { *trial = saved })
	*trial = &backends.Trial{Backend: "X", Program: filepath.Join(t.TempDir(), "no-trial"), Library: "lib.so", Timeout: time.Second}
	if _, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU"}); err == nil || !strings.Contains(err.Error(), "could not be tried in a process of its own") {
		t.Errorf("a client's model: %v, want the missing program's error", err)
	}
	m, err := b.NewModel(blob, backends.ModelOptions{Device: "CPU", Trusted: true})
	if err != nil {
		t.Fatalf("a trusted model: %v, want no trial", err)
	}
	m.Close()
}
