package tests

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

// startServer starts redis-server with the module and the given extra config lines.
func startServer(t *testing.T, config ...string) *redistest.Server {
	t.Helper()
	return redistest.Start(t, redistest.Options{Config: config})
}

// fmtArgs renders a command for messages, abbreviating long arguments.
func fmtArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		var s string
		switch x := a.(type) {
		case []byte:
			s = string(x)
		case string:
			s = x
		default:
			s = fmt.Sprint(x)
		}
		if len(s) > 40 {
			parts[i] = fmt.Sprintf("%q...(%d bytes)", s[:40], len(s))
		} else if strings.ContainsAny(s, " \x00\r\n\"") || s == "" || !isPrintable(s) {
			parts[i] = strconv.Quote(s)
		} else {
			parts[i] = s
		}
	}
	return strings.Join(parts, " ")
}

func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// do runs a command and fails the test on an I/O error (not on an error reply).
func do(t *testing.T, c *resp.Conn, args ...any) resp.Value {
	t.Helper()
	v, err := c.Do(args...)
	if err != nil {
		t.Fatalf("%s: I/O error: %v", fmtArgs(args), err)
	}
	return v
}

// expect runs a command and compares the full reply (wire type included).
func expect(t *testing.T, c *resp.Conn, want resp.Value, args ...any) bool {
	t.Helper()
	got := do(t, c, args...)
	if !resp.Equal(got, want) {
		t.Errorf("%s\n   got: %v\n  want: %v", fmtArgs(args), got, want)
		return false
	}
	return true
}

// expectOK expects +OK.
func expectOK(t *testing.T, c *resp.Conn, args ...any) bool {
	t.Helper()
	return expect(t, c, resp.Simple("OK"), args...)
}

// expectErr expects the exact error text (including or omitting "ERR ").
func expectErr(t *testing.T, c *resp.Conn, msg string, args ...any) bool {
	t.Helper()
	return expect(t, c, resp.Err(msg), args...)
}

// expectErrPrefix expects an error reply whose text starts with prefix.
func expectErrPrefix(t *testing.T, c *resp.Conn, prefix string, args ...any) bool {
	t.Helper()
	got := do(t, c, args...)
	if got.Kind != resp.Error || !strings.HasPrefix(got.Text(), prefix) {
		t.Errorf("%s\n   got: %v\n  want: an error starting with %q", fmtArgs(args), got, prefix)
		return false
	}
	return true
}

// expectPing checks the server still answers.
func expectPing(t *testing.T, c *resp.Conn) {
	t.Helper()
	expect(t, c, resp.Simple("PONG"), "PING")
}

// waitFor polls cond until it is true or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for {
		ok, state := cond()
		if ok {
			return
		}
		last = state
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s (last state: %s)", timeout, what, last)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// info returns INFO <section> fields.
// usedMemory is the server's INFO used_memory.
func usedMemory(t *testing.T, c *resp.Conn) int64 {
	t.Helper()
	n, err := strconv.ParseInt(info(t, c, "memory")["used_memory"], 10, 64)
	if err != nil {
		t.Fatalf("used_memory: %v", err)
	}
	return n
}

func info(t *testing.T, c *resp.Conn, section string) map[string]string {
	t.Helper()
	v := do(t, c, "INFO", section)
	if v.Kind != resp.Bulk {
		t.Fatalf("INFO %s: got %v", section, v)
	}
	return redistest.ParseInfo(v.Text())
}

// backendsPath is the folder the module looks for backends in, INFO's ai_backends_path: AI.CONFIG GET
// BACKENDSPATH answers nil until a path is set, as RedisAI's.
func backendsPath(t *testing.T, c *resp.Conn) string {
	t.Helper()
	return info(t, c, "ai_backends_config")["ai_backends_path"]
}

// ---------------------------------------------------------------------------
// dtypes

type dtypeKind int

const (
	kFloat dtypeKind = iota
	kInt
	kUint
	kBool
	kString
)

type dtype struct {
	name string
	size int // element size in bytes (1 for STRING: the blob is variable)
	kind dtypeKind
}

var allDtypes = []dtype{
	{"FLOAT", 4, kFloat},
	{"DOUBLE", 8, kFloat},
	{"INT8", 1, kInt},
	{"INT16", 2, kInt},
	{"INT32", 4, kInt},
	{"INT64", 8, kInt},
	{"UINT8", 1, kUint},
	{"UINT16", 2, kUint},
	{"BOOL", 1, kBool},
	{"STRING", 1, kString},
}

func dtypeByName(name string) dtype {
	for _, d := range allDtypes {
		if d.name == name {
			return d
		}
	}
	panic("unknown dtype " + name)
}

