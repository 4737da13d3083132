package tests

// TestCorruptPayloads: damaged DUMP payloads of tensors, models and scripts, fed to RESTORE on a live server.
// None may crash it, and every payload the module accepts must come back the same from every way out: its GET
// command, DUMP/RESTORE (the same DUMP bytes), COPY, DEBUG RELOAD, and an AOF rewrite without RDB preamble
// followed by a restart. Counts (corruptKinds) and seed come from the environment; `make corrupt` runs
// many more.

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// corruptServerConfig: the AOF without preamble holds only the AI.* commands of the aof_rewrite callbacks;
// Redis' memory test after a crash would sit on the Go runtime's threads instead of exiting.
var corruptServerConfig = []string{
	"enable-debug-command yes", "appendonly yes", "appendfsync no", "aof-use-rdb-preamble no",
	"crash-memcheck-enabled no",
}

// corruptKind is one module type under test.
type corruptKind struct {
	name  string
	count int // payloads to try
	batch int // payloads per pipelined RESTORE
	// get is the command whose reply must not change, e.g. AI.TENSORGET key META BLOB.
	get func(key string) []any
	// seeds stores valid values on the server and returns their DUMPs.
	seeds func(t *testing.T, c *resp.Conn) [][]byte
}

func corruptKinds() []corruptKind {
	return []corruptKind{
		{name: "tensor", count: envInt("GORAI_CORRUPT_TENSORS", 3000), batch: 500,
			get:   func(k string) []any { return []any{"AI.TENSORGET", k, "META", "BLOB"} },
			seeds: tensorSeeds},
		{name: "model", count: envInt("GORAI_CORRUPT_MODELS", 200), batch: 20,
			get: func(k string) []any { return []any{"AI.MODELGET", k, "META", "BLOB"} }, seeds: modelSeeds},
		{name: "script", count: envInt("GORAI_CORRUPT_SCRIPTS", 100), batch: 20,
			get: func(k string) []any { return []any{"AI.SCRIPTGET", k, "META", "SOURCE"} }, seeds: scriptSeeds},
	}
}

// envInt is the integer in the environment variable name, or def.
func envInt(name string, def int64) int {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil {
		return int(v)
	}
	return int(def)
}

// dumpOf DUMPs each key and deletes it, so that only restored payloads stay on the server.
func dumpOf(t *testing.T, c *resp.Conn, keys ...string) [][]byte {
	t.Helper()
	var dumps [][]byte
	for _, k := range keys {
		d := do(t, c, "DUMP", k)
		if d.Kind != resp.Bulk || d.Nil {
			t.Fatalf("DUMP %q: %v", k, d)
		}
		dumps = append(dumps, d.Str)
		expect(t, c, resp.Int(1), "DEL", k)
	}
	return dumps
}

// tensorSeeds: every dtype as a scalar, a vector and a 3-d tensor; STRING with empty elements; a zero tensor
// Redis stores LZF-compressed; and RedisAI's older encodings.
func tensorSeeds(t *testing.T, c *resp.Conn) [][]byte {
	rng := rand.New(rand.NewSource(1))
	var keys []string
	for _, d := range allDtypes {
		for i, dims := range [][]int64{{}, {3}, {2, 1, 3}} {
			tn := tensor{key: fmt.Sprintf("seed:%s:%d", d.name, i), dtype: d, dims: dims, blob: randomBlob(rng, d, prod(dims))}
			expectOK(t, c, tn.setArgs()...)
			keys = append(keys, tn.key)
		}
	}
	expectOK(t, c, "AI.TENSORSET", "seed:strings", "STRING", 4, "BLOB", "\x00a\x00\x00bc\x00")
	expectOK(t, c, "AI.TENSORSET", "seed:zeros", "FLOAT", 8, 8)
	dumps := dumpOf(t, c, append(keys, "seed:strings", "seed:zeros")...)
	for encver := uint64(0); encver < 4; encver++ {
		dumps = append(dumps, []byte(int8OldLayout(encver, []int64{2, 3}, "\x01\x02\x03\x04\x05\x06")))
	}
	return dumps
}

