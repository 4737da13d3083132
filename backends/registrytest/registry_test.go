// Package registrytest checks the registry as the module sees it: the four backend packages,
// blank-imported as module/backends.go imports them, register RedisAI's backends.
package registrytest

import (
	"testing"

	"gorai/backends"
	_ "gorai/backends/onnx"
	_ "gorai/backends/tf"
	_ "gorai/backends/tflite"
	_ "gorai/backends/torch"
)

func TestFourBackends(t *testing.T) {
	// RedisAI's backend numbers in RDB files, and the order of its INFO and load-time arguments.
	want := []struct {
		name      string
		index     int
		library   string
		fields    []string
		scripts   bool
		nodeNames bool
	}{
		{"TF", 0, "tf/libtensorflow_cc.so.2", []string{"TensorFlow_version"}, false, true},
		{"TFLITE", 1, "tflite/libLiteRt.so", []string{"TensorFlowLite_version"}, false, false},
		{"TORCH", 2, "torch/libgorai_torch.so", []string{"Torch_version"}, true, false},
		{"ONNX", 3, "onnx/libonnxruntime.so.1", []string{"onnxruntime_version", "onnxruntime_memory", "onnxruntime_memory_access_num",
			"onnxruntime_maximum_run_sessions_number"}, false, false},
	}
	ds := backends.Drivers()
	if len(ds) != len(want) {
		t.Fatalf("%d backends registered: %v", len(ds), backends.Names())
	}
	for i, w := range want {
		d := ds[i]
		if d.Name != w.name || d.RDBIndex != w.index || d.DefaultLibrary != w.library || d.Scripts != w.scripts ||
			d.NodeNames != w.nodeNames || d.Open == nil {
			t.Errorf("backend %d: %+v, want %+v", i, d, w)
		}
		if b, ok := backends.ByIndex(w.index); !ok || b.Name != w.name {
			t.Errorf("ByIndex(%d): %v %v", w.index, b.Name, ok)
		}
		fields := d.Info(fakeBackend{}, backends.InfoEnv{RunSessions: 7})
		if len(fields) != len(w.fields) {
			t.Errorf("%s INFO fields: %v", w.name, fields)
			continue
		}
		for j, f := range fields {
			if f.Name != w.fields[j] {
				t.Errorf("%s INFO field %d: %s, want %s", w.name, j, f.Name, w.fields[j])
			}
		}
		if fields[0].Value != "v1" {
			t.Errorf("%s version: %v", w.name, fields[0].Value)
		}
	}
	if s, ok := backends.ScriptDriver(); !ok || s.Name != "TORCH" {
		t.Errorf("ScriptDriver: %v %v", s.Name, ok)
	}
	if f := ds[3].Info(fakeBackend{}, backends.InfoEnv{RunSessions: 7}); f[3].Value != int64(7) {
		t.Errorf("ONNX run sessions: %v", f[3].Value)
	}
}

type fakeBackend struct{ backends.Backend }

func (fakeBackend) Version() string { return "v1" }
