package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// waitBgsave waits for a BGSAVE to finish and checks it succeeded.
func waitBgsave(t *testing.T, c *resp.Conn) {
	t.Helper()
	waitFor(t, 60*time.Second, "BGSAVE to finish", func() (bool, string) {
		p := info(t, c, "persistence")
		return p["rdb_bgsave_in_progress"] == "0", "rdb_bgsave_in_progress=" + p["rdb_bgsave_in_progress"]
	})
	p := info(t, c, "persistence")
	if p["rdb_last_bgsave_status"] != "ok" {
		t.Fatalf("rdb_last_bgsave_status = %q, want ok", p["rdb_last_bgsave_status"])
	}
}

func waitAOFRewrite(t *testing.T, c *resp.Conn) {
	t.Helper()
	waitFor(t, 60*time.Second, "BGREWRITEAOF to finish", func() (bool, string) {
		p := info(t, c, "persistence")
		done := p["aof_rewrite_in_progress"] == "0" && p["aof_rewrite_scheduled"] == "0"
		return done, "aof_rewrite_in_progress=" + p["aof_rewrite_in_progress"] + " scheduled=" + p["aof_rewrite_scheduled"]
	})
	p := info(t, c, "persistence")
	if p["aof_last_bgrewrite_status"] != "ok" {
		t.Fatalf("aof_last_bgrewrite_status = %q, want ok", p["aof_last_bgrewrite_status"])
	}
}

func restart(t *testing.T, s *redistest.Server) *resp.Conn {
	t.Helper()
	if err := s.Restart(); err != nil {
		t.Fatalf("restart: %v", err)
	}
	return s.Conn(t)
}

// TestPersistenceBGSAVE: BGSAVE, restart, every tensor identical; a write
// after the BGSAVE is gone (proves the restart loaded the RDB).
func TestPersistenceBGSAVE(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	ts := dataset("rdb:", 10)
	setAll(t, c, ts)
	expect(t, c, resp.Simple("Background saving started"), "BGSAVE")
	waitBgsave(t, c)
	expectOK(t, c, "AI.TENSORSET", "after-save", "FLOAT", "1")
	if _, err := os.Stat(filepath.Join(s.Dir(), "dump.rdb")); err != nil {
		t.Fatalf("no dump.rdb after BGSAVE: %v", err)
	}
	c = restart(t, s)
	checkAll(t, c, ts, "after BGSAVE + restart")
	expect(t, c, resp.Int(0), "EXISTS", "after-save")
	expect(t, c, resp.Int(int64(len(ts))), "DBSIZE")
	expect(t, c, resp.Simple("AI_TENSOR"), "TYPE", ts[0].key)

	// and a second generation: save the reloaded data again (SAVE, in-process this time)
	expectOK(t, c, "SAVE")
	c = restart(t, s)
	checkAll(t, c, ts, "after SAVE of reloaded data + restart")
}

// baseAOF is every command of the server's base AOF file (after a rewrite without preamble).
func baseAOF(t *testing.T, s *redistest.Server) [][]string {
	t.Helper()
	bases, _ := filepath.Glob(filepath.Join(s.Dir(), "appendonlydir", "*.base.aof"))
	if len(bases) != 1 {
		t.Fatalf("base AOF files: %v", bases)
	}
	return parseAOF(t, bases[0])
}

// parseAOF reads every command in an AOF file.
func parseAOF(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var cmds [][]string
	for {
		if _, err := r.Peek(1); err != nil {
			break
		}
		v, err := resp.ReadValue(r)
		if err != nil {
			t.Fatalf("parse %s after %d commands: %v", path, len(cmds), err)
		}
		if v.Kind != resp.Array {
			t.Fatalf("%s: command %d is %v, not an array", path, len(cmds), v)
		}
		var cmd []string
		for _, e := range v.Elems {
			cmd = append(cmd, e.Text())
		}
		cmds = append(cmds, cmd)
	}
	return cmds
}

