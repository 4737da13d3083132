package tests

import (
	"strings"
	"testing"
	"time"

	"gorai/tests/resp"
)

// TestCrashReportCompletes: a crash with models and scripts loaded and run still gets Redis' whole
// bug report. Redis' crash-report memory test rewrote the Go runtime's memory under its running
// threads and the report died half-way ("FAST MEMORY TEST", no END), so the module turns it off.
func TestCrashReportCompletes(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	expect(t, c, resp.Arr(resp.BulkString("crash-memcheck-enabled"), resp.BulkString("no")), "CONFIG", "GET", "crash-memcheck-enabled")
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"))...)
	expectOK(t, c, scriptStoreArgs("s", "CPU", nil, []string{"twice"}, copyScript)...)
	runIris(t, c, "m", "before the crash")
	runTwice(t, c, "s", "before the crash")
	c.Do("DEBUG", "SEGFAULT") // the connection drops
	waitFor(t, 120*time.Second, "redis-server to end after DEBUG SEGFAULT", func() (bool, string) {
		return !s.Running(), "still running"
	})
	log := s.Log()
	if !strings.Contains(log, "=== REDIS BUG REPORT END") {
		t.Errorf("the crash report did not complete; log tail:\n%s", s.LogTail(2000))
	}
	if n := strings.Count(log, "crashed by signal"); n != 1 {
		t.Errorf("%d crashes reported, want the one of DEBUG SEGFAULT", n)
	}
}