func prod(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// formatG17 formats like C's printf("%.17g") (what Redis 7.0 uses for
// RedisModule_ReplyWithDouble in RESP2), with glibc's inf/nan spelling.
func formatG17(x float64) string {
	switch {
	case math.IsInf(x, 1):
		return "inf"
	case math.IsInf(x, -1):
		return "-inf"
	case math.IsNaN(x):
		if math.Signbit(x) {
			return "-nan"
		}
		return "nan"
	case x == 0:
		if math.Signbit(x) {
			return "-0"
		}
		return "0"
	}
	const p = 17
	s := strconv.FormatFloat(x, 'e', p-1, 64)
	mant, expS, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expS)
	if exp < -4 || exp >= p {
		if strings.Contains(mant, ".") {
			mant = strings.TrimRight(mant, "0")
			mant = strings.TrimSuffix(mant, ".")
		}
		sign := "+"
		if exp < 0 {
			sign = "-"
			exp = -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	f := strconv.FormatFloat(x, 'f', p-1-exp, 64)
	if strings.Contains(f, ".") {
		f = strings.TrimRight(f, "0")
		f = strings.TrimSuffix(f, ".")
	}
	return f
}

// valuesOf decodes a blob of the dtype into the expected VALUES reply elements.
func valuesOf(d dtype, blob []byte) []resp.Value {
	var out []resp.Value
	if d.kind == kString {
		for _, e := range bytes.Split(blob, []byte{0}) {
			out = append(out, resp.BulkBytes(append([]byte(nil), e...)))
		}
		// the blob ends with NUL: drop the empty piece after it
		return out[:len(out)-1]
	}
	le := binary.LittleEndian
	for i := 0; i+d.size <= len(blob); i += d.size {
		b := blob[i : i+d.size]
		switch d.name {
		case "FLOAT":
			out = append(out, resp.BulkString(formatG17(float64(math.Float32frombits(le.Uint32(b))))))
		case "DOUBLE":
			out = append(out, resp.BulkString(formatG17(math.Float64frombits(le.Uint64(b)))))
		case "INT8":
			out = append(out, resp.Int(int64(int8(b[0]))))
		case "INT16":
			out = append(out, resp.Int(int64(int16(le.Uint16(b)))))
		case "INT32":
			out = append(out, resp.Int(int64(int32(le.Uint32(b)))))
		case "INT64":
			out = append(out, resp.Int(int64(le.Uint64(b))))
		case "UINT8", "BOOL":
			out = append(out, resp.Int(int64(b[0])))
		case "UINT16":
			out = append(out, resp.Int(int64(le.Uint16(b))))
		}
	}
	return out
}

// tensor is a tensor we set, with everything needed to predict the replies.
type tensor struct {
	key   string
	dtype dtype
	dims  []int64
	blob  []byte // the bytes TENSORGET BLOB must return
}

func (tn tensor) setArgs() []any {
	args := []any{"AI.TENSORSET", tn.key, tn.dtype.name}
	for _, d := range tn.dims {
		args = append(args, d)
	}
	return append(args, "BLOB", tn.blob)
}

func (tn tensor) shape() resp.Value { return resp.Ints(tn.dims...) }

func (tn tensor) meta() resp.Value {
	return resp.Arr(resp.BulkString("dtype"), resp.BulkString(tn.dtype.name), resp.BulkString("shape"), tn.shape())
}

func (tn tensor) metaBlob() resp.Value {
	m := tn.meta()
	m.Elems = append(m.Elems, resp.BulkString("blob"), resp.BulkBytes(tn.blob))
	return m
}

func (tn tensor) values() resp.Value { return resp.Arr(valuesOf(tn.dtype, tn.blob)...) }

func (tn tensor) metaValues() resp.Value {
	m := tn.meta()
	m.Elems = append(m.Elems, resp.BulkString("values"), tn.values())
	return m
}

// randomBlob makes valid random data for n elements of d.
func randomBlob(rng *rand.Rand, d dtype, n int64) []byte {
	switch d.kind {
	case kString:
		var b []byte
		for i := int64(0); i < n; i++ {
			l := rng.Intn(12)
			for j := 0; j < l; j++ {
				b = append(b, byte(1+rng.Intn(255))) // any byte but NUL
			}
			b = append(b, 0)
		}
		return b
	case kBool:
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Intn(2))
		}
		return b
	}
	b := make([]byte, n*int64(d.size))
	rng.Read(b)
	return b
}