// TestPersistenceAOF: appendonly + BGREWRITEAOF, more writes, restart: identical.
func TestPersistenceAOF(t *testing.T) {
	t.Parallel()
	for _, preamble := range []string{"no", "yes"} {
		t.Run("aof-use-rdb-preamble="+preamble, func(t *testing.T) {
			s := startServer(t, "appendonly yes", "appendfsync always", "aof-use-rdb-preamble "+preamble)
			c := s.Conn(t)
			before := dataset("aof:a:", 20)
			setAll(t, c, before)
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)

			if preamble == "no" {
				// The rewrite goes through the type's aof_rewrite callback: one
				// AI.TENSORSET <key> <TYPE> <dims...> BLOB <data> per tensor.
				cmds := baseAOF(t, s)
				byKey := map[string][]string{}
				for _, cmd := range cmds {
					if len(cmd) > 1 && strings.EqualFold(cmd[0], "AI.TENSORSET") {
						if _, dup := byKey[cmd[1]]; dup {
							t.Errorf("base AOF has two AI.TENSORSET for %q", cmd[1])
						}
						byKey[cmd[1]] = cmd
					}
				}
				for _, tn := range before {
					want := []string{"AI.TENSORSET", tn.key, tn.dtype.name}
					for _, d := range tn.dims {
						want = append(want, strconv.FormatInt(d, 10))
					}
					want = append(want, "BLOB", string(tn.blob))
					got := byKey[tn.key]
					if got == nil {
						t.Errorf("base AOF has no AI.TENSORSET for %q", tn.key)
						continue
					}
					got = append([]string{strings.ToUpper(got[0])}, got[1:]...)
					if strings.Join(got, "\x01") != strings.Join(want, "\x01") {
						t.Errorf("base AOF command for %q:\n   got: %s\n  want: %s", tn.key, fmtStrings(got), fmtStrings(want))
					}
				}
			}

			after := dataset("aof:b:", 21)
			setAll(t, c, after)
			// overwrite one rewritten tensor and delete another: replayed from the incremental AOF
			over := tensor{key: before[0].key, dtype: dtypeByName("UINT16"), dims: []int64{2}, blob: []byte{1, 2, 3, 4}}
			expectOK(t, c, over.setArgs()...)
			expect(t, c, resp.Int(1), "DEL", before[1].key)
			want := append([]tensor{over}, before[2:]...)
			want = append(want, after...)

			c = restart(t, s)
			checkAll(t, c, want, "after AOF rewrite + restart")
			expect(t, c, resp.Int(0), "EXISTS", before[1].key)
			expect(t, c, resp.Int(int64(len(want))), "DBSIZE")

			// rewrite the reloaded data once more and restart again
			expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
			waitAOFRewrite(t, c)
			c = restart(t, s)
			checkAll(t, c, want, "after second AOF rewrite + restart")
		})
	}
}

func fmtStrings(ss []string) string {
	as := make([]any, len(ss))
	for i, s := range ss {
		as[i] = s
	}
	return fmtArgs(as)
}

// TestPersistenceDebugReload: DEBUG RELOAD (save + flush + load in process).
func TestPersistenceDebugReload(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	ts := dataset("reload:", 30)
	setAll(t, c, ts)
	expectOK(t, c, "DEBUG", "RELOAD")
	checkAll(t, c, ts, "after DEBUG RELOAD")
	expect(t, c, resp.Int(int64(len(ts))), "DBSIZE")
	expectOK(t, c, "DEBUG", "RELOAD")
	checkAll(t, c, ts, "after second DEBUG RELOAD")
}

// TestDumpRestore: DUMP/RESTORE of every dataset tensor, under a new name and with REPLACE.
func TestDumpRestore(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	ts := dataset("dump:", 40)
	setAll(t, c, ts)
	for _, tn := range ts {
		d := do(t, c, "DUMP", tn.key)
		if d.Kind != resp.Bulk || d.Nil || len(d.Str) < 11 {
			t.Errorf("DUMP %q: %v", tn.key, d)
			continue
		}
		cp := tn
		cp.key = tn.key + ":restored"
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str)
		checkTensor(t, c, cp, "RESTORE of DUMP")
		expectErrPrefix(t, c, "BUSYKEY", "RESTORE", cp.key, "0", d.Str)
		// REPLACE over a different tensor and over a string key
		expectOK(t, c, "AI.TENSORSET", cp.key, "INT8", "1")
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str, "REPLACE")
		checkTensor(t, c, cp, "RESTORE REPLACE")
		expect(t, c, resp.Int(1), "DEL", cp.key)
		expectOK(t, c, "SET", cp.key, "string")
		expectOK(t, c, "RESTORE", cp.key, "0", d.Str, "REPLACE")
		checkTensor(t, c, cp, "RESTORE REPLACE over a string")
		// the source is untouched
		checkTensor(t, c, tn, "DUMP source")
	}
	expect(t, c, resp.NilBulk(), "DUMP", "nokey")
}

func fixturesDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(redistest.RepoRoot(), "testdata", "redisai", "dumps")
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("RedisAI dump fixtures missing at %s (they are part of the repository): %v", dir, err)
	}
	return dir
}

func readFixture(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// TestRestoreRedisAIDumps: RESTORE of DUMP payloads written by RedisAI itself
// (encoding versions 0 to 4), and DUMP of the same tensors gives the same
// encoding bytes as RedisAI (everything but the RDB version and CRC trailer).
func TestRestoreRedisAIDumps(t *testing.T) {
	t.Parallel()
	dir := fixturesDir(t)
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	intMetaValues := resp.Arr(b("dtype"), b("INT32"), b("shape"), resp.Ints(2, 1), b("values"), resp.Ints(1, 2))
	intMetaBlob := resp.Arr(b("dtype"), b("INT32"), b("shape"), resp.Ints(2, 1), b("blob"), b("\x01\x00\x00\x00\x02\x00\x00\x00"))
	strMetaValues := resp.Arr(b("dtype"), b("STRING"), b("shape"), resp.Ints(2), b("values"), resp.BulkStrings("str_val1", "str_val2"))
	strMetaBlob := resp.Arr(b("dtype"), b("STRING"), b("shape"), resp.Ints(2), b("blob"), b("str_val1\x00str_val2\x00"))
	cases := []struct {
		file      string
		metaVals  resp.Value
		metaBlob  resp.Value
		compareTo []any // TENSORSET args (after the key) whose DUMP must match the payload
	}{
		{"tensor_int32_encver0.dump", intMetaValues, intMetaBlob, nil},
		{"tensor_int32_encver1.dump", intMetaValues, intMetaBlob, nil},
		{"tensor_int32_encver2.dump", intMetaValues, intMetaBlob, nil},
		{"tensor_int32_encver3.dump", intMetaValues, intMetaBlob, nil},
		{"tensor_int32_encver4.dump", intMetaValues, intMetaBlob, []any{"INT32", "2", "1", "VALUES", "1", "2"}},
		{"tensor_string_encver4.dump", strMetaValues, strMetaBlob, []any{"STRING", "2", "VALUES", "str_val1", "str_val2"}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			payload := readFixture(t, dir, tc.file)
			key := "fx:" + tc.file
			if !expectOK(t, c, "RESTORE", key, "0", payload) {
				return
			}
			expect(t, c, tc.metaVals, "AI.TENSORGET", key, "META", "VALUES")
			expect(t, c, tc.metaBlob, "AI.TENSORGET", key, "META", "BLOB")
			expect(t, c, resp.Simple("AI_TENSOR"), "TYPE", key)
			// a restored old-encoding tensor is re-dumped in the current encoding and restores again
			d := do(t, c, "DUMP", key)
			expectOK(t, c, "RESTORE", key+":again", "0", d.Str)
			expect(t, c, tc.metaBlob, "AI.TENSORGET", key+":again", "META", "BLOB")
			if tc.compareTo != nil {
				own := "own:" + tc.file
				expectOK(t, c, append([]any{"AI.TENSORSET", own}, tc.compareTo...)...)
				d := do(t, c, "DUMP", own)
				// payload = <type byte><module id><encoded value> <2-byte RDB version> <8-byte CRC>
				if d.Kind != resp.Bulk || len(d.Str) < 10 {
					t.Fatalf("DUMP %s: %v", own, d)
				}
				gotBody, wantBody := d.Str[:len(d.Str)-10], payload[:len(payload)-10]
				if !bytes.Equal(gotBody, wantBody) {
					t.Errorf("DUMP of the same tensor differs from RedisAI's encoding\n   got: % x\n  want: % x", gotBody, wantBody)
				}
			}
		})
	}
}

