package tests

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
)

// preloadedVersions are the ai_backends_info fields of the four backends built into build/backends.
var preloadedVersions = []string{"ai_TensorFlow_version", "ai_TensorFlowLite_version", "ai_Torch_version", "ai_onnxruntime_version"}

// loadedBackends lists which of preloadedVersions INFO shows now.
func loadedBackends(t *testing.T, s *redistest.Server) []string {
	t.Helper()
	info, err := s.Info("MODULES")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range preloadedVersions {
		if info[f] != "" {
			got = append(got, f)
		}
	}
	return got
}

// mappedBackendFiles lists the files under build/backends (the default BACKENDSPATH, links
// resolved as the kernel shows them) that the server's process has mapped.
func mappedBackendFiles(t *testing.T, s *redistest.Server) []string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(filepath.Join(filepath.Dir(redistest.ModulePath()), "backends"))
	if err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/" + strconv.Itoa(s.PID()) + "/maps")
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for line := range strings.Lines(string(maps)) {
		if i := strings.Index(line, " /"); i >= 0 {
			if f := strings.TrimSpace(line[i:]); strings.HasPrefix(f, dir+"/") && !slices.Contains(files, f) {
				files = append(files, f)
			}
		}
	}
	return files
}

// TestPreloadBackends: with no store at all, the backends whose libraries are in BACKENDSPATH are
// opened shortly after the start, and BGSAVEs forked meanwhile complete (no Go runs in the child).
func TestPreloadBackends(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "t", "FLOAT", 2, "VALUES", 1, 2)
	forkedDuringPreload := 0
	waitPreloaded(t, s, func() {
		if v := do(t, c, "BGSAVE"); v.Text() == "Background saving started" {
			forkedDuringPreload++
		}
	})
	waitBGSaveOK(t, s)
	if info, _ := s.Info("MODULES"); info["ai_preload_backends"] != "yes" {
		t.Errorf("ai_preload_backends = %q", info["ai_preload_backends"])
	}
	t.Logf("%d BGSAVEs forked during the preload", forkedDuringPreload)
	if n := strings.Count(s.Log(), "preloaded from"); n != len(preloadedVersions) {
		t.Errorf("%d preload lines in the log, want %d", n, len(preloadedVersions))
	}
	// What TestPreloadBackendsOff looks for in the process' maps is there once the backends are open.
	if got := mappedBackendFiles(t, s); len(got) < len(preloadedVersions) {
		t.Errorf("mapped backend libraries after the preload: %v", got)
	}
}

// waitPreloaded calls meanwhile every 20 ms until INFO shows every backend loaded.
func waitPreloaded(t *testing.T, s *redistest.Server, meanwhile func()) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for len(loadedBackends(t, s)) < len(preloadedVersions) {
		if time.Now().After(deadline) {
			t.Fatalf("after 60 s INFO shows only %v; log:\n%s", loadedBackends(t, s), s.LogTail(3000))
		}
		meanwhile()
		time.Sleep(20 * time.Millisecond)
	}
}

// waitBGSaveOK waits for the last BGSAVE to end, and checks it succeeded.
func waitBGSaveOK(t *testing.T, s *redistest.Server) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := s.Info("PERSISTENCE")
		if err != nil {
			t.Fatal(err)
		}
		if info["rdb_bgsave_in_progress"] == "0" {
			if info["rdb_last_bgsave_status"] != "ok" {
				t.Fatalf("BGSAVE failed; log:\n%s", s.LogTail(2000))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("BGSAVE still running after 30 s; log:\n%s", s.LogTail(2000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestPreloadBackendsOff: PRELOAD_BACKENDS no leaves every backend unopened until it is needed: not
// opened as INFO says, and no file of build/backends mapped into the process.
func TestPreloadBackendsOff(t *testing.T) {
	t.Parallel()
	s := redistest.Start(t, redistest.Options{ModuleArgs: []string{"PRELOAD_BACKENDS", "no"}})
	// Longer than a preload takes on this machine (about 1 s for all four).
	time.Sleep(3 * time.Second)
	if got := loadedBackends(t, s); len(got) != 0 {
		t.Errorf("loaded without preloading: %v", got)
	}
	if got := mappedBackendFiles(t, s); len(got) != 0 {
		t.Errorf("backend libraries mapped without preloading: %v", got)
	}
	if info, _ := s.Info("MODULES"); info["ai_preload_backends"] != "no" {
		t.Errorf("ai_preload_backends = %q", info["ai_preload_backends"])
	}
}

// TestPreloadedStoreAndLoadBackend: a store sent at once waits for the preload of its backend and
// succeeds; AI.CONFIG LOADBACKEND of a preloaded backend that nothing has used yet succeeds once, as
// on a server that had loaded nothing, and a used one is refused as loaded.
func TestPreloadedStoreAndLoadBackend(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	cnn := cnnModel(t, "cnn")
	cnn.store(t, c)
	cnn.run(t, c, "", "stored during the preload")
	lib := filepath.Join(redistest.RepoRoot(), "build", "backends", "tf", "libtensorflow_cc.so.2")
	waitPreloaded(t, s, func() {})
	expectOK(t, c, "AI.CONFIG", "LOADBACKEND", "TF", lib)
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "TF", lib)
	torch := filepath.Join(redistest.RepoRoot(), "build", "backends", "torch", "libgorai_torch.so")
	expectErr(t, c, "ERR error loading backend", "AI.CONFIG", "LOADBACKEND", "TORCH", torch)
}

// TestONNXTelemetryOff: ONNX Runtime's Linux build starts Microsoft's telemetry with its environment
// unless ORT_DISABLE_TELEMETRY is set: it left a mat-debug-<pid>.log in /tmp per server started,
// never removed, and uploads where it finds a CA bundle. gorai turns it off unless the operator set
// the variable.
func TestONNXTelemetryOff(t *testing.T) {
	t.Parallel()
	if _, set := os.LookupEnv("ORT_DISABLE_TELEMETRY"); set {
		t.Skip("ORT_DISABLE_TELEMETRY is set in the test's environment, which the server inherits: nothing to check")
	}
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, storeArgs("m", "ONNX", "CPU", redisaiFixture(t, "linear_iris.onnx"))...)
	fds, err := os.ReadDir("/proc/" + strconv.Itoa(s.PID()) + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if target, err := os.Readlink("/proc/" + strconv.Itoa(s.PID()) + "/fd/" + fd.Name()); err == nil && strings.Contains(target, "mat-debug-") {
			t.Errorf("the server has ONNX Runtime's telemetry log open: %s", target)
		}
	}
	if _, err := os.Stat("/tmp/mat-debug-" + strconv.Itoa(s.PID()) + ".log"); err == nil {
		t.Errorf("/tmp/mat-debug-%d.log exists: ONNX Runtime's telemetry ran", s.PID())
	}
}
