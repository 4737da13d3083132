// Package backendtest gives a backend package's tests its real library: found or made as `make build`
// makes it, loaded once, and a loud reason to skip when it cannot be.
package backendtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gorai/backends"
)

// Library is one backend's library, as its package's tests see it.
type Library struct {
	Backend string // RedisAI's name, under which the backend registers
	What    string // the library's name in messages, e.g. "TensorFlow"
	Path    string // where make puts it, relative to the package; Env may name another file
	Env     string // an environment variable naming the library to use instead
	Script  string // the script in build/ that makes Path
	Rebuild bool   // run Script even when Path exists: it checks for staleness itself
	skip    string // why the tests skip; "" once the library is loaded
}

// Prepare makes the library where it is missing (a fetch runs once, then works offline) and loads it,
// or says on stderr why the tests will skip. TestMain calls it before the tests run.
func (l *Library) Prepare() {
	if p := os.Getenv(l.Env); p != "" {
		l.Path = p
	} else if _, err := os.Stat(l.Path); err != nil || l.Rebuild {
		out, err := exec.Command(filepath.Join("..", "..", "build", l.Script)).CombinedOutput()
		if err != nil {
			l.skip = fmt.Sprintf("build/%s failed (%v): %s", l.Script, err, strings.TrimSpace(string(out)))
		}
	}
	if l.skip == "" {
		if _, err := backends.Load(l.Backend, l.Path); err != nil {
			l.skip = err.Error()
		}
	}
	if l.skip != "" {
		fmt.Fprintf(os.Stderr, "\n*** %s TESTS SKIPPED: %s ***\n\n", strings.ToUpper(l.What), l.skip)
	}
}

// childEnv marks a test binary that InFreshProcess started.
const childEnv = "GORAI_BACKEND_TEST_CHILD"

// Main is a backend package's TestMain: it prepares the library, except in a process that
// InFreshProcess started, where the library must not be loaded before the test runs.
func (l *Library) Main(m *testing.M) {
	if os.Getenv(childEnv) == "" {
		l.Prepare()
	}
	os.Exit(m.Run())
}

// InFreshProcess reports whether t runs in a test process of its own, where no library was opened yet
// (a library, once open, stays open). When it does not, it runs t's test again in one, with Env
// naming the library's absolute path (the test may load it once its checks are done), fails t if that
// process fails, and reports false: the caller returns.
func (l *Library) InFreshProcess(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) != "" {
		return true
	}
	path, err := filepath.Abs(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"=1", l.Env+"="+path)
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child test process: %v", err)
	}
	return false
}

// SkipReason is why the tests skip, or "" when the library is loaded.
func (l *Library) SkipReason() string { return l.skip }

// Need is the loaded backend, or skips t with the reason.
func (l *Library) Need(t testing.TB) backends.Backend {
	t.Helper()
	if l.skip != "" {
		t.Skipf("SKIPPED, no %s: %s", l.What, l.skip)
	}
	b, err := backends.Load(l.Backend, l.Path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