// TestCopy: COPY makes an identical, independent tensor.
func TestCopy(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	ts := dataset("copy:", 50)
	setAll(t, c, ts)
	for _, tn := range ts {
		dst := tn
		dst.key = tn.key + ":dst"
		if !expect(t, c, resp.Int(1), "COPY", tn.key, dst.key) {
			continue
		}
		checkTensor(t, c, dst, "COPY destination")
		checkTensor(t, c, tn, "COPY source")
	}
	src := ts[0]
	dst := src
	dst.key = src.key + ":dst"
	// overwrite the source: the copy keeps its value
	newSrc := tensor{key: src.key, dtype: dtypeByName("INT8"), dims: []int64{1}, blob: []byte{9}}
	expectOK(t, c, newSrc.setArgs()...)
	checkTensor(t, c, dst, "copy after overwriting the source")
	// overwrite the copy: the source keeps its value
	newDst := tensor{key: dst.key, dtype: dtypeByName("INT16"), dims: []int64{1}, blob: []byte{1, 2}}
	expectOK(t, c, newDst.setArgs()...)
	checkTensor(t, c, newSrc, "source after overwriting the copy")
	// delete one: the other stays
	expect(t, c, resp.Int(1), "DEL", newSrc.key)
	checkTensor(t, c, newDst, "copy after deleting the source")
	// existing destination: 0 without REPLACE, 1 with it
	third := ts[2]
	expect(t, c, resp.Int(0), "COPY", third.key, newDst.key)
	checkTensor(t, c, newDst, "destination after refused COPY")
	expect(t, c, resp.Int(1), "COPY", third.key, newDst.key, "REPLACE")
	want := third
	want.key = newDst.key
	checkTensor(t, c, want, "COPY REPLACE destination")
	// COPY to another database
	expect(t, c, resp.Int(1), "COPY", third.key, "other-db", "DB", "1")
	expectOK(t, c, "SELECT", "1")
	want.key = "other-db"
	checkTensor(t, c, want, "COPY DB 1")
	expectOK(t, c, "SELECT", "0")
}

// TestDigest: DEBUG DIGEST-VALUE (Redis 7.0 has no DIGEST-KEY) is equal for equal tensors, different otherwise.
func TestDigest(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-debug-command yes")
	c := s.Conn(t)
	data := []byte{0, 1, 2, 3, 4, 5}
	base := tensor{key: "d:a", dtype: dtypeByName("INT8"), dims: []int64{2, 3}, blob: data}
	same := base
	same.key = "d:b"
	otherData := base
	otherData.key = "d:data"
	otherData.blob = []byte{0, 1, 2, 3, 4, 6}
	otherType := base
	otherType.key = "d:type"
	otherType.dtype = dtypeByName("UINT8")
	otherShape := base
	otherShape.key = "d:shape"
	otherShape.dims = []int64{3, 2}
	otherRank := base
	otherRank.key = "d:rank"
	otherRank.dims = []int64{6}
	strA := tensor{key: "d:strA", dtype: dtypeByName("STRING"), dims: []int64{2}, blob: []byte("ab\x00c\x00")}
	strB := tensor{key: "d:strB", dtype: dtypeByName("STRING"), dims: []int64{2}, blob: []byte("a\x00bc\x00")}
	all := []tensor{base, same, otherData, otherType, otherShape, otherRank, strA, strB}
	setAll(t, c, all)
	args := []any{"DEBUG", "DIGEST-VALUE"}
	for _, tn := range all {
		args = append(args, tn.key)
	}
	got := do(t, c, args...)
	if got.Kind != resp.Array || len(got.Elems) != len(all) {
		t.Fatalf("DEBUG DIGEST-VALUE: %v", got)
	}
	dig := map[string]string{}
	for i, tn := range all {
		if got.Elems[i].Kind != resp.SimpleString || len(got.Elems[i].Str) != 40 { // Redis replies +<40 hex digits>
			t.Errorf("digest of %s: %v", tn.key, got.Elems[i])
		}
		dig[tn.key] = got.Elems[i].Text()
	}
	if dig["d:a"] != dig["d:b"] {
		t.Errorf("equal tensors have different digests: %s vs %s", dig["d:a"], dig["d:b"])
	}
	for _, k := range []string{"d:data", "d:type", "d:shape", "d:rank"} {
		if dig[k] == dig["d:a"] {
			t.Errorf("tensor %s differs from d:a but has the same digest %s", k, dig[k])
		}
	}
	if dig["d:strA"] == dig["d:strB"] {
		t.Errorf("STRING tensors with different element boundaries have the same digest %s", dig["d:strA"])
	}
	// the digest survives a reload
	expectOK(t, c, "DEBUG", "RELOAD")
	got2 := do(t, c, args...)
	if !resp.Equal(got, got2) {
		t.Errorf("digests changed across DEBUG RELOAD:\n before: %v\n  after: %v", got, got2)
	}
}

