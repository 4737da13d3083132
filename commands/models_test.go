package commands

import (
	"bytes"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gorai/backends"
	"gorai/exec"
	"gorai/stats"
)

// modelFixture is a keyspace with tensors t1 (INT8 [1]) and t2 (INT8 [2]), a key s of another type,
// and models m (2 inputs, 1 output), m1 (1/1), m3 (3/1), m9 (9/1), m22 (2/2) and g (ONNX, every
// option set); counters are zeroed.
func modelFixture(t *testing.T) (*fakeKeyspace, *fakeRuntime) {
	t.Helper()
	ks, rt := newFakeKeyspace(), newFakeRuntime()
	ks.other["s"] = true
	setTensor(t, ks, "t1 INT8 1 VALUES 1")
	setTensor(t, ks, "t2 INT8 1 VALUES 2")
	add := func(key string, nin, nout int) {
		meta := ModelMeta{Backend: "TF", Device: "CPU", Tag: []byte{}}
		for i := 0; i < nin; i++ {
			meta.Inputs = append(meta.Inputs, "in"+string(rune('a'+i)))
		}
		for i := 0; i < nout; i++ {
			meta.Outputs = append(meta.Outputs, "out"+string(rune('a'+i)))
		}
		ks.models[key] = &fakeModel{meta: meta, blob: []byte("blob of " + key), session: &fakeSession{}}
	}
	add("m", 2, 1)
	add("m1", 1, 1)
	add("m3", 3, 1)
	add("m9", 9, 1)
	add("m22", 2, 2)
	ks.models["g"] = &fakeModel{meta: ModelMeta{Backend: "ONNX", Device: "gpu:1", Tag: []byte("t"), BatchSize: 4,
		MinBatchSize: 2, MinBatchTimeout: 7, Inputs: []string{"x", "y"}, Outputs: []string{"z"}},
		blob: []byte("0123456789"), session: &fakeSession{}}
	ks.replicated, ks.modelSets, ks.deletes = 0, 0, 0
	t.Cleanup(ks.release)
	return ks, rt
}

// unchanged fails unless the command left the keyspace and the runtime alone (OpenModel aside,
// which the caller checks).
func unchanged(t *testing.T, line string, ks *fakeKeyspace, rt *fakeRuntime, models map[string]*fakeModel) {
	t.Helper()
	if ks.replicated != 0 || ks.modelSets != 0 || ks.deletes != 0 {
		t.Errorf("%s: replicated %d, SetModel %d, Delete %d", line, ks.replicated, ks.modelSets, ks.deletes)
	}
	if len(rt.executed) != 0 || len(rt.loaded) != 0 {
		t.Errorf("%s: executed %d, loaded %d", line, len(rt.executed), len(rt.loaded))
	}
	if !reflect.DeepEqual(ks.models, models) {
		t.Errorf("%s: the models changed", line)
	}
	for _, s := range rt.sessions {
		if s.closed != 1 {
			t.Errorf("%s: a session built by OpenModel was closed %d times", line, s.closed)
		}
	}
}

const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"

