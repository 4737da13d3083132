package tests

// RESTORE of model and script payloads in every encoding RedisAI wrote (0-4), built field by field
// after RedisAI's encoders: valid ones must come back as the model or script they describe, and
// hostile ones (a length or count no payload can back) must fail cleanly, leaving the server up.

import (
	"fmt"
	"testing"

	"gorai/tests/resp"
)

// field is one field of a module value: an unsigned number or a string.
type field struct {
	name  string
	isStr bool
	n     uint64
	s     string
}

func uintField(name string, n uint64) field { return field{name: name, n: n} }
func strField(name, s string) field         { return field{name: name, isStr: true, s: s} }
func cstrField(name, s string) field        { return strField(name, s+"\x00") }

// sealFields writes the fields as a DUMP payload of the type and encoding version.
func sealFields(typeName string, encver uint64, fields []field) string {
	p := newPayload(typeName, encver)
	for _, f := range fields {
		if f.isStr {
			p.Str(f.s)
		} else {
			p.Uint(f.n)
		}
	}
	return p.Seal()
}

// modelSpec is what a model payload holds.
type modelSpec struct {
	backend                     uint64 // RedisAI's number: TF 0, TFLITE 1, TORCH 2, ONNX 3
	device, tag                 string
	batch, minBatch, minBatchTO uint64
	inputs, outputs             []string
	blob                        []byte
	chunkSize                   int // 0: one chunk
}

// modelFields lays a model out as RedisAI's encoder of that version did: v0 has the tag as a C
// string and one unchunked blob; v1 the tag as a plain string and the blob as its length, the
// number of chunks and the chunks; v2 adds MINBATCHTIMEOUT; v3 and v4 are v2's layout.
func modelFields(encver int, m modelSpec) []field {
	fs := []field{uintField("backend", m.backend), cstrField("device", m.device)}
	if encver == 0 {
		fs = append(fs, cstrField("tag", m.tag))
	} else {
		fs = append(fs, strField("tag", m.tag))
	}
	fs = append(fs, uintField("batchsize", m.batch), uintField("minbatchsize", m.minBatch))
	if encver >= 2 {
		fs = append(fs, uintField("minbatchtimeout", m.minBatchTO))
	}
	fs = append(fs, uintField("ninputs", uint64(len(m.inputs))))
	for i, name := range m.inputs {
		fs = append(fs, cstrField(fmt.Sprintf("input %d", i), name))
	}
	fs = append(fs, uintField("noutputs", uint64(len(m.outputs))))
	for i, name := range m.outputs {
		fs = append(fs, cstrField(fmt.Sprintf("output %d", i), name))
	}
	if encver == 0 {
		return append(fs, strField("blob", string(m.blob)))
	}
	size := m.chunkSize
	if size == 0 {
		size = len(m.blob) + 1
	}
	n := len(m.blob)/size + 1 // as RedisAI: an exact multiple ends with an empty chunk
	fs = append(fs, uintField("blob length", uint64(len(m.blob))), uintField("chunks", uint64(n)))
	for i := 0; i < n; i++ {
		end := min((i+1)*size, len(m.blob))
		fs = append(fs, strField(fmt.Sprintf("chunk %d", i), string(m.blob[i*size:end])))
	}
	return fs
}

// scriptSpec is what a script payload holds.
type scriptSpec struct {
	device, tag, source string
	entryPoints         []string
}

// scriptFields: device, tag (a C string in v0), source, and from v3 on the entry points.
func scriptFields(encver int, s scriptSpec) []field {
	fs := []field{cstrField("device", s.device)}
	if encver == 0 {
		fs = append(fs, cstrField("tag", s.tag))
	} else {
		fs = append(fs, strField("tag", s.tag))
	}
	fs = append(fs, cstrField("source", s.source))
	if encver >= 3 {
		fs = append(fs, uintField("entry points", uint64(len(s.entryPoints))))
		for i, ep := range s.entryPoints {
			fs = append(fs, cstrField(fmt.Sprintf("entry point %d", i), ep))
		}
	}
	return fs
}

// withHuge replaces field i's number, or the length its string claims, by huge (keeping the
// string's bytes, as a payload cut short would).
func withHuge(typeName string, encver uint64, fields []field, i int, huge uint64) string {
	p := newPayload(typeName, encver)
	for j, f := range fields {
		switch {
		case j == i && f.isStr:
			p.StrWithLength(huge, f.s)
		case j == i:
			p.Uint(huge)
		case f.isStr:
			p.Str(f.s)
		default:
			p.Uint(f.n)
		}
	}
	return p.Seal()
}

const scaleScript = "def scale(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0] * 2\n"