// TestMemoryAccounting: tensors are visible to MEMORY USAGE and used_memory.
func TestMemoryAccounting(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	const mib = 1 << 20
	blob := make([]byte, mib)
	for i := range blob {
		blob[i] = byte(i * 7)
	}
	tn := tensor{key: "mem:0", dtype: dtypeByName("FLOAT"), dims: []int64{mib / 4}, blob: blob}
	const n = 4
	before := usedMemory(t, c)
	// write from a separate connection, closed afterwards, so that its query
	// buffer does not count
	w, err := s.Dial()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		x := tn
		x.key = "mem:" + strconv.Itoa(i)
		v, err := w.Do(x.setArgs()...)
		if err != nil || !resp.Equal(v, resp.Simple("OK")) {
			t.Fatalf("TENSORSET: %v %v", v, err)
		}
	}
	w.Close()
	time.Sleep(200 * time.Millisecond)
	after := usedMemory(t, c)
	growth := after - before
	t.Logf("used_memory grew by %d bytes for %d tensors of %d bytes", growth, n, mib)
	if growth < n*mib*9/10 || growth > n*mib*5/2 {
		t.Errorf("used_memory grew by %d bytes after storing %d x 1 MiB tensors, want roughly %d (between 0.9x and 2.5x)", growth, n, n*mib)
	}
	mu := do(t, c, "MEMORY", "USAGE", "mem:0")
	if mu.Kind != resp.Integer || mu.Int < mib || mu.Int > 4*mib {
		t.Errorf("MEMORY USAGE of a 1 MiB tensor = %v, want an integer >= %d (and < 4 MiB)", mu, mib)
	}
	expect(t, c, resp.NilBulk(), "MEMORY", "USAGE", "mem:missing")
	for i := 0; i < n; i++ {
		expect(t, c, resp.Int(1), "DEL", "mem:"+strconv.Itoa(i))
	}
	freed := after - usedMemory(t, c)
	if freed < n*mib*9/10 {
		t.Errorf("used_memory fell by only %d bytes after deleting %d x 1 MiB tensors", freed, n)
	}
}

// TestTensorMemoryPerSize: a stored tensor costs its payload and a small header, whatever the payload's
// size. Power-of-two payloads fill an allocator size class exactly, so a header in the same block would
// push each into the next class, a quarter more (1.25x, before the data got a block of its own).
func TestTensorMemoryPerSize(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	for _, size := range []int{64 << 10, 1 << 20, 8 << 20} {
		keys := max(4, (4<<20)/size) // at least 4 MiB in all, so that other allocations do not count
		blob := make([]byte, size)
		before := usedMemory(t, c)
		// Writes from a connection of their own, closed before measuring: its query buffer goes.
		w, err := s.Dial()
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < keys; k++ {
			tn := tensor{key: fmt.Sprintf("size:%d:%d", size, k), dtype: dtypeByName("FLOAT"), dims: []int64{int64(size / 4)}, blob: blob}
			if v, err := w.Do(tn.setArgs()...); err != nil || !resp.Equal(v, resp.Simple("OK")) {
				t.Fatalf("TENSORSET: %v %v", v, err)
			}
		}
		w.Close()
		time.Sleep(200 * time.Millisecond)
		perTensor := float64(usedMemory(t, c)-before) / float64(keys)
		t.Logf("%d-byte tensors: %.0f bytes of used_memory each (%.3fx)", size, perTensor, perTensor/float64(size))
		if perTensor > float64(size)*1.05 {
			t.Errorf("%d-byte tensors take %.0f bytes each, %.3fx their payload; want at most 1.05x", size, perTensor, perTensor/float64(size))
		}
	}
}

