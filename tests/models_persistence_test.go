package tests

// Models across BGSAVE/restart, AOF rewrite/restart, DEBUG RELOAD,
// DUMP/RESTORE and replication.

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/resp"
)

// storedModel is a model we stored, with what is needed to check it and run it.
type storedModel struct {
	key, device, tag            string
	batch, minBatch, minBatchTO int64
	blob                        []byte
	inputs, outputs             []string // the names MODELGET META reports
	runInput                    []any    // TENSORSET args after the key
	checkOutput                 func(t *testing.T, c *resp.Conn, key string) bool
}

func (m storedModel) meta() resp.Value {
	return modelMeta("ONNX", m.device, m.tag, m.batch, m.minBatch, m.minBatchTO, m.inputs, m.outputs)
}

func (m storedModel) store(t *testing.T, c *resp.Conn) {
	t.Helper()
	opts := []any{}
	if m.tag != "" {
		opts = append(opts, "TAG", m.tag)
	}
	if m.batch > 0 {
		opts = append(opts, "BATCHSIZE", m.batch)
		if m.minBatch > 0 {
			opts = append(opts, "MINBATCHSIZE", m.minBatch)
			if m.minBatchTO > 0 {
				opts = append(opts, "MINBATCHTIMEOUT", m.minBatchTO)
			}
		}
	}
	if !expectOK(t, c, storeArgs(m.key, "ONNX", m.device, m.blob, opts...)...) {
		t.FailNow()
	}
}

// check compares MODELGET (META and BLOB) with what was stored.
func (m storedModel) check(t *testing.T, c *resp.Conn, context string) bool {
	t.Helper()
	want := withBlob(m.meta(), resp.BulkBytes(m.blob))
	got := do(t, c, "AI.MODELGET", m.key, "META", "BLOB")
	if !resp.Equal(got, want) {
		t.Errorf("%s: AI.MODELGET %q META BLOB\n   got: %v\n  want: %v", context, m.key, got, want)
		return false
	}
	return true
}

// run runs the model on its input and checks the output.
func (m storedModel) run(t *testing.T, c *resp.Conn, context string) bool {
	t.Helper()
	in, out := m.key+":in", m.key+":out"
	if !expectOK(t, c, append([]any{"AI.TENSORSET", in}, m.runInput...)...) {
		return false
	}
	if !expectOK(t, c, execArgs(m.key, []string{in}, []string{out})...) {
		t.Errorf("%s: running %q failed", context, m.key)
		return false
	}
	return m.checkOutput(t, c, out)
}

func irisOutput(t *testing.T, c *resp.Conn, key string) bool {
	t.Helper()
	b := resp.BulkString
	return expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1, 1), b("values"), resp.BulkStrings("-0.090524077415466309")),
		"AI.TENSORGET", key, "META", "VALUES")
}

// persistenceModels: mnist with every option set, iris with none, and a
// binary key on another device string.
func persistenceModels(t *testing.T) []storedModel {
	mnist := redisaiFixture(t, "mnist.onnx")
	iris := redisaiFixture(t, "linear_iris.onnx")
	in := mnistInput(t)
	mnistRun := []any{"FLOAT", "1", "1", "28", "28", "BLOB", in}
	irisRun := []any{"FLOAT", "1", "4", "VALUES", "5.1", "3.5", "1.4", "0.2"}
	return []storedModel{
		{key: "p:mnist", device: "CPU", tag: "tag one", batch: 4, minBatch: 2, minBatchTO: 10, blob: mnist,
			inputs: mnistInputs, outputs: mnistOutputs, runInput: mnistRun, checkOutput: checkMnistOutput},
		{key: "p:iris", device: "CPU", blob: iris, inputs: irisInputs, outputs: irisOutputs, runInput: irisRun, checkOutput: irisOutput},
		{key: "p:bin\x00key\xff", device: "cpu:1", tag: "t\x00g", blob: mnist,
			inputs: mnistInputs, outputs: mnistOutputs, runInput: mnistRun, checkOutput: checkMnistOutput},
	}
}