// TestRestoreHugeLengths: every length and count of every model and script encoding set to what no
// payload can back (2^31 to 2^64-1) is refused with Redis' "Bad data format"; the server stays up
// and nothing is written. (Before, a blob length of 2^48 or more made Redis abort, out of memory.)
func TestRestoreHugeLengths(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	model := modelSpec{backend: 3, device: "CPU", tag: "t", inputs: irisInputs, outputs: irisOutputs,
		blob: redisaiFixture(t, "linear_iris.onnx"), chunkSize: 200}
	script := scriptSpec{device: "CPU", tag: "t", source: scaleScript, entryPoints: []string{"scale"}}
	batching := map[string]bool{"batchsize": true, "minbatchsize": true, "minbatchtimeout": true}
	huges := []uint64{1 << 31, 1 << 40, 1 << 48, 1 << 63, 1<<64 - 1}
	check := func(what, payload string) {
		t.Helper()
		got, err := c.Do("RESTORE", "huge", 0, payload)
		if err != nil || !s.Running() {
			t.Fatalf("%s: redis-server died; log:\n%s", what, s.LogTail(30))
		}
		if !resp.Equal(got, resp.Err("ERR Bad data format")) {
			t.Errorf("%s: RESTORE replied %v, want ERR Bad data format", what, got)
		}
		expectPing(t, c)
		expect(t, c, resp.Int(0), "EXISTS", "huge")
	}
	for encver := 0; encver <= 4; encver++ {
		fs := modelFields(encver, model)
		for i, f := range fs {
			if batching[f.name] { // numbers, not lengths: see TestRestoreBatchingRange
				continue
			}
			for _, huge := range huges {
				check(fmt.Sprintf("model v%d %s = %d", encver, f.name, huge), withHuge("AI__MODEL", uint64(encver), fs, i, huge))
			}
		}
		fs = scriptFields(encver, script)
		for i, f := range fs {
			for _, huge := range huges {
				check(fmt.Sprintf("script v%d %s = %d", encver, f.name, huge), withHuge("AI_SCRIPT", uint64(encver), fs, i, huge))
			}
		}
	}
}

// TestRestoreBatchingRange: a model payload whose batching options AI.MODELSTORE would refuse (beyond
// int64, or MINBATCHSIZE / MINBATCHTIMEOUT without what they need) is refused at load, since its AOF
// rewrite, an AI.MODELSTORE, would not replay and the model would be lost at restart; the largest
// values MODELSTORE takes load and survive an AOF rewrite and restart.
func TestRestoreBatchingRange(t *testing.T) {
	t.Parallel()
	s := startServer(t, "appendonly yes", "aof-use-rdb-preamble no")
	c := s.Conn(t)
	specs := map[string]modelSpec{
		"ONNX": {backend: 3, device: "CPU", inputs: irisInputs, outputs: irisOutputs, blob: redisaiFixture(t, "linear_iris.onnx")},
		"TF":   {backend: 0, device: "CPU", inputs: []string{"a", "b"}, outputs: []string{"c"}, blob: redisaiFixture(t, "graph.pb")},
	}
	refused := []struct{ batch, minBatch, minBatchTO uint64 }{
		{1<<64 - 1, 0, 0}, {1 << 63, 0, 0}, {1, 1<<64 - 1, 0}, {1, 1, 1<<64 - 1}, {1, 1, 1 << 63},
		{0, 1, 0}, // MINBATCHSIZE without BATCHSIZE
		{1, 0, 1}, // MINBATCHTIMEOUT without MINBATCHSIZE
	}
	const maxInt64 = 1<<63 - 1
	want := map[string]resp.Value{}
	for backend, spec := range specs {
		for encver := 0; encver <= 4; encver++ {
			for _, r := range refused {
				if encver < 2 && r.minBatchTO != 0 { // no MINBATCHTIMEOUT before v2
					continue
				}
				m := spec
				m.batch, m.minBatch, m.minBatchTO = r.batch, r.minBatch, r.minBatchTO
				payload := sealFields("AI__MODEL", uint64(encver), modelFields(encver, m))
				if !expectErr(t, c, "ERR Bad data format", "RESTORE", "refused", 0, payload) {
					t.Errorf("%s v%d with BATCHSIZE %d MINBATCHSIZE %d MINBATCHTIMEOUT %d was loaded", backend, encver, r.batch, r.minBatch, r.minBatchTO)
				}
				expect(t, c, resp.Int(0), "EXISTS", "refused")
			}
			m := spec
			m.batch, m.minBatch = maxInt64, maxInt64
			if encver >= 2 {
				m.minBatchTO = maxInt64
			}
			key := fmt.Sprintf("%s:v%d", backend, encver)
			expectOK(t, c, "RESTORE", key, 0, sealFields("AI__MODEL", uint64(encver), modelFields(encver, m)))
			want[key] = modelMeta(backend, "CPU", "", maxInt64, maxInt64, int64(m.minBatchTO), m.inputs, m.outputs)
		}
	}
	expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
	waitAOFRewrite(t, c)
	c = restart(t, s)
	for key, meta := range want {
		expect(t, c, meta, "AI.MODELGET", key, "META")
	}
}