// randomFiniteBlob is randomBlob with finite, non-NaN floats (for VALUES checks
// whose expected spelling of NaN would otherwise depend on libc).
func randomFiniteBlob(rng *rand.Rand, d dtype, n int64) []byte {
	le := binary.LittleEndian
	switch d.name {
	case "FLOAT":
		b := make([]byte, 4*n)
		for i := int64(0); i < n; i++ {
			le.PutUint32(b[4*i:], math.Float32bits(float32(rng.NormFloat64()*math.Pow(10, float64(rng.Intn(20)-10)))))
		}
		return b
	case "DOUBLE":
		b := make([]byte, 8*n)
		for i := int64(0); i < n; i++ {
			le.PutUint64(b[8*i:], math.Float64bits(rng.NormFloat64()*math.Pow(10, float64(rng.Intn(60)-30))))
		}
		return b
	}
	return randomBlob(rng, d, n)
}

func zeroBlob(d dtype, n int64) []byte {
	return make([]byte, n*int64(d.size)) // STRING: n NULs (size 1)
}

// getMetaBlob fetches TENSORGET key META BLOB.
func getMetaBlob(t *testing.T, c *resp.Conn, key string) resp.Value {
	t.Helper()
	return do(t, c, "AI.TENSORGET", key, "META", "BLOB")
}

// checkTensor compares TENSORGET META BLOB with the expected tensor.
func checkTensor(t *testing.T, c *resp.Conn, tn tensor, context string) bool {
	t.Helper()
	got := getMetaBlob(t, c, tn.key)
	if !resp.Equal(got, tn.metaBlob()) {
		t.Errorf("%s: AI.TENSORGET %q META BLOB\n   got: %v\n  want: %v", context, tn.key, got, tn.metaBlob())
		return false
	}
	return true
}

// dataset builds a deterministic set of tensors covering every dtype, scalars,
// zero-filled tensors, 4-d shapes, strings, a 256 KiB tensor and binary keys.
func dataset(prefix string, seed int64) []tensor {
	rng := rand.New(rand.NewSource(seed))
	var ts []tensor
	for _, d := range allDtypes {
		dims := []int64{2, 3}
		n := prod(dims)
		ts = append(ts, tensor{key: prefix + "blob:" + d.name, dtype: d, dims: dims, blob: randomBlob(rng, d, n)})
		ts = append(ts, tensor{key: prefix + "zero:" + d.name, dtype: d, dims: []int64{3}, blob: zeroBlob(d, 3)})
		ts = append(ts, tensor{key: prefix + "scalar:" + d.name, dtype: d, dims: []int64{}, blob: randomBlob(rng, d, 1)})
		dims4 := []int64{2, 1, 3, 2}
		ts = append(ts, tensor{key: prefix + "4d:" + d.name, dtype: d, dims: dims4, blob: randomBlob(rng, d, prod(dims4))})
	}
	ts = append(ts,
		tensor{key: prefix + "big", dtype: dtypeByName("FLOAT"), dims: []int64{256, 256}, blob: randomBlob(rng, dtypeByName("FLOAT"), 256*256)},
		tensor{key: prefix + "str:empty-elements", dtype: dtypeByName("STRING"), dims: []int64{4}, blob: []byte("\x00a\x00\x00bc\x00")},
		tensor{key: prefix + "bin\x00key\xff\r\n", dtype: dtypeByName("INT32"), dims: []int64{2}, blob: randomBlob(rng, dtypeByName("INT32"), 2)},
		tensor{key: prefix + "bin\x00kez", dtype: dtypeByName("UINT8"), dims: []int64{1}, blob: []byte{7}},
	)
	return ts
}

func setAll(t *testing.T, c *resp.Conn, ts []tensor) {
	t.Helper()
	for _, tn := range ts {
		if !expectOK(t, c, tn.setArgs()...) {
			t.FailNow()
		}
	}
}

func checkAll(t *testing.T, c *resp.Conn, ts []tensor, context string) {
	t.Helper()
	bad := 0
	for _, tn := range ts {
		if !checkTensor(t, c, tn, context) {
			bad++
			if bad >= 5 {
				t.Errorf("%s: giving up after %d mismatches", context, bad)
				return
			}
		}
	}
}

func TestFormatG17(t *testing.T) {
	t.Parallel()
	// Values checked against C printf("%.17g").
	cases := map[float64]string{
		4:                              "4",
		float64(float32(0.1)):          "0.10000000149011612",
		0.1:                            "0.10000000000000001",
		1e17:                           "1e+17",
		1e16:                           "10000000000000000",
		123456789012345680:             "1.2345678901234568e+17",
		-1.5e-5:                        "-1.5e-05",
		0.0001:                         "0.0001",
		0.00001:                        "1.0000000000000001e-05",
		1e300:                          "1.0000000000000001e+300",
		float64(float32(3.4028235e38)): "3.4028234663852886e+38",
		-2.5:                           "-2.5",
	}
	for x, want := range cases {
		if got := formatG17(x); got != want {
			t.Errorf("formatG17(%v) = %q, want %q", x, got, want)
		}
	}
}