func storeAndRun(t *testing.T, c *resp.Conn, ms []storedModel) {
	t.Helper()
	for _, m := range ms {
		m.store(t, c)
		m.run(t, c, "before")
	}
}

// checkModels checks each model's META and BLOB, that its AI.INFO exists and
// is fresh (statistics are not persisted), and that it runs.
func checkModels(t *testing.T, c *resp.Conn, ms []storedModel, context string) {
	t.Helper()
	for _, m := range ms {
		m.check(t, c, context)
		expect(t, c, resp.Simple("AI__MODEL"), "TYPE", m.key)
		if !expectRunInfo(t, c, runInfo(m.key, "ONNX", m.device, m.tag, 0, 0, 0, 0), m.key) {
			t.Errorf("%s: AI.INFO %q is not a fresh entry", context, m.key)
		}
		m.run(t, c, context)
	}
	// _MODELSCAN knows them all
	v := do(t, c, "AI._MODELSCAN")
	seen := map[string]string{}
	for _, e := range v.Elems {
		if len(e.Elems) == 2 {
			seen[e.Elems[0].Text()] = e.Elems[1].Text()
		}
	}
	for _, m := range ms {
		if tag, ok := seen[m.key]; !ok || tag != m.tag {
			t.Errorf("%s: AI._MODELSCAN %v lacks [%q, %q]", context, v, m.key, m.tag)
		}
	}
}

// TestModelPersistenceBGSAVE: models survive BGSAVE + restart (also with a
// small MODEL_CHUNK_SIZE, which chunks the RDB encoding).
func TestModelPersistenceBGSAVE(t *testing.T) {
	t.Parallel()
	ms := persistenceModels(t)
	for _, chunk := range []int{defaultChunkSize, 10000} {
		t.Run("MODEL_CHUNK_SIZE="+strconv.Itoa(chunk), func(t *testing.T) {
			s := startServer(t)
			c := s.Conn(t)
			expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", chunk)
			storeAndRun(t, c, ms)
			expect(t, c, resp.Simple("Background saving started"), "BGSAVE")
			waitBgsave(t, c)
			expectOK(t, c, storeArgs("after-save", "ONNX", "CPU", ms[0].blob)...)
			c = restart(t, s)
			expect(t, c, resp.Int(0), "EXISTS", "after-save")
			expectErr(t, c, errNoRunInfo, "AI.INFO", "after-save")
			checkModels(t, c, ms, "after BGSAVE + restart")
			// outputs written by MODELEXECUTE before the save are tensors in the RDB
			for _, m := range ms {
				expect(t, c, resp.Simple("AI_TENSOR"), "TYPE", m.key+":out")
			}
			// a second generation, saved by the reloaded server
			expectOK(t, c, "SAVE")
			c = restart(t, s)
			checkModels(t, c, ms, "after SAVE of the reloaded data + restart")
		})
	}
}