// TestRestoreTFWithoutNames: a TF model payload without input or output names is refused at load,
// as AI.MODELSTORE refuses TF without INPUTS and OUTPUTS: the graph could not run, and the AOF
// rewrite's AI.MODELSTORE would not replay.
func TestRestoreTFWithoutNames(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	graph := redisaiFixture(t, "graph.pb")
	for _, names := range [][2][]string{{nil, nil}, {nil, {"c"}}, {{"a", "b"}, nil}} {
		m := modelSpec{backend: 0, device: "CPU", inputs: names[0], outputs: names[1], blob: graph}
		for encver := 0; encver <= 4; encver++ {
			if !expectErr(t, c, "ERR Bad data format", "RESTORE", "tf", 0, sealFields("AI__MODEL", uint64(encver), modelFields(encver, m))) {
				t.Errorf("TF v%d with inputs %q outputs %q was loaded", encver, names[0], names[1])
			}
			expect(t, c, resp.Int(0), "EXISTS", "tf")
		}
	}
}

// TestRestoreEveryEncoding: ONNX, TORCH and TF models in each encoding RedisAI wrote restore with
// their settings, report their inputs and outputs and run. Encodings 0 and 1 held no names for
// ONNX and TORCH (RedisAI read them from the model when loading, as gorai must); TF's are stored.
func TestRestoreEveryEncoding(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	type model struct {
		spec            modelSpec
		backend         string
		wantIn, wantOut []string
		run             func(key string)
	}
	models := []model{{
		spec:    modelSpec{backend: 3, blob: redisaiFixture(t, "linear_iris.onnx"), inputs: irisInputs, outputs: irisOutputs},
		backend: "ONNX", wantIn: irisInputs, wantOut: irisOutputs,
		run: func(key string) {
			expectOK(t, c, "AI.TENSORSET", key+":in", "FLOAT", 1, 4, "VALUES", 5.1, 3.5, 1.4, 0.2)
			expectOK(t, c, execArgs(key, []string{key + ":in"}, []string{key + ":out"})...)
			irisOutput(t, c, key+":out")
		},
	}, {
		spec:    modelSpec{backend: 2, blob: torchTestdata(t, "two_inputs.pt"), inputs: []string{"a", "b"}, outputs: []string{""}},
		backend: "TORCH", wantIn: []string{"a", "b"}, wantOut: []string{""},
		run: func(key string) {
			expectOK(t, c, "AI.TENSORSET", key+":a", "FLOAT", 2, 2, "VALUES", 1, 2, 3, 4)
			expectOK(t, c, "AI.TENSORSET", key+":b", "FLOAT", 2, 2, "VALUES", 0.5, -0.5, 10, 0)
			expectOK(t, c, execArgs(key, []string{key + ":a", key + ":b"}, []string{key + ":out"})...)
			expect(t, c, resp.Arr(b("2"), b("1"), b("23"), b("4")), "AI.TENSORGET", key+":out", "VALUES")
		},
	}, {
		spec:    modelSpec{backend: 0, blob: redisaiFixture(t, "graph.pb"), inputs: []string{"a", "b"}, outputs: []string{"c"}},
		backend: "TF", wantIn: []string{"a", "b"}, wantOut: []string{"c"},
		run: func(key string) { tfRun(t, c, key, key) },
	}}
	for encver := 0; encver <= 4; encver++ {
		for _, m := range models {
			spec := m.spec
			spec.device, spec.tag, spec.batch, spec.minBatch = "CPU", "tag "+m.backend, 4, 1
			if encver >= 2 {
				spec.minBatchTO = 10
			}
			if encver >= 1 {
				spec.chunkSize = 100 // several chunks
			}
			if encver <= 1 && m.backend != "TF" {
				spec.inputs, spec.outputs = nil, nil // RedisAI 1.0 knew no names for them
			}
			key := fmt.Sprintf("%s:v%d", m.backend, encver)
			if !expectOK(t, c, "RESTORE", key, 0, sealFields("AI__MODEL", uint64(encver), modelFields(encver, spec))) {
				continue
			}
			want := modelMeta(m.backend, "CPU", spec.tag, 4, 1, int64(spec.minBatchTO), m.wantIn, m.wantOut)
			expect(t, c, withBlob(want, resp.BulkBytes(m.spec.blob)), "AI.MODELGET", key, "META", "BLOB")
			m.run(key)
		}
	}
}