// TestTensorMemoryUsageIsAllocated: MEMORY USAGE of a tensor is what storing it cost used_memory,
// the allocator's size classes included: payloads chosen between two classes, where the bytes
// asked for and the bytes given differ by a sixth or more.
func TestTensorMemoryUsageIsAllocated(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	for _, size := range []int{2100, 9000} {
		keys := (4 << 20) / size
		blob := make([]byte, size)
		before := usedMemory(t, c)
		w, err := s.Dial() // closed before measuring: its query buffer goes
		if err != nil {
			t.Fatal(err)
		}
		for k := 0; k < keys; k++ {
			tn := tensor{key: fmt.Sprintf("usage:%d:%05d", size, k), dtype: dtypeByName("UINT8"), dims: []int64{int64(size)}, blob: blob}
			if v, err := w.Do(tn.setArgs()...); err != nil || !resp.Equal(v, resp.Simple("OK")) {
				t.Fatalf("TENSORSET: %v %v", v, err)
			}
		}
		w.Close()
		time.Sleep(200 * time.Millisecond)
		perKey := float64(usedMemory(t, c)-before) / float64(keys)
		mu := do(t, c, "MEMORY", "USAGE", fmt.Sprintf("usage:%d:%05d", size, 0))
		if mu.Kind != resp.Integer {
			t.Fatalf("MEMORY USAGE: %v", mu)
		}
		t.Logf("%d-byte tensors: MEMORY USAGE %d, used_memory %.0f per key", size, mu.Int, perKey)
		if d := float64(mu.Int)/perKey - 1; d < -0.05 || d > 0.05 {
			t.Errorf("%d-byte tensor: MEMORY USAGE %d, but each key took %.0f bytes of used_memory (%+.1f%%)", size, mu.Int, perKey, 100*d)
		}
	}
}

// TestModuleUnloadRefused: MODULE UNLOAD ai is refused and the module keeps working.
func TestModuleUnloadRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, "enable-module-command yes")
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "k", "INT8", "1", "VALUES", "5")
	v := do(t, c, "MODULE", "UNLOAD", "ai")
	if v.Kind != resp.Error || !strings.Contains(v.Text(), "Error unloading module") {
		t.Errorf("MODULE UNLOAD ai: got %v, want an error containing \"Error unloading module\"", v)
	}
	ml := do(t, c, "MODULE", "LIST")
	found := false
	for _, m := range ml.Elems {
		if len(m.Elems) >= 2 && m.Elems[0].Text() == "name" && m.Elems[1].Text() == "ai" {
			found = true
		}
	}
	if !found {
		t.Errorf("MODULE LIST after refused unload lacks ai: %v", ml)
	}
	expect(t, c, resp.Ints(5), "AI.TENSORGET", "k", "VALUES")
	expectOK(t, c, "AI.TENSORSET", "k2", "INT8", "1", "VALUES", "6")
	expectPing(t, c)
}