// modelSeeds: one model of each backend, with and without TAG and batching, and mnist saved in chunks.
func modelSeeds(t *testing.T, c *resp.Conn) [][]byte {
	expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", 8192)
	expectOK(t, c, storeArgs("seed:mnist", "ONNX", "CPU", redisaiFixture(t, "mnist.onnx"))...)
	// DUMPed in chunks; it restores under any chunk size.
	dumps := dumpOf(t, c, "seed:mnist")
	expectOK(t, c, "AI.CONFIG", "MODEL_CHUNK_SIZE", defaultChunkSize)
	iris := redisaiFixture(t, "linear_iris.onnx")
	expectOK(t, c, storeArgs("seed:iris", "ONNX", "CPU", iris)...)
	expectOK(t, c, storeArgs("seed:iris:tagged", "ONNX", "CPU", iris, "TAG", "v1", "BATCHSIZE", 4, "MINBATCHSIZE", 2,
		"MINBATCHTIMEOUT", 10)...)
	expectOK(t, c, storeArgs("seed:torch", "TORCH", "CPU", torchTestdata(t, "linear.pt"), "TAG", "lin")...)
	expectOK(t, c, storeArgs("seed:tf", "TF", "CPU", redisaiFixture(t, "graph.pb"), "INPUTS", 2, "a", "b", "OUTPUTS", 1, "c")...)
	dense, _ := tfliteTestdata(t, "dense.tflite")
	expectOK(t, c, storeArgs("seed:tflite", "TFLITE", "CPU", dense)...)
	return append(dumps, dumpOf(t, c, "seed:iris", "seed:iris:tagged", "seed:torch", "seed:tf", "seed:tflite")...)
}

// scriptSeeds: a script with entry points and a tag, and one stored with the deprecated SCRIPTSET (none).
func scriptSeeds(t *testing.T, c *resp.Conn) [][]byte {
	src := "def f(tensors: List[Tensor], keys: List[str], args: List[str]):\n    return tensors[0]\n"
	expectOK(t, c, scriptStoreArgs("seed:eps", "CPU", "t", []string{"f"}, src)...)
	expectOK(t, c, "AI.SCRIPTSET", "seed:legacy", "CPU", "SOURCE", "def g(a):\n    return a + 1\n")
	return dumpOf(t, c, "seed:eps", "seed:legacy")
}

// corruptRun feeds one server and remembers what it accepted.
type corruptRun struct {
	t    *testing.T
	s    *redistest.Server
	c    *resp.Conn
	rng  *rand.Rand
	seed int64
	// kept holds every key that must survive, with the kind it belongs to.
	kept map[string]*corruptKind
}