// Every error of AI.MODELSTORE in the spec's check order (§1.3): nothing is built, stored or sent.
func TestModelStoreErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"AI.MODELSTORE", "-ARITY"},
		{"AI.MODELSTORE m TORCH BLOB x", "-ARITY"},
		{"AI.MODELSTORE m TORCH CPU BLOB", "-ARITY"},
		{"AI.MODELSTORE m PYTORCH CPU BLOB x", "-ERR unsupported backend"},
		{"AI.MODELSTORE m TF2 CPU BLOB x", "-ERR unsupported backend"},
		{"AI.MODELSTORE m PYTORCH bad_device BLOB x", "-ERR unsupported backend"},
		{"AI.MODELSTORE m TORCH bad_device BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU:: BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU:1.8 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU:123456 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH GPU:123456 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU: BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH GPU:x BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU1 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CP BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH  BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH TPU BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU:-1 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE x BLOB y", "-ERR Invalid argument for BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE -1 BLOB y", "-ERR Invalid argument for BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 1.5 BLOB y", "-ERR Invalid argument for BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU TAG t BATCHSIZE", "-ERR Invalid argument for BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE BLOB y", "-ERR Invalid argument for BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHSIZE x BLOB y", "-ERR Invalid argument for MINBATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHSIZE -2 BLOB y", "-ERR Invalid argument for MINBATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHSIZE", "-ERR Invalid argument for MINBATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT x BLOB y", "-ERR Invalid argument for MINBATCHTIMEOUT"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT -5 BLOB y", "-ERR Invalid argument for MINBATCHTIMEOUT"},
		{"AI.MODELSTORE m TORCH CPU MINBATCHSIZE 2 BLOB y", "-ERR MINBATCHSIZE specified without BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 0 MINBATCHSIZE 2 BLOB y", "-ERR MINBATCHSIZE specified without BATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB y", "-ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU MINBATCHTIMEOUT 5 BLOB y", "-ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"},
		{"AI.MODELSTORE m TORCH CPU TAG t", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSTORE m TORCH CPU TAG t BATCHSIZE 2", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 MINBATCHSIZE 1 MINBATCHTIMEOUT 5", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSTORE m TF CPU BLOB x", "-ERR INPUTS not specified for TF"},
		{"AI.MODELSTORE m TF CPU TAG t OUTPUTS 1 b BLOB x", "-ERR INPUTS not specified for TF"},
		{"AI.MODELSTORE m TF CPU INPUTS x a OUTPUTS 1 b BLOB x", "-ERR Invalid argument for input_count"},
		{"AI.MODELSTORE m TF CPU INPUTS 0 OUTPUTS 1 b BLOB x", "-ERR Invalid argument for input_count"},
		{"AI.MODELSTORE m TF CPU INPUTS -1 a OUTPUTS 1 b BLOB x", "-ERR Invalid argument for input_count"},
		{"AI.MODELSTORE m TF CPU TAG t INPUTS", "-ERR Invalid argument for input_count"},
		{"AI.MODELSTORE m TF CPU INPUTS 3 a b", "-ERR number of model inputs does not match the number of given arguments"},
		{"AI.MODELSTORE m TF CPU INPUTS 1 a BLOB x", "-ERR OUTPUTS not specified for TF"},
		{"AI.MODELSTORE m TF CPU TAG t INPUTS 1 a", "-ERR OUTPUTS not specified for TF"},
		{"AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS x b BLOB x", "-ERR Invalid argument for output_count"},
		{"AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS 0 BLOB x", "-ERR Invalid argument for output_count"},
		{"AI.MODELSTORE m TF CPU TAG t INPUTS 1 a OUTPUTS", "-ERR Invalid argument for output_count"},
		{"AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS 3 b BLOB", "-ERR number of model outputs does not match the number of given arguments"},
		{"AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS 1 b NOTBLOB x", "-ERR Invalid argument, expected BLOB"},
		// RedisAI reads the token after the outputs into the same variable; with none left it
		// still holds "OUTPUTS", which is not BLOB.
		{"AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS 1 b", "-ERR Invalid argument, expected BLOB"},
		{"AI.MODELSTORE m TF CPU INPUTS 1 a OUTPUTS 1 b BLOB", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSTORE m TORCH CPU INPUTS 1 a BLOB x", "-ERR INPUTS argument should not be specified for this backend"},
		{"AI.MODELSTORE m ONNX CPU TAG t INPUTS 1 a OUTPUTS 1 b BLOB x", "-ERR INPUTS argument should not be specified for this backend"},
		{"AI.MODELSTORE m TFLITE CPU inputs BLOB x", "-ERR INPUTS argument should not be specified for this backend"},
		{"AI.MODELSTORE m TORCH CPU OUTPUTS 1 b BLOB x", "-ERR Invalid argument, expected BLOB"},
		{"AI.MODELSTORE m TORCH CPU NOTBLOB x", "-ERR Invalid argument, expected BLOB"},
		// The options are read in a fixed order: TAG after BATCHSIZE is not an option.
		{"AI.MODELSTORE m TORCH CPU BATCHSIZE 2 TAG t BLOB x", "-ERR Invalid argument, expected BLOB"},
		{"AI.MODELSTORE m TORCH CPU TAG t TAG u BLOB x", "-ERR Invalid argument, expected BLOB"},
		{"AI.MODELSTORE m TORCH CPU TAG t BLOB", "-ERR Insufficient arguments, missing model BLOB"},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		if got := runAI(ks, rt, ModelStore, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		if len(rt.opened) != 0 {
			t.Errorf("%s: OpenModel called", c.line)
		}
		unchanged(t, c.line, ks, rt, before)
	}
}

// The key's type is checked after the model was built (§1.3); the session is closed then. Backend
// errors are passed through verbatim.
func TestModelStoreAfterOpen(t *testing.T) {
	for _, key := range []string{"s", "t1"} {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		line := "AI.MODELSTORE " + key + " TORCH CPU BLOB x"
		if got := runAI(ks, rt, ModelStore, line); got != wrongType {
			t.Errorf("%s: %s", line, got)
		}
		if len(rt.opened) != 1 || len(rt.sessions) != 1 {
			t.Errorf("%s: OpenModel called %d times", line, len(rt.opened))
		}
		unchanged(t, line, ks, rt, before)
	}
	for _, text := range []string{"ERR Could not load backend", "No graph was found in the protobuf.",
		`ERR Input node named "x" not found in TF graph.`} {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		rt.openErr = errors.New(text)
		line := "AI.MODELSTORE m TF CPU INPUTS 1 x OUTPUTS 1 y BLOB b"
		if got := runAI(ks, rt, ModelStore, line); got != "-"+text {
			t.Errorf("%s: %s", line, got)
		}
		if len(rt.opened) != 1 {
			t.Errorf("OpenModel called %d times", len(rt.opened))
		}
		unchanged(t, line, ks, rt, before)
	}
}

// MODELSTORE hands the parsed meta and the joined chunks to OpenModel, stores what it built and
// replicates the command.
func TestModelStore(t *testing.T) {
	cases := []struct {
		line string
		meta ModelMeta
		blob string
	}{
		{"AI.MODELSTORE new TORCH cpu BLOB abc", ModelMeta{Backend: "TORCH", Device: "cpu", Tag: []byte{}}, "abc"},
		{"AI.MODELSTORE new onnx GPU:0 TAG v1 BATCHSIZE 4 MINBATCHSIZE 2 MINBATCHTIMEOUT 100 BLOB a b c",
			ModelMeta{Backend: "ONNX", Device: "GPU:0", Tag: []byte("v1"), BatchSize: 4, MinBatchSize: 2, MinBatchTimeout: 100}, "abc"},
		{"AI.MODELSTORE new tf CPU:1 INPUTS 2 x y OUTPUTS 1 z BLOB g",
			ModelMeta{Backend: "TF", Device: "CPU:1", Tag: []byte{}, Inputs: []string{"x", "y"}, Outputs: []string{"z"}}, "g"},
		{"AI.MODELSTORE new Tf gpu tag t batchsize 3 inputs 1 x outputs 2 y z blob g h",
			ModelMeta{Backend: "TF", Device: "gpu", Tag: []byte("t"), BatchSize: 3, Inputs: []string{"x"}, Outputs: []string{"y", "z"}}, "gh"},
		{"AI.MODELSTORE new TFLITE CPU TAG BLOB BLOB x", ModelMeta{Backend: "TFLITE", Device: "CPU", Tag: []byte("BLOB")}, "x"},
		{"AI.MODELSTORE new TF GPU INPUTS 1 BLOB OUTPUTS 1 INPUTS BLOB x",
			ModelMeta{Backend: "TF", Device: "GPU", Tag: []byte{}, Inputs: []string{"BLOB"}, Outputs: []string{"INPUTS"}}, "x"},
		{"AI.MODELSTORE new TORCH CPU BATCHSIZE 0 MINBATCHSIZE 0 MINBATCHTIMEOUT 0 BLOB x", ModelMeta{Backend: "TORCH", Device: "CPU", Tag: []byte{}}, "x"},
		{"AI.MODELSTORE new TORCH CPU BATCHSIZE 2 MINBATCHSIZE 0 MINBATCHTIMEOUT 0 BLOB x", ModelMeta{Backend: "TORCH", Device: "CPU", Tag: []byte{}, BatchSize: 2}, "x"},
		{"AI.MODELSTORE new TORCH CPU BLOB BLOB", ModelMeta{Backend: "TORCH", Device: "CPU", Tag: []byte{}}, "BLOB"},
		{"AI.MODELSTORE new TORCH GPU:12345 BLOB \\0x \\0", ModelMeta{Backend: "TORCH", Device: "GPU:12345", Tag: []byte{}}, "\x00x\x00"},
		{"AI.MODELSTORE new TORCH CPU TAG  BLOB ", ModelMeta{Backend: "TORCH", Device: "CPU", Tag: []byte{}}, ""},
		{"AI.MODELSTORE {a}\\0b TORCH CPU BLOB x", ModelMeta{Backend: "TORCH", Device: "CPU", Tag: []byte{}}, "x"},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		if got := runAI(ks, rt, ModelStore, c.line); got != "+OK" {
			t.Errorf("%s: %s", c.line, got)
			continue
		}
		if len(rt.opened) != 1 || !reflect.DeepEqual(rt.opened[0].meta, c.meta) || string(rt.opened[0].blob) != c.blob {
			t.Errorf("%s: OpenModel got %+v", c.line, rt.opened)
		}
		key := string(args(c.line)[1])
		m := ks.models[key]
		if m == nil || !reflect.DeepEqual(m.meta, c.meta) || string(m.blob) != c.blob || m.session != rt.sessions[0] {
			t.Errorf("%s: stored %+v", c.line, m)
		}
		if ks.replicated != 1 || ks.modelSets != 1 {
			t.Errorf("%s: replicated %d, SetModel %d", c.line, ks.replicated, ks.modelSets)
		}
	}

	// Overwriting a model replaces it (the keyspace closes the old session).
	ks, rt := modelFixture(t)
	old := ks.models["m"].session.(*fakeSession)
	if got := runAI(ks, rt, ModelStore, "AI.MODELSTORE m TORCH CPU BLOB new"); got != "+OK" {
		t.Fatal(got)
	}
	if old.closed != 1 || string(ks.models["m"].blob) != "new" || ks.models["m"].meta.Backend != "TORCH" {
		t.Errorf("overwrite: old closed %d, now %+v", old.closed, ks.models["m"])
	}
}

// Errors of the deprecated AI.MODELSET (§1.3, "Differences from MODELSTORE").
func TestModelSetErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"AI.MODELSET m TORCH", "-ARITY"},
		{"AI.MODELSET m FOO CPU BLOB x", "-ERR unsupported backend"},
		{"AI.MODELSET m TORCH BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSET m TORCH INPUTS a BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSET m TORCH tag BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSET m TORCH MINBATCHTIMEOUT 2 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSET m TORCH CPU:12345678 BLOB x", "-ERR Invalid DEVICE"},
		{"AI.MODELSET m TORCH CPU BATCHSIZE bad_size BLOB x", "-ERR Invalid argument for BATCHSIZE"},
		{"AI.MODELSET m TFLITE CPU BATCHSIZE 2 BLOB x", "-ERR Auto-batching not supported by the TFLITE backend"},
		{"AI.MODELSET m TORCH CPU MINBATCHSIZE 2 BLOB x", "-ERR MINBATCHSIZE specified without BATCHSIZE"},
		{"AI.MODELSET m TORCH CPU BATCHSIZE 2 MINBATCHSIZE bad_size BLOB x", "-ERR Invalid argument for MINBATCHSIZE"},
		{"AI.MODELSET m TORCH CPU MINBATCHTIMEOUT 5 BLOB x", "-ERR MINBATCHTIMEOUT specified without BATCHSIZE"},
		{"AI.MODELSET m TORCH CPU BATCHSIZE 2 MINBATCHTIMEOUT 5 BLOB x", "-ERR MINBATCHTIMEOUT specified without MINBATCHSIZE"},
		{"AI.MODELSET m TF CPU BLOB x", "-ERR Insufficient arguments, INPUTS and OUTPUTS not specified"},
		{"AI.MODELSET m TF CPU foo BLOB x", "-ERR INPUTS not specified"},
		{"AI.MODELSET m TF CPU OUTPUTS b INPUTS a BLOB x", "-ERR INPUTS not specified"},
		{"AI.MODELSET m TF CPU INPUTS a BLOB x", "-ERR OUTPUTS not specified"},
		{"AI.MODELSET m TORCH CPU", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSET m TORCH CPU x", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSET m TORCH CPU NOT_BLOB x", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSET m TORCH CPU BLOB", "-ERR Insufficient arguments, missing model BLOB"},
		{"AI.MODELSET m TF CPU INPUTS a OUTPUTS b", "-ERR Insufficient arguments, missing model BLOB"},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		if got := runAI(ks, rt, ModelSet, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		if len(rt.opened) != 0 {
			t.Errorf("%s: OpenModel called", c.line)
		}
		unchanged(t, c.line, ks, rt, before)
	}
}

// MODELSET gives OpenModel and the keyspace what the equivalent MODELSTORE gives.
func TestModelSetAsModelStore(t *testing.T) {
	cases := []struct{ set, store string }{
		{"AI.MODELSET k TF CPU TAG t BATCHSIZE 4 MINBATCHSIZE 2 MINBATCHTIMEOUT 7 INPUTS a b OUTPUTS c BLOB x y",
			"AI.MODELSTORE k TF CPU TAG t BATCHSIZE 4 MINBATCHSIZE 2 MINBATCHTIMEOUT 7 INPUTS 2 a b OUTPUTS 1 c BLOB x y"},
		{"AI.MODELSET k torch cpu BLOB x", "AI.MODELSTORE k torch cpu BLOB x"},
		{"AI.MODELSET k ONNX GPU:1 TAG t BATCHSIZE 3 BLOB x", "AI.MODELSTORE k ONNX GPU:1 TAG t BATCHSIZE 3 BLOB x"},
		{"AI.MODELSET k tf gpu inputs a outputs b c blob x", "AI.MODELSTORE k tf gpu inputs 1 a outputs 2 b c blob x"},
		{"AI.MODELSET k TORCH CPU BLOB BLOB", "AI.MODELSTORE k TORCH CPU BLOB BLOB"},
		{"AI.MODELSET k TORCH CPU TAG BLOB BLOB x", "AI.MODELSTORE k TORCH CPU TAG BLOB BLOB x"},
		// For other backends than TF the tokens between the options and BLOB are ignored.
		{"AI.MODELSET k ONNX CPU INPUTS a OUTPUTS b BLOB x", "AI.MODELSTORE k ONNX CPU BLOB x"},
		{"AI.MODELSET k TORCH CPU junk BLOB x", "AI.MODELSTORE k TORCH CPU BLOB x"},
		{"AI.MODELSET k TORCH CPU INPUTS a BLOB x", "AI.MODELSTORE k TORCH CPU BLOB x"},
		{"AI.MODELSET k TORCH CPU TAG INPUTS BLOB x", "AI.MODELSTORE k TORCH CPU TAG INPUTS BLOB x"},
	}
	for _, c := range cases {
		ks1, rt1 := modelFixture(t)
		ks2, rt2 := modelFixture(t)
		got1, got2 := runAI(ks1, rt1, ModelSet, c.set), runAI(ks2, rt2, ModelStore, c.store)
		if got1 != "+OK" || got2 != "+OK" {
			t.Errorf("%s: %s; %s: %s", c.set, got1, c.store, got2)
			continue
		}
		if !reflect.DeepEqual(rt1.opened, rt2.opened) {
			t.Errorf("%s: OpenModel got %+v, MODELSTORE gives %+v", c.set, rt1.opened, rt2.opened)
		}
		if m1, m2 := ks1.models["k"], ks2.models["k"]; !reflect.DeepEqual(m1.meta, m2.meta) || !bytes.Equal(m1.blob, m2.blob) {
			t.Errorf("%s: stored %+v, MODELSTORE stores %+v", c.set, m1, m2)
		}
		if ks1.replicated != 1 {
			t.Errorf("%s: replicated %d times", c.set, ks1.replicated)
		}
	}
}

// MODELSET does not validate the device beyond its length and the keywords (§1.3): it is stored as typed.
func TestModelSetDevice(t *testing.T) {
	ks, rt := modelFixture(t)
	if got := runAI(ks, rt, ModelSet, "AI.MODELSET k TORCH bad_device BLOB x"); got != "+OK" {
		t.Fatalf("got %s", got)
	}
	if ks.models["k"].meta.Device != "bad_device" {
		t.Errorf("stored %+v", ks.models["k"].meta)
	}
	// The device is a C string, as RedisAI read it: up to its first NUL, for either command.
	for _, line := range []string{"AI.MODELSET k TORCH CPU\\0x BLOB x", "AI.MODELSTORE k TORCH CPU\\0x BLOB x"} {
		h := ModelSet
		if strings.HasPrefix(line, "AI.MODELSTORE") {
			h = ModelStore
		}
		if got := runAI(ks, rt, h, line); got != "+OK" || ks.models["k"].meta.Device != "CPU" {
			t.Errorf("%s: %s, device %q, want CPU", line, got, ks.models["k"].meta.Device)
		}
	}
}

func TestModelGet(t *testing.T) {
	meta := `$"backend" $"ONNX" $"device" $"gpu:1" $"tag" $"t" $"batchsize" :4 $"minbatchsize" :2 ` +
		`$"inputs" *2 $"x" $"y" $"outputs" *1 $"z" $"minbatchtimeout" :7`
	cases := []struct {
		line  string
		chunk int64
		want  string
	}{
		{"AI.MODELGET g META", 0, "*16 " + meta},
		{"AI.MODELGET g meta", 0, "*16 " + meta},
		{"AI.MODELGET g META FOO", 0, "*16 " + meta},
		{"AI.MODELGET g BLOB", 0, `$"0123456789"`},
		{"AI.MODELGET g", 0, "*18 " + meta + ` $"blob" $"0123456789"`},
		{"AI.MODELGET g META BLOB", 0, "*18 " + meta + ` $"blob" $"0123456789"`},
		{"AI.MODELGET g blob meta", 0, "*18 " + meta + ` $"blob" $"0123456789"`},
		{"AI.MODELGET g FOO", 0, "*18 " + meta + ` $"blob" $"0123456789"`},
		{"AI.MODELGET g FOO BAR", 0, "*18 " + meta + ` $"blob" $"0123456789"`},
		// Chunks: one bulk below the chunk size; len/chunk+1 pieces from it on.
		{"AI.MODELGET g BLOB", 11, `$"0123456789"`},
		{"AI.MODELGET g BLOB", 3, `*4 $"012" $"345" $"678" $"9"`},
		{"AI.MODELGET g BLOB", 10, `*2 $"0123456789" $""`},
		{"AI.MODELGET g BLOB", 5, `*3 $"01234" $"56789" $""`},
		{"AI.MODELGET g BLOB", 1, `*11 $"0" $"1" $"2" $"3" $"4" $"5" $"6" $"7" $"8" $"9" $""`},
		{"AI.MODELGET g", 3, "*18 " + meta + ` $"blob" *4 $"012" $"345" $"678" $"9"`},
		{"AI.MODELGET g META", 3, "*16 " + meta},
		{"AI.MODELGET m1 META", 0, `*16 $"backend" $"TF" $"device" $"CPU" $"tag" $"" $"batchsize" :0 $"minbatchsize" :0 ` +
			`$"inputs" *1 $"ina" $"outputs" *1 $"outa" $"minbatchtimeout" :0`},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		if c.chunk != 0 {
			rt.config.ModelChunkSize = c.chunk
		}
		before := maps.Clone(ks.models)
		if got := runAI(ks, rt, ModelGet, c.line); got != c.want {
			t.Errorf("%s (chunk %d):\n got %s\nwant %s", c.line, c.chunk, got, c.want)
		}
		unchanged(t, c.line, ks, rt, before)
	}

	// What was stored comes back byte for byte, and 1352 bytes at len//3 come in 4 chunks
	// (redisai-py's test_config).
	ks, rt := modelFixture(t)
	blob := make([]byte, 1352)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	a := [][]byte{[]byte("AI.MODELSTORE"), []byte("k"), []byte("ONNX"), []byte("CPU"), []byte("BLOB"), blob[:1000], blob[1000:]}
	if got := runArgs(ks, rt, ModelStore, a); got != "+OK" {
		t.Fatal(got)
	}
	rt.config.ModelChunkSize = int64(len(blob) / 3)
	var r textReply
	if err := ModelGet(Env{Keys: ks, Out: &r, Runtime: rt}, args("AI.MODELGET k BLOB")); err != nil {
		t.Fatal(err)
	}
	want := textReply{}
	want.Array(4)
	for i := 0; i < 4; i++ {
		want.BulkBytes(blob[min(i*450, len(blob)):min((i+1)*450, len(blob))])
	}
	if r.String() != want.String() {
		t.Errorf("chunks of 1352 bytes at 450: %d parts, want %d", len(r.parts), len(want.parts))
	}
}

func TestModelGetDelErrors(t *testing.T) {
	cases := []struct {
		h          Handler
		line, want string
	}{
		{ModelGet, "AI.MODELGET", "-ARITY"},
		{ModelGet, "AI.MODELGET g META BLOB x", "-ARITY"},
		{ModelGet, "AI.MODELGET nope", "-ERR model key is empty"},
		{ModelGet, "AI.MODELGET nope BLOB", "-ERR model key is empty"},
		{ModelGet, "AI.MODELGET s", wrongType},
		{ModelGet, "AI.MODELGET t1 META", wrongType},
		{ModelDel, "AI.MODELDEL", "-ARITY"},
		{ModelDel, "AI.MODELDEL m x", "-ARITY"},
		{ModelDel, "AI.MODELDEL nope", "-ERR model key is empty"},
		{ModelDel, "AI.MODELDEL s", wrongType},
		{ModelDel, "AI.MODELDEL t1", wrongType},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		if got := runAI(ks, rt, c.h, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		unchanged(t, c.line, ks, rt, before)
		if _, ok := ks.tensors["t1"]; !ok {
			t.Errorf("%s: t1 deleted", c.line)
		}
	}
}

func TestModelDel(t *testing.T) {
	ks, rt := modelFixture(t)
	s := ks.models["m"].session.(*fakeSession)
	if got := runAI(ks, rt, ModelDel, "AI.MODELDEL m"); got != "+OK" {
		t.Fatal(got)
	}
	if ks.models["m"] != nil || ks.deletes != 1 || ks.replicated != 1 || s.closed != 1 {
		t.Errorf("after MODELDEL: model %v, deletes %d, replicated %d, closed %d", ks.models["m"], ks.deletes, ks.replicated, s.closed)
	}
	if got := runAI(ks, rt, ModelDel, "AI.MODELDEL m"); got != "-ERR model key is empty" {
		t.Errorf("second MODELDEL: %s", got)
	}
}

// Every error of AI.MODELEXECUTE in the spec's order (§1.3): nothing is run, written or replicated.
func TestModelExecuteErrors(t *testing.T) {
	const arity = "-ERR wrong number of arguments for 'AI.MODELEXECUTE' command"
	cases := []struct{ line, want string }{
		{"AI.MODELEXECUTE", arity},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS", arity},
		{"AI.MODELEXECUTE nope INPUTS 1 t1 OUTPUTS", arity},
		{"AI.MODELEXECUTE nope INPUTS 2 t1 t2 OUTPUTS 1 o", "-ERR model key is empty"},
		{"AI.MODELEXECUTE nope FOO 2 t1 t2 OUTPUTS 1 o", "-ERR model key is empty"},
		{"AI.MODELEXECUTE s INPUTS 2 t1 t2 OUTPUTS 1 o", wrongType},
		{"AI.MODELEXECUTE t1 INPUTS 2 t1 t2 OUTPUTS 1 o", wrongType},
		{"AI.MODELEXECUTE m TIMEOUT 5 INPUTS 2 t1 t2 OUTPUTS 1 o", "-ERR INPUTS not specified"},
		{"AI.MODELEXECUTE m OUTPUTS 1 o INPUTS 2 t1 t2", "-ERR INPUTS not specified"},
		{"AI.MODELEXECUTE m INPUTS x t1 t2 OUTPUTS 1 o", "-ERR Invalid argument for input_count"},
		{"AI.MODELEXECUTE m INPUTS 2.0 t1 t2 OUTPUTS 1 o", "-ERR Invalid argument for input_count"},
		{"AI.MODELEXECUTE m INPUTS 0 t1 t2 OUTPUTS 1 o", "-ERR Input count must be a positive integer"},
		{"AI.MODELEXECUTE m INPUTS -1 t1 t2 OUTPUTS 1 o", "-ERR Input count must be a positive integer"},
		{"AI.MODELEXECUTE m INPUTS 1 t1 OUTPUTS 1 o x", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELEXECUTE m INPUTS 3 t1 t2 t2 OUTPUTS 1 o", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELEXECUTE m INPUTS 5 t1 t2 OUTPUTS 1 o", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELEXECUTE m9 INPUTS 9 t1 t2 OUTPUTS 1 o", "-ERR number of input keys to AI.MODELEXECUTE command does not match the number of given arguments"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 FOO 1 o", "-ERR OUTPUTS not specified"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 t1 OUTPUTS 1 o", "-ERR OUTPUTS not specified"},
		{"AI.MODELEXECUTE m1 INPUTS 1 t1 TIMEOUT 5 OUTPUTS 1 o", "-ERR OUTPUTS not specified"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS x o", "-ERR Invalid argument for output_count"},
		{"AI.MODELEXECUTE m3 INPUTS 3 t1 t2 t1 OUTPUTS", "-ERR Invalid argument for output_count"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 0 o", "-ERR Output count must be a positive integer"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS -3 o", "-ERR Output count must be a positive integer"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 2 o p", "-Number of keys given as OUTPUTS here does not match model definition"},
		{"AI.MODELEXECUTE m22 INPUTS 2 t1 t2 OUTPUTS 1 o", "-Number of keys given as OUTPUTS here does not match model definition"},
		{"AI.MODELEXECUTE m22 INPUTS 2 t1 t2 OUTPUTS 2 o", "-ERR number of output keys to AI.MODELEXECUTE command does not match the number of given arguments"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT", "-ERR No value provided for TIMEOUT"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 0", "-ERR Invalid value for TIMEOUT"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT -1", "-ERR Invalid value for TIMEOUT"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT x", "-ERR Invalid value for TIMEOUT"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT x y", "-ERR Invalid value for TIMEOUT"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 5 x", "-Invalid argument: x"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 5 TIMEOUT 5", "-Invalid argument: TIMEOUT"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o FOO", "-Invalid argument: FOO"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o p", "-Invalid argument: p"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o FOO TIMEOUT 5", "-Invalid argument: FOO"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 nope OUTPUTS 1 o", "-ERR tensor key is empty or in a different shard"},
		{"AI.MODELEXECUTE m INPUTS 2 nope t1 OUTPUTS 1 o TIMEOUT 5", "-ERR tensor key is empty or in a different shard"},
		{"AI.MODELEXECUTE m INPUTS 2 t1 s OUTPUTS 1 o", wrongType},
		{"AI.MODELEXECUTE m INPUTS 2 t1 m1 OUTPUTS 1 o", wrongType},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		if got := runAI(ks, rt, ModelExecute, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		unchanged(t, c.line, ks, rt, before)
	}
}

// Errors of the deprecated AI.MODELRUN (§1.3).
func TestModelRunErrors(t *testing.T) {
	const arity = "-ERR wrong number of arguments for 'AI.MODELRUN' command"
	cases := []struct{ line, want string }{
		{"AI.MODELRUN", arity},
		{"AI.MODELRUN m INPUTS t1 OUTPUTS", arity},
		{"AI.MODELRUN nope INPUTS t1 t2 OUTPUTS o", "-ERR model key is empty"},
		{"AI.MODELRUN s INPUTS t1 t2 OUTPUTS o", wrongType},
		{"AI.MODELRUN m FOO t1 t2 OUTPUTS o", "-ERR INPUTS not specified"},
		{"AI.MODELRUN m TIMEOUT 5 t1 t2 OUTPUTS o", "-ERR INPUTS not specified"},
		{"AI.MODELRUN m t1 t2 INPUTS t1 t2 OUTPUTS o", "-ERR INPUTS not specified"},
		{"AI.MODELRUN m TIMEOUT x INPUTS t1 t2 OUTPUTS o", "-ERR Invalid value for TIMEOUT"},
		{"AI.MODELRUN m TIMEOUT 0 INPUTS t1 t2 OUTPUTS o", "-ERR Invalid value for TIMEOUT"},
		{"AI.MODELRUN m INPUTS t1 OUTPUTS o p", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELRUN m INPUTS t1 t2 t1 OUTPUTS o", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELRUN m INPUTS t1 t2 OUTPUTS o p", "-Number of keys given as OUTPUTS here does not match model definition"},
		{"AI.MODELRUN m INPUTS t1 t2 OUTPUTS", "-Number of keys given as OUTPUTS here does not match model definition"},
		// Without OUTPUTS every token after INPUTS is an input.
		{"AI.MODELRUN m INPUTS t1 t2 o p", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELRUN m TIMEOUT 5 INPUTS t1", "-Number of keys given as INPUTS here does not match model definition"},
		{"AI.MODELRUN m INPUTS t1 nope OUTPUTS o", "-ERR tensor key is empty or in a different shard"},
		{"AI.MODELRUN m INPUTS s t1 OUTPUTS o", wrongType},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		if got := runAI(ks, rt, ModelRun, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		unchanged(t, c.line, ks, rt, before)
	}
}

// MODELEXECUTE and MODELRUN hand the model, the input tensors, the output keys and the timeout to
// the runtime, which replies later: the handler writes nothing and replicates nothing.
func TestModelExecute(t *testing.T) {
	cases := []struct {
		h       Handler
		line    string
		model   string
		inputs  []string // tensor keys
		outputs []string
		timeout time.Duration
	}{
		{ModelExecute, "AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 60000000", "m", []string{"t1", "t2"}, []string{"o"}, 60000000 * time.Millisecond},
		{ModelExecute, "AI.MODELEXECUTE m inputs 2 t2 t1 outputs 1 t1", "m", []string{"t2", "t1"}, []string{"t1"}, 0},
		{ModelExecute, "AI.MODELEXECUTE m22 INPUTS 2 t1 t1 OUTPUTS 2 o p timeout 5", "m22", []string{"t1", "t1"}, []string{"o", "p"}, 5 * time.Millisecond},
		{ModelExecute, "AI.MODELEXECUTE m1 INPUTS 1 t2 OUTPUTS 1 OUTPUTS", "m1", []string{"t2"}, []string{"OUTPUTS"}, 0},
		{ModelRun, "AI.MODELRUN m INPUTS t1 t2 OUTPUTS o", "m", []string{"t1", "t2"}, []string{"o"}, 0},
		{ModelRun, "AI.MODELRUN m TIMEOUT 5 INPUTS t1 t2 OUTPUTS o", "m", []string{"t1", "t2"}, []string{"o"}, 5 * time.Millisecond},
		{ModelRun, "AI.MODELRUN m22 timeout 7 inputs t2 t1 outputs o p", "m22", []string{"t2", "t1"}, []string{"o", "p"}, 7 * time.Millisecond},
		{ModelRun, "AI.MODELRUN m22 INPUTS t1 t2 OUTPUTS OUTPUTS o", "m22", []string{"t1", "t2"}, []string{"OUTPUTS", "o"}, 0},
	}
	for _, c := range cases {
		ks, rt := modelFixture(t)
		if got := runAI(ks, rt, c.h, c.line); got != "" {
			t.Errorf("%s: the handler replied %s", c.line, got)
		}
		if len(rt.executed) != 1 {
			t.Errorf("%s: executed %d times", c.line, len(rt.executed))
			continue
		}
		e := rt.executed[0]
		if m, ok := e.model.(*fakeModel); !ok || m != ks.models[c.model] {
			t.Errorf("%s: ran %v, want %s", c.line, e.model, c.model)
		}
		if len(e.inputPtrs) != len(c.inputs) {
			t.Errorf("%s: %d inputs", c.line, len(e.inputPtrs))
		} else {
			for i, k := range c.inputs {
				if e.inputPtrs[i].Pointer() != ks.tensors[k].Pointer() {
					t.Errorf("%s: input %d is not the tensor at %s", c.line, i, k)
				}
			}
		}
		if !slices.Equal(e.outputKeys, c.outputs) || e.timeout != c.timeout {
			t.Errorf("%s: outputs %q timeout %v", c.line, e.outputKeys, e.timeout)
		}
		if ks.replicated != 0 || ks.modelSets != 0 || ks.deletes != 0 {
			t.Errorf("%s: the handler wrote to the keyspace", c.line)
		}
		checkKeysMatchCall(t, c.line, c.model, c.inputs, c.outputs)
	}

	// The runtime's own refusal (a transaction, say) is sent as it is.
	for _, c := range []struct {
		h    Handler
		line string
	}{{ModelExecute, "AI.MODELEXECUTE m INPUTS 2 t1 t2 OUTPUTS 1 o"}, {ModelRun, "AI.MODELRUN m INPUTS t1 t2 OUTPUTS o"}} {
		ks, rt := modelFixture(t)
		rt.execErr = errors.New("ERR Cannot run RedisAI command within a transaction or a LUA script")
		if got := runAI(ks, rt, c.h, c.line); got != "-"+rt.execErr.Error() {
			t.Errorf("%s: %s", c.line, got)
		}
	}
}

func TestModelKeys(t *testing.T) {
	cases := []struct {
		keys func([][]byte) []KeyArg
		line string
	}{
		{ModelExecuteKeys, "AI.MODELEXECUTE +m INPUTS 2 +a +b OUTPUTS 1 !c TIMEOUT 5"},
		{ModelExecuteKeys, "AI.MODELEXECUTE +m inputs 1 +a outputs 2 !b !c"},
		{ModelExecuteKeys, "AI.MODELEXECUTE +m INPUTS 2 +a +b"},
		{ModelExecuteKeys, "AI.MODELEXECUTE +m"},
		{ModelExecuteKeys, "AI.MODELEXECUTE"},
		{ModelRunKeys, "AI.MODELRUN +m TIMEOUT 5 INPUTS +a +b OUTPUTS !c"},
		{ModelRunKeys, "AI.MODELRUN +m INPUTS +a OUTPUTS !b !c"},
		{ModelRunKeys, "AI.MODELRUN +m inputs +a outputs !b"},
		{ModelRunKeys, "AI.MODELRUN +m INPUTS +a +b OUTPUTS !OUTPUTS !o"},
		{ModelRunKeys, "AI.MODELRUN +m INPUTS +a outputs !Outputs"},
		{ModelRunKeys, "AI.MODELRUN +m INPUTS +a +b"},
		{ModelRunKeys, "AI.MODELRUN +m"},
		{ModelRunKeys, "AI.MODELRUN"},
	}
	for _, c := range cases {
		checkMarkedKeys(t, c.line, c.keys)
	}
}

func TestInfo(t *testing.T) {
	ks, rt := modelFixture(t)
	e := rt.stats.Register(stats.Entry{Key: "m", Backend: "TF", Device: "cpu", Tag: ""})
	us := time.Microsecond
	rt.stats.Record(e, stats.Run{Duration: 12 * us, QueueWait: 7 * us, Samples: 3})
	rt.stats.Record(e, stats.Run{Duration: 30 * us, QueueWait: 40 * us, Samples: 2})
	rt.stats.Record(e, stats.Run{Duration: 99 * us, QueueWait: 99 * us, Samples: 99, Failed: true})
	se := rt.stats.Register(stats.Entry{Key: "sc", IsScript: true, Backend: "TORCH", Device: "GPU:0", Tag: "v2"})
	rt.stats.Record(se, stats.Run{Duration: 5 * us, QueueWait: 3 * us, Samples: 4})
	// AI.INFO reads the counters of the model or script at the key: "gone" is listed, not stored.
	ks.models["m"].exec = &exec.ModelSession{Stats: e}
	ks.scripts["sc"] = &fakeScript{exec: &exec.ScriptSession{Stats: se}}
	rt.stats.Register(stats.Entry{Key: "gone", Backend: "TF", Device: "CPU"})
	// RedisAI's reply; with LATENCY, the percentiles follow. The failed run is in calls and errors
	// only; the median of two runs is the first (nearest rank).
	model := `$"key" $"m" $"type" $"MODEL" $"backend" $"TF" $"device" $"cpu" $"tag" $"" ` +
		`$"duration" :42 $"samples" :5 $"calls" :3 $"errors" :1`
	modelLatency := ` $"duration_p50" :12 $"duration_p99" :30 $"duration_p999" :30 ` +
		`$"queue_wait_p50" :7 $"queue_wait_p99" :40 $"queue_wait_p999" :40`
	script := `$"key" $"sc" $"type" $"SCRIPT" $"backend" $"TORCH" $"device" $"GPU:0" $"tag" $"v2" ` +
		`$"duration" :5 $"samples" :-1 $"calls" :1 $"errors" :0`
	scriptLatency := ` $"duration_p50" :5 $"duration_p99" :5 $"duration_p999" :5 ` +
		`$"queue_wait_p50" :3 $"queue_wait_p99" :3 $"queue_wait_p999" :3`
	zero := `$"key" $"m" $"type" $"MODEL" $"backend" $"TF" $"device" $"cpu" $"tag" $"" ` +
		`$"duration" :0 $"samples" :0 $"calls" :0 $"errors" :0`
	zeroLatency := ` $"duration_p50" :0 $"duration_p99" :0 $"duration_p999" :0 ` +
		`$"queue_wait_p50" :0 $"queue_wait_p99" :0 $"queue_wait_p999" :0`
	const noInfo = "-ERR cannot find run info for key"
	steps := []struct{ line, want string }{
		{"AI.INFO", "-ARITY"},
		{"AI.INFO m RESETSTAT x", "-ARITY"},
		{"AI.INFO nope", noInfo},
		{"AI.INFO nope RESETSTAT", noInfo},
		{"AI.INFO t1", noInfo},
		{"AI.INFO s", noInfo},
		{"AI.INFO gone", noInfo},
		{"AI.INFO gone RESETSTAT", noInfo},
		{"AI.INFO m", "*18 " + model},
		{"AI.INFO m FOO", "*18 " + model},
		{"AI.INFO m LATENCY", "*30 " + model + modelLatency},
		{"AI.INFO m latency", "*30 " + model + modelLatency},
		{"AI.INFO sc", "*18 " + script},
		{"AI.INFO sc LATENCY", "*30 " + script + scriptLatency},
		{"AI.INFO m resetstat", "+OK"},
		{"AI.INFO m", "*18 " + zero},
		{"AI.INFO m LATENCY", "*30 " + zero + zeroLatency},
		{"AI.INFO sc", "*18 " + script},
	}
	before := maps.Clone(ks.models)
	for _, s := range steps {
		if got := runAI(ks, rt, Info, s.line); got != s.want {
			t.Errorf("%s:\n got %s\nwant %s", s.line, got, s.want)
		}
	}
	unchanged(t, "AI.INFO", ks, rt, before)
}

func TestModelScan(t *testing.T) {
	ks, rt := modelFixture(t)
	if got := runAI(ks, rt, ModelScan, "AI._MODELSCAN"); got != "*0" {
		t.Errorf("empty: %s", got)
	}
	rt.stats.Register(stats.Entry{Key: "m", Backend: "TF", Device: "CPU", Tag: "v1"})
	rt.stats.Register(stats.Entry{Key: "sc", IsScript: true, Backend: "TORCH", Device: "CPU", Tag: "x"})
	if got := runAI(ks, rt, ModelScan, "AI._MODELSCAN"); got != `*1 *2 $"m" $"v1"` {
		t.Errorf("one model: %s", got)
	}
	rt.stats.Register(stats.Entry{Key: "m2", Backend: "ONNX", Device: "CPU"})
	got := runAI(ks, rt, ModelScan, "AI._MODELSCAN")
	if got != `*2 *2 $"m" $"v1" *2 $"m2" $""` && got != `*2 *2 $"m2" $"" *2 $"m" $"v1"` {
		t.Errorf("two models: %s", got)
	}
	rt.unreadable = []string{"m2"} // ACL: left out, as a key the user may not read
	if got := runAI(ks, rt, ModelScan, "AI._MODELSCAN"); got != `*1 *2 $"m" $"v1"` {
		t.Errorf("m2 unreadable: %s", got)
	}
	rt.unreadable = []string{"sc"}
	if got := runAI(ks, rt, ScriptScan, "AI._SCRIPTSCAN"); got != "*0" {
		t.Errorf("script unreadable: %s", got)
	}
	if got := runAI(ks, rt, ModelScan, "AI._MODELSCAN x"); got != "-ARITY" {
		t.Errorf("arity: %s", got)
	}
	if ks.replicated != 0 {
		t.Errorf("replicated")
	}
}

// checkKeysMatchCall: the keys ACL and cluster checks see for line are the model and inputs the
// parser read and the outputs it will write, so no name escapes the check (an output named
// OUTPUTS did).
func checkKeysMatchCall(t *testing.T, line, model string, inputs, outputs []string) {
	t.Helper()
	keys := ModelExecuteKeys
	if strings.HasPrefix(line, "AI.MODELRUN") {
		keys = ModelRunKeys
	}
	a := args(line)
	var read, written []string
	for _, k := range keys(a) {
		if k.Use == KeyWrite {
			written = append(written, string(a[k.Pos]))
		} else {
			read = append(read, string(a[k.Pos]))
		}
	}
	if !slices.Equal(read, append([]string{model}, inputs...)) || !slices.Equal(written, outputs) {
		t.Errorf("%s: keys read %q, written %q; the call reads %s %q, writes %q", line, read, written, model, inputs, outputs)
	}
}

// fuzzArgs is the command name followed by the space-separated arguments of line (none if empty).
func fuzzArgs(name, line string) [][]byte {
	a := [][]byte{[]byte(name)}
	if line != "" {
		for _, f := range strings.Split(line, " ") {
			a = append(a, []byte(f))
		}
	}
	return a
}

// checkKeys: every position is an argument after the command name, in increasing order.
// checkMarkedKeys checks the keys found in line, where each key is marked by a leading '+' (read),
// '!' (written) or '^' (routing only).
func checkMarkedKeys(t *testing.T, line string, keys func([][]byte) []KeyArg) {
	t.Helper()
	a := args(line)
	var want []KeyArg
	for i, arg := range a {
		if use := strings.IndexByte("+!^", arg[0]); len(arg) > 1 && use >= 0 {
			want = append(want, KeyArg{i, KeyUse(use)})
			a[i] = arg[1:]
		}
	}
	if got := keys(a); !slices.Equal(got, want) {
		t.Errorf("%s: keys %v, want %v", line, got, want)
	}
}

func checkKeys(t *testing.T, what string, a [][]byte, keys []KeyArg) {
	t.Helper()
	for i, k := range keys {
		if k.Pos < 1 || k.Pos >= len(a) || i > 0 && k.Pos <= keys[i-1].Pos || k.Use < KeyRead || k.Use > KeyRoute {
			t.Fatalf("%s keys %v for %d arguments %q", what, keys, len(a), a)
		}
	}
}

// FuzzModelStoreArgs runs AI.MODELSTORE and AI.MODELSET on "key backend device ..." with a
// runtime that never fails.
func FuzzModelStoreArgs(f *testing.F) {
	for _, s := range []string{
		"", "m TORCH CPU BLOB x", "m TF CPU INPUTS 1 a OUTPUTS 1 b BLOB x y",
		"m ONNX GPU:1 TAG t BATCHSIZE 4 MINBATCHSIZE 2 MINBATCHTIMEOUT 7 BLOB x",
		"m TF CPU TAG t INPUTS a b OUTPUTS c BLOB x", "s TORCH CPU BLOB x", "m TORCH CPU BATCHSIZE",
		"m TF CPU INPUTS 9223372036854775807 a", "m TF CPU INPUTS 1 a OUTPUTS 1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for _, name := range []string{"AI.MODELSTORE", "AI.MODELSET"} {
			h := ModelStore
			if name == "AI.MODELSET" {
				h = ModelSet
			}
			ks, rt := newFakeKeyspace(), newFakeRuntime()
			ks.other["s"] = true
			a := fuzzArgs(name, line)
			var r textReply
			err := call(h, Env{Keys: ks, Out: &r, Runtime: rt}, a)
			if err != nil {
				if len(r.parts) != 0 {
					t.Fatalf("%s %q: error %q after %s", name, line, err, r.String())
				}
				if ks.modelSets != 0 || ks.replicated != 0 {
					t.Fatalf("%s %q: error %q after a write", name, line, err)
				}
				for _, s := range rt.sessions {
					if s.closed != 1 {
						t.Fatalf("%s %q: error %q, session closed %d times", name, line, err, s.closed)
					}
				}
				continue
			}
			if r.String() != "+OK" || len(rt.opened) != 1 || ks.modelSets != 1 || ks.replicated != 1 {
				t.Fatalf("%s %q: reply %s, %d opens, %d sets, %d replications", name, line, r.String(), len(rt.opened), ks.modelSets, ks.replicated)
			}
			meta := rt.opened[0].meta
			if !slices.Contains(backends.Names(), meta.Backend) || meta.BatchSize < 0 || meta.MinBatchSize < 0 || meta.MinBatchTimeout < 0 {
				t.Fatalf("%s %q: meta %+v", name, line, meta)
			}
			if meta.MinBatchSize > 0 && meta.BatchSize == 0 || meta.MinBatchTimeout > 0 && meta.MinBatchSize == 0 {
				t.Fatalf("%s %q: batch options %+v", name, line, meta)
			}
			if meta.Backend == "TF" && (len(meta.Inputs) == 0 || len(meta.Outputs) == 0) ||
				meta.Backend != "TF" && (meta.Inputs != nil || meta.Outputs != nil) {
				t.Fatalf("%s %q: inputs %q outputs %q", name, line, meta.Inputs, meta.Outputs)
			}
			if name == "AI.MODELSTORE" && !validDevice([]byte(meta.Device)) {
				t.Fatalf("%s %q: device %q", name, line, meta.Device)
			}
			// The blob is the arguments after a BLOB, joined.
			found := false
			for i := range a {
				if is(a[i], "BLOB") && i+1 < len(a) && bytes.Equal(bytes.Join(a[i+1:], nil), rt.opened[0].blob) {
					found = true
				}
			}
			if !found {
				t.Fatalf("%s %q: blob %q", name, line, rt.opened[0].blob)
			}
		}
	})
}

// FuzzModelExecuteArgs runs AI.MODELEXECUTE and AI.MODELRUN on "key ..." against the fixture's
// models and tensors, with a runtime that never fails, and checks the key positions.
func FuzzModelExecuteArgs(f *testing.F) {
	for _, s := range []string{
		"", "m", "m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT 5", "m22 INPUTS 2 t1 t1 OUTPUTS 2 o p",
		"m TIMEOUT 5 INPUTS t1 t2 OUTPUTS o", "m1 INPUTS t1 OUTPUTS OUTPUTS", "m INPUTS -1 t1 OUTPUTS 1 o",
		"m9 INPUTS 9 t1 t2 OUTPUTS 1 o", "m INPUTS 2 t1 t2 OUTPUTS 1 o TIMEOUT", "m INPUTS 9223372036854775807 a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		ks, rt := modelFixture(t)
		before := maps.Clone(ks.models)
		for _, name := range []string{"AI.MODELEXECUTE", "AI.MODELRUN"} {
			h, keys := ModelExecute, ModelExecuteKeys
			if name == "AI.MODELRUN" {
				h, keys = ModelRun, ModelRunKeys
			}
			rt.executed = nil
			a := fuzzArgs(name, line)
			positions := keys(a)
			checkKeys(t, name, a, positions)
			var r textReply
			err := call(h, Env{Keys: ks, Out: &r, Runtime: rt}, a)
			if len(r.parts) != 0 {
				t.Fatalf("%s %q: the handler replied %s (error %v)", name, line, r.String(), err)
			}
			if ks.replicated != 0 || ks.modelSets != 0 || ks.deletes != 0 || !reflect.DeepEqual(ks.models, before) {
				t.Fatalf("%s %q: the keyspace changed", name, line)
			}
			if err != nil {
				if len(rt.executed) != 0 {
					t.Fatalf("%s %q: executed, then error %q", name, line, err)
				}
				continue
			}
			if len(rt.executed) != 1 {
				t.Fatalf("%s %q: executed %d times", name, line, len(rt.executed))
			}
			e := rt.executed[0]
			meta := e.model.Meta()
			if len(e.inputs) != len(meta.Inputs) || len(e.outputKeys) != len(meta.Outputs) || e.timeout < 0 {
				t.Fatalf("%s %q: %d inputs, %d outputs, timeout %v for %+v", name, line, len(e.inputs), len(e.outputKeys), e.timeout, meta)
			}
			for _, in := range e.inputPtrs {
				if in.IsZero() {
					t.Fatalf("%s %q: an empty input", name, line)
				}
			}
			if name == "AI.MODELEXECUTE" && len(positions) != 1+len(e.inputs)+len(e.outputKeys) {
				t.Fatalf("%s %q: keys %v for %d inputs and %d outputs", name, line, positions, len(e.inputs), len(e.outputKeys))
			}
		}
	})
}