// TestModelPersistenceAOF: appendonly + BGREWRITEAOF + restart. Without the
// RDB preamble the rewritten AOF holds AI.MODELSTORE <key> ONNX <device> TAG
// <tag> BATCHSIZE <n> MINBATCHSIZE <m> MINBATCHTIMEOUT <t> BLOB <bytes>; in
// the incremental AOF a MODELEXECUTE appears only as AI.TENSORSET of its outputs.
func TestModelPersistenceAOF(t *testing.T) {
	t.Parallel()
	ms := persistenceModels(t)
	for _, preamble := range []string{"no", "yes"} {
		t.Run("aof-use-rdb-preamble="+preamble, func(t *testing.T) {
			s := startServer(t, "appendonly yes", "appendfsync always", "aof-use-rdb-preamble "+preamble)
			c := s.Conn(t)
			storeAndRun(t, c, ms)
			// a model stored then deleted before the rewrite is not in it
			expectOK(t, c, storeArgs("gone", "ONNX", "CPU", ms[1].blob)...)
			expectOK(t, c, "AI.MODELDEL", "gone")
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)

			if preamble == "no" {
				byKey := map[string][]string{}
				for _, cmd := range baseAOF(t, s) {
					if len(cmd) > 1 && strings.EqualFold(cmd[0], "AI.MODELSTORE") {
						if _, dup := byKey[cmd[1]]; dup {
							t.Errorf("base AOF has two AI.MODELSTORE for %q", cmd[1])
						}
						byKey[cmd[1]] = cmd
					}
				}
				if len(byKey) != len(ms) {
					t.Errorf("base AOF has AI.MODELSTORE for %d keys, want %d", len(byKey), len(ms))
				}
				for _, m := range ms {
					want := []string{"AI.MODELSTORE", m.key, "ONNX", m.device, "TAG", m.tag,
						"BATCHSIZE", strconv.FormatInt(m.batch, 10), "MINBATCHSIZE", strconv.FormatInt(m.minBatch, 10),
						"MINBATCHTIMEOUT", strconv.FormatInt(m.minBatchTO, 10), "BLOB", string(m.blob)}
					got := byKey[m.key]
					if got == nil {
						t.Errorf("base AOF has no AI.MODELSTORE for %q", m.key)
						continue
					}
					got = append([]string{strings.ToUpper(got[0])}, got[1:]...)
					if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
						t.Errorf("base AOF command for %q:\n   got: %s\n  want: %s", m.key, fmtStrings(got), fmtStrings(want))
					}
				}
			}

			// after the rewrite: a new model, an overwrite, a delete and a run
			extra := ms[1]
			extra.key = "p:extra"
			extra.tag = "x"
			extra.store(t, c)
			over := ms[0]
			over.tag = "overwritten"
			over.batch, over.minBatch, over.minBatchTO = 0, 0, 0
			over.store(t, c)
			expectOK(t, c, "AI.MODELDEL", ms[2].key)
			expectOK(t, c, "AI.TENSORSET", "incr:in", "FLOAT", "1", "4", "VALUES", "5.1", "3.5", "1.4", "0.2")
			expectOK(t, c, execArgs(extra.key, []string{"incr:in"}, []string{"incr:out"})...)

			// the incremental AOF: MODELSTORE and MODELDEL verbatim, the run as AI.TENSORSET
			incrs, _ := filepath.Glob(filepath.Join(s.Dir(), "appendonlydir", "*.incr.aof"))
			var incr [][]string
			for _, p := range incrs {
				incr = append(incr, parseAOF(t, p)...)
			}
			var sawSet, sawStore, sawDel bool
			for _, cmd := range incr {
				name := strings.ToUpper(cmd[0])
				switch {
				case name == "AI.MODELEXECUTE" || name == "AI.MODELRUN":
					t.Errorf("incremental AOF holds %s (outputs must be written as AI.TENSORSET)", fmtStrings(cmd))
				case name == "AI.TENSORSET" && len(cmd) > 1 && cmd[1] == "incr:out":
					sawSet = true
					want := []string{"AI.TENSORSET", "incr:out", "FLOAT", "1", "1", "BLOB", string(f32s(-0.090524077415466309))}
					if strings.Join(append([]string{name}, cmd[1:]...), "\x01") != strings.Join(want, "\x01") {
						t.Errorf("incremental AOF: %s, want %s", fmtStrings(cmd), fmtStrings(want))
					}
				case name == "AI.MODELSTORE" && len(cmd) > 1 && cmd[1] == extra.key:
					sawStore = true
				case name == "AI.MODELDEL" && len(cmd) > 1 && cmd[1] == ms[2].key:
					sawDel = true
				}
			}
			if !sawSet || !sawStore || !sawDel {
				t.Errorf("incremental AOF: AI.TENSORSET incr:out %v, AI.MODELSTORE %s %v, AI.MODELDEL %v", sawSet, extra.key, sawStore, sawDel)
			}

			want := []storedModel{over, ms[1], extra}
			c = restart(t, s)
			checkModels(t, c, want, "after AOF rewrite + restart")
			expect(t, c, resp.Int(0), "EXISTS", ms[2].key)
			expect(t, c, resp.Int(0), "EXISTS", "gone")
			irisOutput(t, c, "incr:out")

			// rewrite the reloaded data with a small chunk size: the BLOB comes in
			// several arguments that add up to the model
			expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", "10000")
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			if preamble == "no" {
				for _, cmd := range baseAOF(t, s) {
					if len(cmd) < 2 || !strings.EqualFold(cmd[0], "AI.MODELSTORE") || cmd[1] != over.key {
						continue
					}
					i := 0
					for i < len(cmd) && cmd[i] != "BLOB" {
						i++
					}
					chunks := cmd[i+1:]
					if joined := strings.Join(chunks, ""); joined != string(over.blob) || len(chunks) < 3 {
						t.Errorf("chunked AI.MODELSTORE in the AOF: %d chunks of %d bytes in all, want >= 3 chunks adding up to the %d-byte model", len(chunks), len(joined), len(over.blob))
					}
				}
			}
			c = restart(t, s)
			checkModels(t, c, want, "after a second (chunked) AOF rewrite + restart")
		})
	}
}

