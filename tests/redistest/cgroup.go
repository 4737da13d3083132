package redistest

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// MemoryCgroup makes a memory cgroup of its own, limited to limit bytes, for a test's server
// (Options.Cgroup): a batch system's job in small, whose room below the limit is what the module takes
// as the memory left, and whose out-of-memory kill stays inside it. Version 2's unified hierarchy is
// used where it has the memory controller, else version 1's. The cgroup is removed when the test ends.
// Where none can be made (no memory controller, not root), the test is skipped with the reason.
func MemoryCgroup(tb testing.TB, limit int64) string {
	tb.Helper()
	name := fmt.Sprintf("gorai-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	dir, limitFile := filepath.Join("/sys/fs/cgroup/memory", name), "memory.limit_in_bytes"
	if controllers, err := os.ReadFile("/sys/fs/cgroup/cgroup.controllers"); err == nil && containsWord(string(controllers), "memory") {
		dir, limitFile = filepath.Join("/sys/fs/cgroup", name), "memory.max"
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Skipf("SKIPPED: no memory cgroup can be made here (%v); the test needs one to hold Redis to a small memory limit", err)
	}
	tb.Cleanup(func() {
		// The server and its trial programs leave it as they end.
		for i := 0; i < 50 && os.Remove(dir) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	if err := os.WriteFile(filepath.Join(dir, limitFile), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
		tb.Skipf("SKIPPED: the memory cgroup %s takes no limit (%v)", dir, err)
	}
	return dir
}

func containsWord(s, word string) bool {
	for _, w := range strings.Fields(s) {
		if w == word {
			return true
		}
	}
	return false
}

// joinCgroup moves process pid, with its threads, into the cgroup at dir.
func joinCgroup(dir string, pid int) error {
	return os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(pid)), 0o644)
}
