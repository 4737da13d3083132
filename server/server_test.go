package server

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"gorai/backends"
	"gorai/commands"
	"gorai/tensor"
	// The real backends register themselves; their libraries are not opened by these tests.
	_ "gorai/backends/onnx"
	_ "gorai/backends/tf"
	_ "gorai/backends/tflite"
	_ "gorai/backends/torch"
)

// logLines collects what the server logs.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) log(level, format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, args...))
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func newServer(t *testing.T, cfg commands.Config) (*Server, *logLines) {
	l := &logLines{}
	s := New(cfg, l.log)
	t.Cleanup(s.Stop)
	return s, l
}

func TestLibraryPath(t *testing.T) {
	cfg := commands.DefaultConfig("/mod")
	cfg.BackendPaths = map[string]string{"TF": "tf/mine.so", "ONNX": "/abs/ort.so"}
	s, _ := newServer(t, cfg)
	torch, _ := backends.Lookup("TORCH")
	for name, want := range map[string]string{
		"TF":    cfg.ResolveBackendPath("tf/mine.so"),
		"ONNX":  "/abs/ort.so",
		"TORCH": cfg.ResolveBackendPath(torch.DefaultLibrary),
	} {
		if got := s.LibraryPath(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
}

// A backend whose library is not there fails the build with RedisAI's text, and the reason is logged.
func TestBuilderWithoutLibrary(t *testing.T) {
	cfg := commands.DefaultConfig(t.TempDir())
	s, l := newServer(t, cfg)
	_, err := s.Builder(context.Background(), false).OpenModel(commands.ModelMeta{Backend: "ONNX", Device: "CPU"}, []byte("x"))
	if !errors.Is(err, errCouldNotLoadBackend) || !strings.Contains(l.String(), "warning") {
		t.Fatalf("err %v, log %q", err, l.String())
	}
	_, err = s.Builder(context.Background(), false).OpenScript(commands.ScriptMeta{Device: "CPU"}, []byte("def f(a): return a"))
	if !errors.Is(err, errCouldNotLoadBackend) {
		t.Fatalf("script: err %v", err)
	}
}

// A backend named at load whose library cannot be opened is dropped from the configuration (it loads
// from its default path when first needed) and logged; the server starts anyway.
func TestLoadConfiguredBackends(t *testing.T) {
	cfg := commands.DefaultConfig(t.TempDir())
	cfg.BackendPaths = map[string]string{"TF": "/nonexistent/redisai_tensorflow.so"}
	s, l := newServer(t, cfg)
	s.LoadConfiguredBackends()
	if _, ok := s.Config.BackendPaths["TF"]; ok || !strings.Contains(l.String(), "when first needed") {
		t.Fatalf("paths %v, log %q", s.Config.BackendPaths, l.String())
	}
}

// infoText renders INFO as "# section" and "field:value" lines.
type infoText struct{ lines []string }

func (w *infoText) Section(name string)        { w.lines = append(w.lines, "# "+name) }
func (w *infoText) String(field, value string) { w.lines = append(w.lines, field+":"+value) }
func (w *infoText) Integer(field string, value int64) {
	w.lines = append(w.lines, fmt.Sprintf("%s:%d", field, value))
}

// INFO's sections come in RedisAI's order with its field names, and the CPU of each worker is there.
func TestInfo(t *testing.T) {
	cfg := commands.DefaultConfig("/mod")
	cfg.BackendPaths = map[string]string{"TORCH": "t.so"}
	s, _ := newServer(t, cfg)
	var w infoText
	s.Info(&w, "abc")
	text := strings.Join(w.lines, "\n")
	var sections []string
	for _, l := range w.lines {
		if strings.HasPrefix(l, "# ") {
			sections = append(sections, l[2:])
		}
	}
	if got := strings.Join(sections, ","); got != "versions,git,load_time_configs,backends_info,cpu,gorai,backends_config" {
		t.Fatalf("sections %s", got)
	}
	for _, want := range []string{"RedisAI_version:1.2.7", "rdb_version:4", "git_sha:abc", "threads_per_queue:1",
		"queue_CPU_bthread_n1_used_cpu_total:", "queue_CPU_batches:0", "queue_CPU_batched_runs:0", "main_thread_used_cpu_user:", "torch_path:t.so", "preload_backends:yes"} {
		if !strings.Contains(text, want) {
			t.Errorf("INFO lacks %q:\n%s", want, text)
		}
	}
}

// Preload opens nothing whose library is missing, and nothing at all when PRELOAD_BACKENDS is no.
func TestPreloadSkipsMissingLibraries(t *testing.T) {
	cfg := commands.DefaultConfig(t.TempDir())
	s, l := newServer(t, cfg)
	s.Preload()
	s.Stop()
	if l.String() != "" {
		t.Fatalf("logged %q", l.String())
	}
}

// listed reports whether AI._MODELSCAN would list key.
func listed(s *Server, key string) bool {
	for _, e := range s.Stats.All() {
		if e.Key == key {
			return true
		}
	}
	return false
}

// A COPY's session shares the model, under its own statistics; the model closes with the last.
func TestSessions(t *testing.T) {
	s, _ := newServer(t, commands.DefaultConfig("/mod"))
	m := &closeCounter{}
	a := s.NewModelSession("a", commands.ModelMeta{Backend: "ONNX", Device: "CPU", BatchSize: 4}, m)
	b := s.CopySession(a, "b")
	if !listed(s, "b") || a.Batching.Size != 4 {
		t.Fatalf("copy not registered, or batching lost: %+v", a.Batching)
	}
	s.CloseSession(a)
	if listed(s, "a") || m.closed != 0 {
		t.Fatalf("a's statistics kept, or the shared model closed (%d) while b uses it", m.closed)
	}
	s.CloseSession(b)
	if m.closed != 1 {
		t.Fatalf("model closed %d times, want 1", m.closed)
	}
}

// closeCounter is a backend model that only counts its closes.
type closeCounter struct{ closed int }

func (c *closeCounter) Run([]tensor.Tensor) ([]tensor.Tensor, error) { return nil, nil }
func (c *closeCounter) InputNames() []string                         { return nil }
func (c *closeCounter) OutputNames() []string                        { return nil }
func (c *closeCounter) Close()                                       { c.closed++ }