// TestModelDebugReload: DEBUG RELOAD keeps models, with fresh statistics.
func TestModelDebugReload(t *testing.T) {
	t.Parallel()
	ms := persistenceModels(t)
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	storeAndRun(t, c, ms)
	expectOK(t, c, "DEBUG", "RELOAD")
	checkModels(t, c, ms, "after DEBUG RELOAD")
	expectOK(t, c, "DEBUG", "RELOAD")
	checkModels(t, c, ms, "after a second DEBUG RELOAD")
	expect(t, c, resp.Int(int64(3*len(ms))), "DBSIZE") // models, their inputs and outputs
}

// TestModelDumpRestore: DUMP/RESTORE of models, under new names, with REPLACE.
func TestModelDumpRestore(t *testing.T) {
	t.Parallel()
	ms := persistenceModels(t)
	s := startServer(t)
	c := s.Conn(t)
	storeAndRun(t, c, ms)
	for _, m := range ms {
		d := do(t, c, "DUMP", m.key)
		if d.Kind != resp.Bulk || d.Nil || len(d.Str) < 11 { // RDB strings may be LZF-compressed
			t.Errorf("DUMP %q: %v", m.key, d)
			continue
		}
		cp := m
		cp.key = m.key + ":restored"
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str)
		cp.check(t, c, "RESTORE of DUMP")
		expectRunInfo(t, c, runInfo(cp.key, "ONNX", cp.device, cp.tag, 0, 0, 0, 0), cp.key)
		cp.run(t, c, "restored model")
		expectErrPrefix(t, c, "BUSYKEY", "RESTORE", cp.key, "0", d.Str)
		// REPLACE over another model (its statistics go) and over a string
		other := ms[1]
		other.key = cp.key
		if !bytes.Equal(m.blob, other.blob) {
			expectOK(t, c, storeArgs(cp.key, "ONNX", "CPU", other.blob)...)
			expectOK(t, c, "RESTORE", cp.key, "0", d.Str, "REPLACE")
			cp.check(t, c, "RESTORE REPLACE over a model")
			expectRunInfo(t, c, runInfo(cp.key, "ONNX", cp.device, cp.tag, 0, 0, 0, 0), cp.key)
		}
		expect(t, c, resp.Int(1), "DEL", cp.key)
		expectErr(t, c, errNoRunInfo, "AI.INFO", cp.key)
		expectOK(t, c, "SET", cp.key, "string")
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str, "REPLACE")
		cp.check(t, c, "RESTORE REPLACE over a string")
		cp.run(t, c, "model restored over a string")
		// the source is untouched
		m.check(t, c, "DUMP source")
	}
	// a corrupted payload is refused
	d := do(t, c, "DUMP", ms[1].key)
	bad := append([]byte(nil), d.Str...)
	bad[len(bad)/2] ^= 0xff
	expectErrPrefix(t, c, "ERR ", "RESTORE", "corrupt", "0", bad)
	expect(t, c, resp.Int(0), "EXISTS", "corrupt")
}