// TestReplication: a replica holds identical tensors, written before and after it connected.
func TestReplication(t *testing.T) {
	t.Parallel()
	m := startServer(t)
	mc := m.Conn(t)
	before := dataset("repl:a:", 60)
	setAll(t, mc, before)

	r := startServer(t, "replicaof 127.0.0.1 "+strconv.Itoa(m.Port()))
	rc := r.Conn(t)
	waitFor(t, 60*time.Second, "replica link up", func() (bool, string) {
		ri := info(t, rc, "replication")
		return ri["master_link_status"] == "up" && ri["master_sync_in_progress"] == "0",
			"master_link_status=" + ri["master_link_status"] + " sync_in_progress=" + ri["master_sync_in_progress"]
	})

	after := dataset("repl:b:", 61)
	setAll(t, mc, after)
	over := tensor{key: before[0].key, dtype: dtypeByName("DOUBLE"), dims: []int64{1}, blob: le64(42)}
	expectOK(t, mc, over.setArgs()...)
	expectOK(t, mc, "AI.TENSORSET", "repl:values", "INT8", "3", "VALUES", "-1", "0", "1")
	expectOK(t, mc, "AI.TENSORSET", "repl:zeros", "STRING", "2")
	expectErr(t, mc, errValue, "AI.TENSORSET", "repl:failed", "UINT8", "1", "VALUES", "300")
	expect(t, mc, resp.Int(1), "DEL", before[1].key)

	waitFor(t, 60*time.Second, "replica offset to reach the master's", func() (bool, string) {
		mo := info(t, mc, "replication")["master_repl_offset"]
		ro := info(t, rc, "replication")["slave_repl_offset"]
		return mo != "" && mo == ro, "master_repl_offset=" + mo + " slave_repl_offset=" + ro
	})

	want := append([]tensor{over}, before[2:]...)
	want = append(want, after...)
	want = append(want,
		tensor{key: "repl:values", dtype: dtypeByName("INT8"), dims: []int64{3}, blob: []byte{0xff, 0, 1}},
		tensor{key: "repl:zeros", dtype: dtypeByName("STRING"), dims: []int64{2}, blob: []byte{0, 0}},
	)
	checkAll(t, rc, want, "on the replica")
	expect(t, rc, resp.Int(0), "EXISTS", before[1].key)
	expect(t, rc, resp.Int(0), "EXISTS", "repl:failed")
	expect(t, rc, resp.Int(int64(len(want))), "DBSIZE")
	// the replica refuses writes (TENSORSET is a write command) but serves reads
	expectErrPrefix(t, rc, "READONLY ", "AI.TENSORSET", "x", "FLOAT", "1")
	expect(t, rc, resp.BulkBytes(want[0].blob), "AI.TENSORGET", want[0].key, "BLOB")
}

// TestBGSAVEUnderLoad: forks (BGSAVE, BGREWRITEAOF) while clients keep the
// module busy must still finish: a forked child must never need Go.
func TestBGSAVEUnderLoad(t *testing.T) {
	t.Parallel()
	s := startServer(t, "appendonly yes", "aof-use-rdb-preamble no")
	c := s.Conn(t)
	ts := dataset("load:", 80)
	setAll(t, c, ts)
	big := tensor{key: "load:32MiB", dtype: dtypeByName("DOUBLE"), dims: []int64{4 << 20}, blob: make([]byte, 32<<20)}
	for i := range big.blob {
		big.blob[i] = byte(i*31 + i>>8)
	}
	expectOK(t, c, big.setArgs()...)

	stop := make(chan struct{})
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc, err := s.Dial()
			if err != nil {
				errs <- err
				return
			}
			defer wc.Close()
			key := "load:writer:" + strconv.Itoa(w)
			blob := bytes.Repeat([]byte{byte(w)}, 4096)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				v, err := wc.Do("AI.TENSORSET", key, "UINT8", "4096", "BLOB", blob)
				if err != nil || !resp.Equal(v, resp.Simple("OK")) {
					errs <- fmt.Errorf("writer %d: TENSORSET: %v %v", w, v, err)
					return
				}
				v, err = wc.Do("AI.TENSORGET", key, "META", "VALUES")
				if err != nil || v.Kind != resp.Array {
					errs <- fmt.Errorf("writer %d: TENSORGET: %v %v", w, v, err)
					return
				}
			}
		}(w)
	}
	for i := 0; i < 3; i++ {
		expect(t, c, resp.Simple("Background saving started"), "BGSAVE")
		waitBgsave(t, c)
		expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
		waitAOFRewrite(t, c)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c = restart(t, s)
	checkAll(t, c, append(ts, big), "after saves under load + restart (AOF)")
	// and the RDB written by the last BGSAVE under load loads too
	if !strings.Contains(s.Log(), "DB saved on disk") {
		t.Errorf("log has no \"DB saved on disk\"")
	}
	expectOK(t, c, "CONFIG", "SET", "appendonly", "no")
	expectOK(t, c, "CONFIG", "REWRITE")
	c = restart(t, s)
	expect(t, c, resp.BulkStrings("appendonly", "no"), "CONFIG", "GET", "appendonly")
	checkAll(t, c, append(ts, big), "after saves under load + restart (RDB)")
}