// TestRestoreScriptEveryEncoding: scripts of each encoding restore and run; before encoding 3 they
// had no entry points and their functions are called positionally (AI.SCRIPTRUN).
func TestRestoreScriptEveryEncoding(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	const legacy = "def twice(x):\n    return x * 2\n"
	for encver := 0; encver <= 4; encver++ {
		key := fmt.Sprintf("s:v%d", encver)
		spec := scriptSpec{device: "CPU", tag: "tag", source: legacy}
		run := []any{"AI.SCRIPTRUN", key, "twice", "INPUTS", "twice:in", "OUTPUTS", "twice:out"}
		if encver >= 3 {
			spec.source, spec.entryPoints = copyScript, []string{"twice"}
			run = []any{"AI.SCRIPTEXECUTE", key, "twice", "INPUTS", 1, "twice:in", "OUTPUTS", 1, "twice:out"}
		}
		if !expectOK(t, c, "RESTORE", key, 0, sealFields("AI_SCRIPT", uint64(encver), scriptFields(encver, spec))) {
			continue
		}
		expect(t, c, scriptFull("CPU", "tag", spec.entryPoints, spec.source), "AI.SCRIPTGET", key, "META", "SOURCE")
		expectOK(t, c, "AI.TENSORSET", "twice:in", "FLOAT", 2, "VALUES", 1, 2)
		expectOK(t, c, run...)
		expect(t, c, floatValues([]int64{2}, 2, 4), "AI.TENSORGET", "twice:out", "META", "VALUES")
	}
}

// TestModelSetDevicesSurviveAOF: AI.MODELSET takes devices AI.MODELSTORE refuses (as RedisAI's did),
// so the AOF rewrite writes such a model back as AI.MODELSET, and it is there after a restart.
// RESTORE takes such a device only where MODELSET could say it, and refuses a device whose NUL
// terminator is damaged or missing.
func TestModelSetDevicesSurviveAOF(t *testing.T) {
	t.Parallel()
	s := startServer(t, "appendonly yes", "aof-use-rdb-preamble no")
	c := s.Conn(t)
	iris, graph := redisaiFixture(t, "linear_iris.onnx"), redisaiFixture(t, "graph.pb")
	want := map[string]resp.Value{}
	for _, device := range []string{"cpu:x", "CPU:", "cpuxyz", "CPU:1x", "cpu"} {
		key := "set:" + device
		if expectOK(t, c, "AI.MODELSET", key, "ONNX", device, "TAG", "t", "BLOB", iris) {
			want[key] = modelMeta("ONNX", device, "t", 0, 0, 0, irisInputs, irisOutputs)
		}
	}
	if expectOK(t, c, "AI.MODELSET", "set:tf", "TF", "cpuxyz", "BATCHSIZE", 2, "INPUTS", "a", "b", "OUTPUTS", "c", "BLOB", graph) {
		want["set:tf"] = modelMeta("TF", "cpuxyz", "", 2, 0, 0, []string{"a", "b"}, []string{"c"})
	}
	tf := modelSpec{backend: 0, device: "cpuxyz", inputs: []string{"a", "b"}, outputs: []string{"c"}, blob: graph}
	if expectOK(t, c, "RESTORE", "restored:tf", 0, sealFields("AI__MODEL", 4, modelFields(4, tf))) {
		want["restored:tf"] = modelMeta("TF", "cpuxyz", "", 0, 0, 0, tf.inputs, tf.outputs)
	}
	refused := map[string][]field{
		"device longer than MODELSET takes": modelFields(4, modelSpec{backend: 3, device: "cpuxyz12345", blob: iris}),
		"device named like a keyword":       modelFields(4, modelSpec{backend: 3, device: "BLOB", blob: iris}),
	}
	for name, nul := range map[string]string{"device without its NUL": "CPU@", "device with a NUL inside": "C\x00U\x00"} {
		fs := modelFields(4, modelSpec{backend: 3, device: "CPU", blob: iris})
		fs[1] = strField("device", nul)
		refused[name] = fs
	}
	for name, fs := range refused {
		if !expectErr(t, c, "ERR Bad data format", "RESTORE", "refused", 0, sealFields("AI__MODEL", 4, fs)) {
			t.Errorf("%s: loaded", name)
		}
		expect(t, c, resp.Int(0), "EXISTS", "refused")
	}
	expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
	waitAOFRewrite(t, c)
	c = restart(t, s)
	for key, meta := range want {
		expect(t, c, meta, "AI.MODELGET", key, "META")
	}
}