// TestModelReplication: a replica gets the models (stored before and after it
// connected) and can run them itself with replica-read-only no; a MODELEXECUTE
// on the master reaches the replica as its output tensors (AI.TENSORSET), not
// as a run: the replica's AI.INFO does not count it.
func TestModelReplication(t *testing.T) {
	t.Parallel()
	ms := persistenceModels(t)
	m := startServer(t)
	mc := m.Conn(t)
	storeAndRun(t, mc, ms[:2])

	r := startServer(t, "replicaof 127.0.0.1 "+strconv.Itoa(m.Port()), "replica-read-only no")
	rc := r.Conn(t)
	waitFor(t, 60*time.Second, "replica link up", func() (bool, string) {
		ri := info(t, rc, "replication")
		return ri["master_link_status"] == "up" && ri["master_sync_in_progress"] == "0",
			"master_link_status=" + ri["master_link_status"] + " sync_in_progress=" + ri["master_sync_in_progress"]
	})
	// after the link is up: a new model, a run on the master, an overwrite and a delete
	ms[2].store(t, mc)
	expectOK(t, mc, storeArgs("r:deleted", "ONNX", "CPU", ms[1].blob)...)
	expectOK(t, mc, "AI.MODELDEL", "r:deleted")
	for _, mm := range ms {
		mm.run(t, mc, "on the master")
	}
	over := ms[1]
	over.tag = "new tag"
	over.store(t, mc)
	waitSynced := func() {
		t.Helper()
		waitFor(t, 60*time.Second, "replica offset to reach the master's", func() (bool, string) {
			mo := info(t, mc, "replication")["master_repl_offset"]
			ro := info(t, rc, "replication")["slave_repl_offset"]
			return mo != "" && mo == ro, "master_repl_offset=" + mo + " slave_repl_offset=" + ro
		})
	}
	waitSynced()

	want := []storedModel{ms[0], over, ms[2]}
	for _, mm := range want {
		mm.check(t, rc, "on the replica")
		// the replica holds the master's outputs, byte for byte
		for _, k := range []string{mm.key + ":in", mm.key + ":out"} {
			expect(t, rc, do(t, mc, "AI.TENSORGET", k, "META", "BLOB"), "AI.TENSORGET", k, "META", "BLOB")
		}
		// ...which it did not compute: its statistics count no run
		expectRunInfo(t, rc, runInfo(mm.key, "ONNX", mm.device, mm.tag, 0, 0, 0, 0), mm.key)
	}
	expect(t, rc, resp.Int(0), "EXISTS", "r:deleted")
	expect(t, rc, do(t, mc, "DBSIZE"), "DBSIZE")

	// the replica runs its copies itself (replica-read-only no)
	for _, mm := range want {
		in, out := "local:"+mm.key+":in", "local:"+mm.key+":out"
		expectOK(t, rc, append([]any{"AI.TENSORSET", in}, mm.runInput...)...)
		expectOK(t, rc, execArgs(mm.key, []string{in}, []string{out})...)
		mm.checkOutput(t, rc, out)
		expectRunInfo(t, rc, runInfo(mm.key, "ONNX", mm.device, mm.tag, -1, 1, 1, 0), mm.key)
	}

	// MODELDEL on the master reaches the replica
	expectOK(t, mc, "AI.MODELDEL", ms[0].key)
	waitSynced()
	expectErr(t, rc, errModelEmpty, "AI.MODELGET", ms[0].key, "META")
	expectErr(t, rc, errNoRunInfo, "AI.INFO", ms[0].key)

	// a read-only replica refuses MODELEXECUTE (a write command) but serves MODELGET
	expectOK(t, rc, "CONFIG", "SET", "replica-read-only", "yes")
	expectErrPrefix(t, rc, "READONLY ", execArgs(ms[1].key, []string{"local:" + ms[1].key + ":in"}, []string{"x"})...)
	expectErrPrefix(t, rc, "READONLY ", storeArgs("x", "ONNX", "CPU", ms[1].blob)...)
	over.check(t, rc, "read-only replica")
}