func TestCorruptPayloads(t *testing.T) {
	t.Parallel()
	seed := int64(envInt("GORAI_CORRUPT_SEED", time.Now().UnixNano()))
	t.Logf("GORAI_CORRUPT_SEED=%d", seed)
	s := startServer(t, corruptServerConfig...)
	run := &corruptRun{t: t, s: s, c: s.Conn(t), rng: rand.New(rand.NewSource(seed)), seed: seed,
		kept: map[string]*corruptKind{}}
	kinds := corruptKinds()
	for i := range kinds {
		run.feed(&kinds[i])
	}
	before := run.snapshot()
	expectOK(t, run.c, "DEBUG", "RELOAD")
	run.compare(before, "DEBUG RELOAD")
	expect(t, run.c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
	waitAOFRewrite(t, run.c)
	run.c = restart(t, s)
	run.compare(before, "AOF rewrite without preamble + restart")
	expect(t, run.c, resp.Int(int64(len(before))), "DBSIZE")
}

// feed restores k.count damaged payloads in batches, checking after each that the server lives and that what
// it accepted reads back, DUMPs and restores the same, and copies.
func (r *corruptRun) feed(k *corruptKind) {
	t := r.t
	if k.count == 0 {
		return
	}
	var seeds []dumpSeed
	for _, d := range k.seeds(t, r.c) {
		s, err := newDumpSeed(d)
		if err != nil {
			t.Fatalf("%s seed %x does not parse: %v", k.name, d, err)
		}
		seeds = append(seeds, s)
	}
	started, accepted, refusals := time.Now(), 0, map[string]int{}
	for first := 0; first < k.count; first += k.batch {
		var payloads [][]byte
		var whats []string
		var cmds [][]any
		for i := first; i < min(first+k.batch, k.count); i++ {
			p, what := seeds[r.rng.Intn(len(seeds))].mutate(r.rng)
			payloads, whats = append(payloads, p), append(whats, what)
			cmds = append(cmds, []any{"RESTORE", fmt.Sprintf("%s:%d", k.name, i), 0, p})
		}
		replies, err := r.c.Pipeline(cmds...)
		if err != nil || !r.s.Running() {
			r.crashed(k, payloads, whats, err)
		}
		var keys []string
		for i, v := range replies {
			switch {
			case resp.Equal(v, resp.Simple("OK")):
				keys = append(keys, cmds[i][1].(string))
			case v.IsError():
				refusals[v.Text()]++
			default:
				t.Fatalf("seed %d: RESTORE of %s payload (%s): %v", r.seed, k.name, whats[i], v)
			}
		}
		accepted += len(keys)
		r.checkWaysOut(k, keys)
		expectPing(t, r.c)
	}
	t.Logf("%s: %d payloads from %d seeds, %d accepted, refused %v, in %v", k.name, k.count, len(seeds), accepted,
		refusals, time.Since(started).Round(time.Millisecond))
}

// crashed finds which payload of a batch brought the server down, on a fresh server, and fails with it.
func (r *corruptRun) crashed(k *corruptKind, payloads [][]byte, whats []string, ioErr error) {
	t := r.t
	t.Errorf("seed %d: the server died during a batch of %d %s payloads (%v)", r.seed, len(payloads), k.name, ioErr)
	fresh := redistest.Start(t, redistest.Options{Config: corruptServerConfig})
	c := fresh.Conn(t)
	k.seeds(t, c) // loads the backends, as the batch had
	for i, p := range payloads {
		if _, err := c.Do("RESTORE", "crasher", 0, p, "REPLACE"); err != nil || !fresh.Running() {
			t.Fatalf("seed %d: RESTORE of this %s payload (%s) kills the server; %s", r.seed, k.name, whats[i], savePayload(p))
		}
	}
	t.Fatalf("seed %d: no payload of the batch alone kills a fresh server", r.seed)
}

// savePayload keeps a payload past the test, for replaying it by hand, and says where.
func savePayload(p []byte) string {
	f, err := os.CreateTemp("", "gorai-crash-*.dump")
	if err != nil {
		return fmt.Sprintf("not saved: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(p); err != nil {
		return fmt.Sprintf("not saved: %v", err)
	}
	return "saved in " + f.Name()
}

// checkWaysOut checks keys just restored: their GET works, their DUMP restores to a value with the same GET
// reply and the same DUMP, and COPY (where the type has it) gives the same GET reply.
func (r *corruptRun) checkWaysOut(k *corruptKind, keys []string) {
	t := r.t
	var cmds [][]any
	for _, key := range keys {
		cmds = append(cmds, k.get(key), []any{"DUMP", key})
	}
	first := r.pipeline(cmds)
	cmds = cmds[:0]
	for i, key := range keys {
		r.kept[key] = k
		cmds = append(cmds, []any{"RESTORE", key + ":dump", 0, first[2*i+1].Str}, k.get(key+":dump"),
			[]any{"DUMP", key + ":dump"})
		cmds = append(cmds, []any{"COPY", key, key + ":copy"}, k.get(key+":copy"))
		r.kept[key+":dump"], r.kept[key+":copy"] = k, k
	}
	second := r.pipeline(cmds)
	for i, key := range keys {
		got, dump := first[2*i], first[2*i+1]
		if got.IsError() || dump.Kind != resp.Bulk || dump.Nil {
			t.Errorf("seed %d: %s %q was restored, then %v gives %v and DUMP %v", r.seed, k.name, key, k.get(key), got, dump)
			continue
		}
		again := second[i*5 : (i+1)*5]
		if !resp.Equal(again[0], resp.Simple("OK")) || !resp.Equal(again[1], got) || !bytes.Equal(again[2].Str, dump.Str) {
			t.Errorf("seed %d: %s %q does not survive DUMP/RESTORE: %v, %v (was %v), same DUMP %v",
				r.seed, k.name, key, again[0], again[1], got, bytes.Equal(again[2].Str, dump.Str))
		}
		if !resp.Equal(again[3], resp.Int(1)) || !resp.Equal(again[4], got) {
			t.Errorf("seed %d: %s %q does not survive COPY: %v, %v (was %v)", r.seed, k.name, key, again[3], again[4], got)
		}
	}
}

// pipeline sends cmds and fails the test on an I/O error.
func (r *corruptRun) pipeline(cmds [][]any) []resp.Value {
	r.t.Helper()
	replies, err := r.c.Pipeline(cmds...)
	if err != nil {
		r.t.Fatalf("seed %d: pipeline of %d commands: %v", r.seed, len(cmds), err)
	}
	return replies
}

// snapshot is each kept key's GET reply and its DEBUG DIGEST-VALUE.
func (r *corruptRun) snapshot() map[string][]resp.Value {
	var keys []string
	var cmds [][]any
	for key, k := range r.kept {
		keys = append(keys, key)
		cmds = append(cmds, k.get(key), []any{"DEBUG", "DIGEST-VALUE", key})
	}
	snap := map[string][]resp.Value{}
	for first := 0; first < len(cmds); first += 2000 {
		replies := r.pipeline(cmds[first:min(first+2000, len(cmds))])
		for i := 0; i < len(replies); i += 2 {
			key := keys[(first+i)/2]
			snap[key] = replies[i : i+2]
		}
	}
	return snap
}

// compare fails for every kept key whose snapshot differs from before.
func (r *corruptRun) compare(before map[string][]resp.Value, after string) {
	now, bad := r.snapshot(), 0
	for key, want := range before {
		got := now[key]
		if len(got) != 2 || !resp.Equal(got[0], want[0]) || !resp.Equal(got[1], want[1]) {
			r.t.Errorf("seed %d: %s %q after %s:\n   got: %v\n  want: %v", r.seed, r.kept[key].name, key, after, got, want)
			if bad++; bad == 10 {
				r.t.Fatalf("seed %d: giving up after %d differences", r.seed, bad)
			}
		}
	}
}
