package tests

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorai/tests/resp"
)

const (
	errArityTensorSet = "ERR wrong number of arguments for 'ai.tensorset' command"
	errArityTensorGet = "ERR wrong number of arguments for 'ai.tensorget' command"
	errWrongType      = "WRONGTYPE Operation against a key holding the wrong kind of value"
	errDataType       = "ERR invalid data type"
	errShape          = "ERR invalid or negative value found in tensor shape"
	errBlobArg        = "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"
	errNumValues      = "ERR wrong number of values was given in 'AI.TENSORSET' command"
	errValue          = "ERR invalid value"
	errCStringNul     = "ERR C-string value contains null character"
	errDataLen        = "ERR data length does not match tensor shape and type"
	errStringCount    = "ERR Number of string elements in data blob does not match tensor length"
	errBoolElems      = "ERR BOOL tensor elements must be 0 or 1"
	errEmptyKey       = "ERR tensor key is empty or in a different shard"
	errFormat         = "ERR unsupported data format"
	errBlobAndValues  = "ERR both BLOB and VALUES specified"
)

// TestTensorBlobRoundTrip: every dtype, set by BLOB, read back in every reply form.
func TestTensorBlobRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	rng := rand.New(rand.NewSource(1))
	for _, d := range allDtypes {
		for _, dims := range [][]int64{{1}, {2, 3}, {3, 1, 2}, {2, 2, 1, 3}} {
			tn := tensor{key: "t:" + d.name, dtype: d, dims: dims, blob: randomFiniteBlob(rng, d, prod(dims))}
			name := fmt.Sprintf("%s/%v", d.name, dims)
			t.Run(name, func(t *testing.T) {
				expectOK(t, c, tn.setArgs()...)
				expect(t, c, tn.metaBlob(), "AI.TENSORGET", tn.key, "META", "BLOB")
				expect(t, c, tn.metaBlob(), "AI.TENSORGET", tn.key)
				expect(t, c, resp.BulkBytes(tn.blob), "AI.TENSORGET", tn.key, "BLOB")
				expect(t, c, tn.meta(), "AI.TENSORGET", tn.key, "META")
				expect(t, c, tn.values(), "AI.TENSORGET", tn.key, "VALUES")
				expect(t, c, tn.metaValues(), "AI.TENSORGET", tn.key, "META", "VALUES")
			})
		}
	}
	// Arbitrary bit patterns (NaN payloads, denormals, negative zero) survive BLOB byte-exactly.
	for _, d := range []dtype{dtypeByName("FLOAT"), dtypeByName("DOUBLE")} {
		tn := tensor{key: "raw:" + d.name, dtype: d, dims: []int64{64}}
		tn.blob = make([]byte, 64*d.size)
		rng.Read(tn.blob)
		expectOK(t, c, tn.setArgs()...)
		expect(t, c, resp.BulkBytes(tn.blob), "AI.TENSORGET", tn.key, "BLOB")
	}
}

// TestTensorValuesSpecialFloats: NaN and infinities set by BLOB are spelled
// as Redis' RESP2 double reply spells them (glibc printf: nan, -nan, inf, -inf).
func TestTensorValuesSpecialFloats(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	f32 := []uint32{0x7fc00000, 0xffc00000, 0x7f800000, 0xff800000, 0x80000000, 0x00000001}
	var blob []byte
	for _, b := range f32 {
		blob = binary.LittleEndian.AppendUint32(blob, b)
	}
	expectOK(t, c, "AI.TENSORSET", "f", "FLOAT", "6", "BLOB", blob)
	expect(t, c, resp.BulkStrings("nan", "-nan", "inf", "-inf", "-0", "1.4012984643248171e-45"), "AI.TENSORGET", "f", "VALUES")
	blob = nil
	for _, b := range []uint64{0x7ff8000000000000, 0xfff8000000000000, 0x7ff0000000000000, 0x0000000000000001} {
		blob = binary.LittleEndian.AppendUint64(blob, b)
	}
	expectOK(t, c, "AI.TENSORSET", "d", "DOUBLE", "4", "BLOB", blob)
	expect(t, c, resp.BulkStrings("nan", "-nan", "inf", "4.9406564584124654e-324"), "AI.TENSORGET", "d", "VALUES")
}

// valuesCase is a tensor set through VALUES.
type valuesCase struct {
	dtype  string
	dims   []int64
	in     []string     // the VALUES arguments
	blob   []byte       // expected BLOB
	values []resp.Value // expected VALUES elements
}

func le16(v int64) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(v)) }
func le32(v int64) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }
func le64(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }

// intValuesCase builds a VALUES case for an integer dtype from int64 values.
func intValuesCase(dt string, dims []int64, vals ...int64) valuesCase {
	d := dtypeByName(dt)
	vc := valuesCase{dtype: dt, dims: dims}
	for _, v := range vals {
		vc.in = append(vc.in, strconv.FormatInt(v, 10))
		vc.values = append(vc.values, resp.Int(v))
		switch d.size {
		case 1:
			vc.blob = append(vc.blob, byte(v))
		case 2:
			vc.blob = append(vc.blob, le16(v)...)
		case 4:
			vc.blob = append(vc.blob, le32(v)...)
		case 8:
			vc.blob = append(vc.blob, le64(v)...)
		}
	}
	return vc
}

func floatValuesCase(dims []int64, in ...string) valuesCase {
	vc := valuesCase{dtype: "FLOAT", dims: dims, in: in}
	for _, s := range in {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(err)
		}
		f32 := float32(f)
		vc.blob = binary.LittleEndian.AppendUint32(vc.blob, math.Float32bits(f32))
		vc.values = append(vc.values, resp.BulkString(formatG17(float64(f32))))
	}
	return vc
}

func doubleValuesCase(dims []int64, in ...string) valuesCase {
	vc := valuesCase{dtype: "DOUBLE", dims: dims, in: in}
	for _, s := range in {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			panic(err)
		}
		vc.blob = binary.LittleEndian.AppendUint64(vc.blob, math.Float64bits(f))
		vc.values = append(vc.values, resp.BulkString(formatG17(f)))
	}
	return vc
}

func stringValuesCase(dims []int64, in ...string) valuesCase {
	vc := valuesCase{dtype: "STRING", dims: dims, in: in}
	for _, s := range in {
		s = strings.TrimSuffix(s, "\x00")
		vc.blob = append(vc.blob, s...)
		vc.blob = append(vc.blob, 0)
		vc.values = append(vc.values, resp.BulkString(s))
	}
	return vc
}

func (vc valuesCase) tensor(key string) tensor {
	return tensor{key: key, dtype: dtypeByName(vc.dtype), dims: vc.dims, blob: vc.blob}
}

func (vc valuesCase) setArgs(key string) []any {
	args := []any{"AI.TENSORSET", key, vc.dtype}
	for _, d := range vc.dims {
		args = append(args, d)
	}
	args = append(args, "VALUES")
	for _, v := range vc.in {
		args = append(args, v)
	}
	return args
}

func randomValuesCases(rng *rand.Rand) []valuesCase {
	var out []valuesCase
	ranges := map[string][2]int64{
		"INT8": {math.MinInt8, math.MaxInt8}, "INT16": {math.MinInt16, math.MaxInt16},
		"INT32": {math.MinInt32, math.MaxInt32}, "INT64": {math.MinInt64, math.MaxInt64},
		"UINT8": {0, math.MaxUint8}, "UINT16": {0, math.MaxUint16}, "BOOL": {0, 1},
	}
	for _, dt := range []string{"INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "BOOL"} {
		r := ranges[dt]
		vals := []int64{r[0], r[1], 0}
		for len(vals) < 12 {
			var v int64
			if dt == "INT64" {
				v = int64(rng.Uint64())
			} else {
				v = r[0] + rng.Int63n(r[1]-r[0]+1)
			}
			vals = append(vals, v)
		}
		out = append(out, intValuesCase(dt, []int64{3, 4}, vals...))
	}
	var fin, din []string
	for i := 0; i < 12; i++ {
		f32 := float32(rng.NormFloat64() * math.Pow(10, float64(rng.Intn(16)-8)))
		fin = append(fin, strconv.FormatFloat(float64(f32), 'g', -1, 32))
		din = append(din, strconv.FormatFloat(rng.NormFloat64()*math.Pow(10, float64(rng.Intn(200)-100)), 'g', -1, 64))
	}
	out = append(out, floatValuesCase([]int64{2, 6}, fin...), doubleValuesCase([]int64{4, 3}, din...))
	out = append(out, stringValuesCase([]int64{2, 2}, "hello", "w\xc3\xb6rld", "with space", "nul-terminated\x00"))
	return out
}

// TestTensorValuesRoundTrip: every dtype set through VALUES, read back as VALUES and BLOB.
func TestTensorValuesRoundTrip(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	cases := randomValuesCases(rand.New(rand.NewSource(2)))
	cases = append(cases,
		// the spec's own examples
		floatValuesCase([]int64{1}, "0.1"),
		floatValuesCase([]int64{2}, "4", "-0.5"),
		floatValuesCase([]int64{3}, "1e10", "3.4028234663852886e38", "1.17549435e-38"),
		doubleValuesCase([]int64{4}, "0.1", "1e300", "-1e-300", "123456789012345678"),
		doubleValuesCase([]int64{2}, "inf", "-inf"),
		floatValuesCase([]int64{2}, "inf", "-inf"),
		doubleValuesCase([]int64{1}, "-0"),
		intValuesCase("INT8", []int64{2}, -1, -128),
		intValuesCase("INT16", []int64{3}, -1, math.MinInt16, math.MaxInt16),
		intValuesCase("INT32", []int64{3}, -1, math.MinInt32, math.MaxInt32),
		intValuesCase("INT64", []int64{3}, -1, math.MinInt64, math.MaxInt64),
		intValuesCase("UINT8", []int64{2}, 0, 255),
		intValuesCase("UINT16", []int64{2}, 0, 65535),
		intValuesCase("BOOL", []int64{2, 1}, 1, 0),
		stringValuesCase([]int64{2}, "str_val1", "str_val2"),
		stringValuesCase([]int64{1}, "x"),
	)
	for i, vc := range cases {
		vc := vc
		key := fmt.Sprintf("v:%d", i)
		t.Run(fmt.Sprintf("%d_%s_%s", i, vc.dtype, strings.Join(vc.in[:min(len(vc.in), 3)], ",")), func(t *testing.T) {
			tn := vc.tensor(key)
			if !expectOK(t, c, vc.setArgs(key)...) {
				return
			}
			expect(t, c, resp.Arr(vc.values...), "AI.TENSORGET", key, "VALUES")
			expect(t, c, resp.BulkBytes(vc.blob), "AI.TENSORGET", key, "BLOB")
			expect(t, c, tn.metaValues(), "AI.TENSORGET", key, "META", "VALUES")
			expect(t, c, tn.metaBlob(), "AI.TENSORGET", key)
		})
	}
}

// TestTensorGetReplyShapes checks every TENSORGET format combination on one tensor.
func TestTensorGetReplyShapes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	vc := intValuesCase("INT16", []int64{2, 2}, 1, -2, 3, 4)
	expectOK(t, c, vc.setArgs("k")...)

	b := resp.BulkString
	meta := resp.Arr(b("dtype"), b("INT16"), b("shape"), resp.Ints(2, 2))
	blob := resp.BulkBytes([]byte{1, 0, 0xfe, 0xff, 3, 0, 4, 0})
	values := resp.Ints(1, -2, 3, 4)
	metaBlob := resp.Arr(b("dtype"), b("INT16"), b("shape"), resp.Ints(2, 2), b("blob"), blob)
	metaValues := resp.Arr(b("dtype"), b("INT16"), b("shape"), resp.Ints(2, 2), b("values"), values)

	cases := []struct {
		args []string
		want resp.Value
	}{
		{nil, metaBlob},
		{[]string{"META"}, meta},
		{[]string{"BLOB"}, blob},
		{[]string{"VALUES"}, values},
		{[]string{"META", "BLOB"}, metaBlob},
		{[]string{"BLOB", "META"}, metaBlob},
		{[]string{"META", "VALUES"}, metaValues},
		{[]string{"VALUES", "META"}, metaValues},
		{[]string{"meta", "blob"}, metaBlob},
		{[]string{"Meta", "Values"}, metaValues},
		{[]string{"META", "META"}, meta},
		{[]string{"BLOB", "BLOB"}, blob},
		{[]string{"VALUES", "values"}, values},
		{[]string{"BLOB", "VALUES"}, resp.Err(errBlobAndValues)},
		{[]string{"VALUES", "BLOB"}, resp.Err(errBlobAndValues)},
		{[]string{"FOO"}, resp.Err(errFormat)},
		{[]string{"META", "FOO"}, resp.Err(errFormat)},
		{[]string{"BLOBS"}, resp.Err(errFormat)},
		{[]string{""}, resp.Err(errFormat)},
		{[]string{"META", "BLOB", "VALUES"}, resp.Err(errArityTensorGet)},
		{[]string{"META", "META", "META"}, resp.Err(errArityTensorGet)},
	}
	for _, tc := range cases {
		args := []any{"AI.TENSORGET", "k"}
		for _, a := range tc.args {
			args = append(args, a)
		}
		expect(t, c, tc.want, args...)
	}
	// The exact bytes on the wire for META BLOB: every string is a bulk string.
	got := do(t, c, "AI.TENSORGET", "k", "META", "BLOB")
	if got.Kind == resp.Array && len(got.Elems) == 6 {
		for _, i := range []int{0, 1, 2, 4, 5} {
			if got.Elems[i].Kind != resp.Bulk {
				t.Errorf("META BLOB element %d is %v, want a bulk string", i, got.Elems[i].Kind)
			}
		}
		for _, d := range got.Elems[3].Elems {
			if d.Kind != resp.Integer {
				t.Errorf("shape element is %v, want an integer", d.Kind)
			}
		}
	}
	// dtype spelled in upper case whatever case TENSORSET used
	expectOK(t, c, "AI.TENSORSET", "lc", "float", "1", "values", "2")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Ints(1)), "AI.TENSORGET", "lc", "META")
	expect(t, c, resp.BulkStrings("2"), "AI.TENSORGET", "lc", "VALUES")
	expectOK(t, c, "AI.TENSORSET", "lc2", "uInT16", "1", "bLoB", "\x01\x02")
	expect(t, c, resp.Arr(b("dtype"), b("UINT16"), b("shape"), resp.Ints(1), b("blob"), b("\x01\x02")), "AI.TENSORGET", "lc2")
	// TYPE reports the module type name
	expect(t, c, resp.Simple("AI_TENSOR"), "TYPE", "k")
}

// TestTensorScalars: tensors with no dims have shape [].
func TestTensorScalars(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	expectOK(t, c, "AI.TENSORSET", "k", "FLOAT", "VALUES", "3")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Arr()), "AI.TENSORGET", "k", "META")
	expect(t, c, resp.BulkStrings("3"), "AI.TENSORGET", "k", "VALUES")
	expect(t, c, resp.BulkBytes(le32(int64(math.Float32bits(3)))), "AI.TENSORGET", "k", "BLOB")
	expect(t, c, resp.Arr(b("dtype"), b("FLOAT"), b("shape"), resp.Arr(), b("values"), resp.BulkStrings("3")), "AI.TENSORGET", "k", "META", "VALUES")

	expectOK(t, c, "AI.TENSORSET", "i", "INT64", "BLOB", le64(-5))
	expect(t, c, resp.Arr(b("dtype"), b("INT64"), b("shape"), resp.Arr(), b("blob"), resp.BulkBytes(le64(-5))), "AI.TENSORGET", "i")
	expect(t, c, resp.Ints(-5), "AI.TENSORGET", "i", "VALUES")

	expectOK(t, c, "AI.TENSORSET", "s", "STRING", "VALUES", "only")
	expect(t, c, resp.Arr(b("dtype"), b("STRING"), b("shape"), resp.Arr(), b("blob"), b("only\x00")), "AI.TENSORGET", "s")

	expectOK(t, c, "AI.TENSORSET", "s2", "STRING", "BLOB", "abc\x00")
	expect(t, c, resp.BulkStrings("abc"), "AI.TENSORGET", "s2", "VALUES")

	expectErr(t, c, errNumValues, "AI.TENSORSET", "k2", "FLOAT", "VALUES", "1", "2")
	expectErr(t, c, errDataLen, "AI.TENSORSET", "k2", "FLOAT", "BLOB", "\x00\x00")
	expectErr(t, c, errStringCount, "AI.TENSORSET", "k2", "STRING", "BLOB", "a\x00b\x00")
}

// TestTensorZeroFilled: no BLOB/VALUES allocates zeros ("" for STRING).
func TestTensorZeroFilled(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	for _, d := range allDtypes {
		tn := tensor{key: "z:" + d.name, dtype: d, dims: []int64{2, 3}, blob: zeroBlob(d, 6)}
		expectOK(t, c, "AI.TENSORSET", tn.key, d.name, "2", "3")
		expect(t, c, tn.metaBlob(), "AI.TENSORGET", tn.key)
		expect(t, c, tn.values(), "AI.TENSORGET", tn.key, "VALUES")
	}
	// explicit check of the zero spellings
	expect(t, c, resp.BulkStrings("0", "0", "0", "0", "0", "0"), "AI.TENSORGET", "z:FLOAT", "VALUES")
	expect(t, c, resp.BulkStrings("0", "0", "0", "0", "0", "0"), "AI.TENSORGET", "z:DOUBLE", "VALUES")
	expect(t, c, resp.Ints(0, 0, 0, 0, 0, 0), "AI.TENSORGET", "z:BOOL", "VALUES")
	expect(t, c, resp.BulkStrings("", "", "", "", "", ""), "AI.TENSORGET", "z:STRING", "VALUES")
	expect(t, c, resp.BulkString("\x00\x00\x00\x00\x00\x00"), "AI.TENSORGET", "z:STRING", "BLOB")
}

// TestTensorOverwrite: TENSORSET replaces an existing tensor, whatever its dtype/shape.
func TestTensorOverwrite(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "k", "DOUBLE", "2", "2", "VALUES", "1", "2", "3", "4")
	expectOK(t, c, "AI.TENSORSET", "k", "UINT8", "3", "BLOB", "abc")
	expect(t, c, resp.Arr(resp.BulkString("dtype"), resp.BulkString("UINT8"), resp.BulkString("shape"), resp.Ints(3), resp.BulkString("blob"), resp.BulkString("abc")), "AI.TENSORGET", "k")
	expect(t, c, resp.Int(1), "DBSIZE")
}

// errorCase is one failing TENSORSET with its exact error reply.
type errorCase struct {
	args []any // after the key
	want string
}

func tensorSetErrorCases() []errorCase {
	return []errorCase{
		{[]any{}, errArityTensorSet},
		{[]any{"FLOAT"}, errArityTensorSet},
		{[]any{"BADTYPE", "1"}, errDataType},
		{[]any{"UINT32", "1"}, errDataType},
		{[]any{"UINT64", "1"}, errDataType},
		{[]any{"FLOAT16", "1"}, errDataType},
		{[]any{"HALF", "1"}, errDataType},
		{[]any{"", "1"}, errDataType},
		{[]any{"FLOAT32", "1", "VALUES", "1"}, errDataType},
		{[]any{"FLOAT", "0"}, errShape},
		{[]any{"FLOAT", "-1"}, errShape},
		{[]any{"FLOAT", "abc"}, errShape},
		{[]any{"FLOAT", "1.5"}, errShape},
		{[]any{"FLOAT", "2", "0", "BLOB", ""}, errShape},
		{[]any{"FLOAT", "2", "x", "VALUES", "1", "2"}, errShape},
		{[]any{"FLOAT", "BLOB"}, errBlobArg},
		{[]any{"FLOAT", "1", "BLOB"}, errBlobArg},
		{[]any{"FLOAT", "1", "BLOB", "\x00\x00\x00\x00", "extra"}, errBlobArg},
		{[]any{"FLOAT", "2", "VALUES"}, errNumValues},
		{[]any{"FLOAT", "2", "VALUES", "1"}, errNumValues},
		{[]any{"FLOAT", "2", "VALUES", "1", "2", "3"}, errNumValues},
		{[]any{"FLOAT", "VALUES"}, errNumValues},
		{[]any{"FLOAT", "2", "BLOB", "abc"}, errDataLen},
		{[]any{"FLOAT", "2", "BLOB", ""}, errDataLen},
		{[]any{"FLOAT", "2", "BLOB", "123456789"}, errDataLen},
		{[]any{"INT16", "3", "BLOB", "12345"}, errDataLen},
		{[]any{"DOUBLE", "1", "BLOB", "1234"}, errDataLen},
		{[]any{"INT8", "1", "VALUES", "abc"}, errValue},
		{[]any{"INT32", "1", "VALUES", "1.5"}, errValue},
		{[]any{"INT32", "1", "VALUES", ""}, errValue},
		{[]any{"INT64", "1", "VALUES", "1e3"}, errValue},
		{[]any{"INT64", "1", "VALUES", "9223372036854775808"}, errValue},
		{[]any{"INT64", "1", "VALUES", "-9223372036854775809"}, errValue},
		{[]any{"FLOAT", "1", "VALUES", "abc"}, errValue},
		{[]any{"FLOAT", "1", "VALUES", ""}, errValue},
		{[]any{"DOUBLE", "1", "VALUES", "nan"}, errValue},
		{[]any{"DOUBLE", "2", "VALUES", "1", "1x"}, errValue},
		{[]any{"INT8", "2", "VALUES", "127", "128"}, errValue},
		{[]any{"INT8", "1", "VALUES", "-129"}, errValue},
		{[]any{"INT16", "1", "VALUES", "32768"}, errValue},
		{[]any{"INT16", "1", "VALUES", "-32769"}, errValue},
		{[]any{"INT32", "1", "VALUES", "2147483648"}, errValue},
		{[]any{"INT32", "1", "VALUES", "-2147483649"}, errValue},
		{[]any{"UINT8", "1", "VALUES", "256"}, errValue},
		{[]any{"UINT8", "1", "VALUES", "-1"}, errValue},
		{[]any{"UINT16", "1", "VALUES", "65536"}, errValue},
		{[]any{"UINT16", "1", "VALUES", "-1"}, errValue},
		{[]any{"BOOL", "2", "VALUES", "1", "2"}, errValue},
		{[]any{"BOOL", "1", "VALUES", "-1"}, errValue},
		{[]any{"BOOL", "1", "VALUES", "true"}, errValue},
		{[]any{"BOOL", "3", "BLOB", "\x00\x02\x01"}, errBoolElems},
		{[]any{"BOOL", "2", "BLOB", "\xff\x00"}, errBoolElems},
		{[]any{"STRING", "2", "BLOB", "a\x00b"}, errStringCount},
		{[]any{"STRING", "2", "BLOB", "a\x00"}, errStringCount},
		{[]any{"STRING", "2", "BLOB", "a\x00b\x00c\x00"}, errStringCount},
		{[]any{"STRING", "1", "BLOB", ""}, errStringCount},
		{[]any{"STRING", "2", "VALUES", "ok", "a\x00b"}, errCStringNul},
		{[]any{"STRING", "1", "VALUES", "a\x00\x00"}, errCStringNul},
	}
}

// TestTensorSetErrors checks every TENSORSET error text exactly, and that a
// failed TENSORSET neither creates a key nor changes an existing tensor.
func TestTensorSetErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	keep := tensor{key: "keep", dtype: dtypeByName("INT32"), dims: []int64{2}, blob: append(le32(7), le32(-7)...)}
	expectOK(t, c, keep.setArgs()...)
	for _, ec := range tensorSetErrorCases() {
		for _, key := range []string{"fresh", "keep"} {
			args := append([]any{"AI.TENSORSET", key}, ec.args...)
			expectErr(t, c, ec.want, args...)
		}
		expect(t, c, resp.Int(0), "EXISTS", "fresh")
	}
	checkTensor(t, c, keep, "after all failed TENSORSETs")

	// WrongArity uses the registered lower-case name whatever the client typed.
	expectErr(t, c, errArityTensorSet, "AI.TENSORSET")
	expectErr(t, c, errArityTensorSet, "ai.TensorSet", "k")
	expectErr(t, c, errArityTensorSet, "Ai.Tensorset", "k", "FLOAT")
	expectErr(t, c, errArityTensorGet, "AI.TENSORGET")
	expectErr(t, c, errArityTensorGet, "ai.TensorGet")
	expectErr(t, c, errArityTensorGet, "AI.TENSORGET", "keep", "META", "BLOB", "VALUES")
	expectErr(t, c, errArityTensorGet, "AI.TENSORGET", "missing", "META", "BLOB", "VALUES")
}

// TestTensorNegativeIntsAccepted: unlike RedisAI 1.2.7 (which rejected every
// negative INT* value, a bug its tests enshrined), negative values in range are accepted.
func TestTensorNegativeIntsAccepted(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "z", "INT8", "2", "VALUES", "-1", "-128")
	expect(t, c, resp.Ints(-1, -128), "AI.TENSORGET", "z", "VALUES")
	expect(t, c, resp.BulkString("\xff\x80"), "AI.TENSORGET", "z", "BLOB")
	expectOK(t, c, "AI.TENSORSET", "z16", "INT16", "2", "VALUES", "-32768", "-2")
	expect(t, c, resp.Ints(-32768, -2), "AI.TENSORGET", "z16", "VALUES")
	expectOK(t, c, "AI.TENSORSET", "z32", "INT32", "1", "VALUES", "-2147483648")
	expect(t, c, resp.Ints(-2147483648), "AI.TENSORGET", "z32", "VALUES")
	expectOK(t, c, "AI.TENSORSET", "z64", "INT64", "1", "VALUES", "-9223372036854775808")
	expect(t, c, resp.Ints(math.MinInt64), "AI.TENSORGET", "z64", "VALUES")
	expect(t, c, resp.BulkBytes(le64(math.MinInt64)), "AI.TENSORGET", "z64", "BLOB")
}

// TestTensorStringValues covers STRING-specific rules.
func TestTensorStringValues(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	// a value may end with one NUL, which is not part of the element
	expectOK(t, c, "AI.TENSORSET", "s", "STRING", "3", "VALUES", "a\x00", "bc", "\xff\xfe")
	expect(t, c, resp.BulkStrings("a", "bc", "\xff\xfe"), "AI.TENSORGET", "s", "VALUES")
	expect(t, c, b("a\x00bc\x00\xff\xfe\x00"), "AI.TENSORGET", "s", "BLOB")
	// BLOB elements may be empty
	expectOK(t, c, "AI.TENSORSET", "e", "STRING", "3", "BLOB", "\x00x\x00\x00")
	expect(t, c, resp.BulkStrings("", "x", ""), "AI.TENSORGET", "e", "VALUES")
	// An empty VALUES element underflowed in RedisAI; here it must either be
	// stored as "" or be refused with an ERR error, and the server must live.
	v := do(t, c, "AI.TENSORSET", "emptyval", "STRING", "2", "VALUES", "", "z")
	switch {
	case resp.Equal(v, resp.Simple("OK")):
		expect(t, c, resp.BulkStrings("", "z"), "AI.TENSORGET", "emptyval", "VALUES")
		expect(t, c, b("\x00z\x00"), "AI.TENSORGET", "emptyval", "BLOB")
	case v.Kind == resp.Error && strings.HasPrefix(v.Text(), "ERR "):
		t.Logf("empty STRING value refused with %v", v)
	default:
		t.Errorf("AI.TENSORSET emptyval STRING 2 VALUES \"\" z: got %v, want +OK or an ERR error", v)
	}
	expectPing(t, c)
	// a STRING blob holding arbitrary non-NUL bytes
	blob := []byte{}
	for i := 1; i < 256; i++ {
		blob = append(blob, byte(i))
	}
	blob = append(blob, 0)
	expectOK(t, c, "AI.TENSORSET", "all", "STRING", "1", "BLOB", blob)
	expect(t, c, resp.BulkBytes(blob), "AI.TENSORGET", "all", "BLOB")
	expect(t, c, resp.Arr(resp.BulkBytes(blob[:255])), "AI.TENSORGET", "all", "VALUES")
}

// TestTensorWrongType: a non-tensor key gives WRONGTYPE, checked before any argument parsing.
func TestTensorWrongType(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "SET", "str", "x")
	expect(t, c, resp.Int(1), "RPUSH", "list", "x")
	for _, key := range []string{"str", "list"} {
		expectErr(t, c, errWrongType, "AI.TENSORSET", key, "FLOAT", "1")
		expectErr(t, c, errWrongType, "AI.TENSORSET", key, "FLOAT", "1", "VALUES", "1")
		expectErr(t, c, errWrongType, "AI.TENSORSET", key, "BADTYPE", "1")
		expectErr(t, c, errWrongType, "AI.TENSORSET", key, "FLOAT", "-1")
		expectErr(t, c, errWrongType, "AI.TENSORGET", key)
		expectErr(t, c, errWrongType, "AI.TENSORGET", key, "META")
		expectErr(t, c, errWrongType, "AI.TENSORGET", key, "FOO")
		expectErr(t, c, errWrongType, "AI.TENSORGET", key, "BLOB", "VALUES")
	}
	// arity is checked before the key
	expectErr(t, c, errArityTensorSet, "AI.TENSORSET", "str", "FLOAT")
	expect(t, c, resp.BulkString("x"), "GET", "str")
	expect(t, c, resp.Simple("string"), "TYPE", "str")
	// and the other way round: string commands on a tensor key
	expectOK(t, c, "AI.TENSORSET", "tn", "FLOAT", "1")
	expectErr(t, c, errWrongType, "GET", "tn")
}

// TestTensorGetMissingKey: missing key error comes before format parsing.
func TestTensorGetMissingKey(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectErr(t, c, errEmptyKey, "AI.TENSORGET", "nokey")
	expectErr(t, c, errEmptyKey, "AI.TENSORGET", "nokey", "META")
	expectErr(t, c, errEmptyKey, "AI.TENSORGET", "nokey", "FOO")
	expectErr(t, c, errEmptyKey, "AI.TENSORGET", "nokey", "BLOB", "VALUES")
	expect(t, c, resp.Int(0), "EXISTS", "nokey")
}

// TestTensorBinaryKeys: key names are binary-safe (NUL, CR/LF, high bytes).
func TestTensorBinaryKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	keys := []string{"a\x00b", "a\x00c", "\x00", "a", "\xff\xfe\r\n", "sp ace"}
	for i, k := range keys {
		expectOK(t, c, "AI.TENSORSET", k, "INT8", "1", "VALUES", strconv.Itoa(i))
	}
	for i, k := range keys {
		expect(t, c, resp.Ints(int64(i)), "AI.TENSORGET", k, "VALUES")
	}
	expect(t, c, resp.Int(int64(len(keys))), "DBSIZE")
	expect(t, c, resp.Int(0), "EXISTS", "a\x00")
	got := do(t, c, "KEYS", "*")
	seen := map[string]bool{}
	for _, e := range got.Elems {
		seen[e.Text()] = true
	}
	for _, k := range keys {
		if !seen[k] {
			t.Errorf("KEYS * lacks %q: %v", k, got)
		}
	}
}

// TestTensorHugeShapes: shapes whose size overflows or exceeds
// proto-max-bulk-len (512 MB) are refused with an ERR error; the server survives.
func TestTensorHugeShapes(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	cases := [][]any{
		{"FLOAT", "4294967296", "4294967296"},
		{"FLOAT", "4294967296", "4294967296", "VALUES", "1"},
		{"INT8", "4294967296", "4294967296", "BLOB", ""},
		{"INT8", "4294967296", "4294967297", "BLOB", "x"},
		{"INT8", "9223372036854775807", "9223372036854775807"},
		{"INT8", "9223372036854775807", "2", "BLOB", ""},
		{"DOUBLE", "3037000500", "3037000500"},
		{"DOUBLE", "1152921504606846976"}, // 2^60 elements * 8 bytes = 2^63 bytes
		{"DOUBLE", "2305843009213693952", "BLOB", ""},
		{"STRING", "4294967296", "4294967296"},
		{"STRING", "4294967296", "4294967296", "BLOB", ""},
		{"FLOAT", "1000000", "1000000"},
		{"UINT8", "536870913"},
		{"FLOAT", "134217729"},
		{"DOUBLE", "67108865"},
		{"STRING", "536870913"},
		{"BOOL", "1024", "1024", "513"},
	}
	for _, a := range cases {
		args := append([]any{"AI.TENSORSET", "huge"}, a...)
		expectErrPrefix(t, c, "ERR ", args...)
		expectPing(t, c)
		expect(t, c, resp.Int(0), "EXISTS", "huge")
	}
	// and something ordinary still works afterwards
	expectOK(t, c, "AI.TENSORSET", "ok", "FLOAT", "2", "VALUES", "1", "2")
	expect(t, c, resp.BulkStrings("1", "2"), "AI.TENSORGET", "ok", "VALUES")
}

// TestTensorTransactionsAndScripts: TENSORSET/TENSORGET work inside MULTI and Lua.
func TestTensorTransactionsAndScripts(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	b := resp.BulkString
	expectOK(t, c, "MULTI")
	expect(t, c, resp.Simple("QUEUED"), "AI.TENSORSET", "m", "INT8", "2", "VALUES", "1", "2")
	expect(t, c, resp.Simple("QUEUED"), "AI.TENSORGET", "m", "META", "VALUES")
	expect(t, c, resp.Arr(resp.Simple("OK"), resp.Arr(b("dtype"), b("INT8"), b("shape"), resp.Ints(2), b("values"), resp.Ints(1, 2))), "EXEC")

	expect(t, c, resp.Arr(b("dtype"), b("INT8"), b("shape"), resp.Ints(2)),
		"EVAL", "return redis.call('AI.TENSORGET', KEYS[1], 'META')", "1", "m")
	expectOK(t, c, "EVAL", "return redis.call('AI.TENSORSET', KEYS[1], 'UINT8', '3', 'BLOB', ARGV[1])", "1", "l", "xyz")
	expect(t, c, b("xyz"), "AI.TENSORGET", "l", "BLOB")
}

// TestTensorCommandInfo checks what Redis reports about the two commands.
func TestTensorCommandInfo(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	got := do(t, c, "COMMAND", "INFO", "ai.tensorset", "ai.tensorget")
	if got.Kind != resp.Array || len(got.Elems) != 2 {
		t.Fatalf("COMMAND INFO: %v", got)
	}
	want := []struct {
		name  string
		flags []string
		not   []string
	}{
		{"ai.tensorset", []string{"write", "denyoom"}, []string{"readonly"}},
		{"ai.tensorget", []string{"readonly"}, []string{"write", "denyoom"}},
	}
	for i, w := range want {
		e := got.Elems[i]
		if e.Kind != resp.Array || len(e.Elems) < 6 {
			t.Errorf("COMMAND INFO %s: %v", w.name, e)
			continue
		}
		if e.Elems[0].Text() != w.name {
			t.Errorf("COMMAND INFO name = %v, want %q", e.Elems[0], w.name)
		}
		if !resp.Equal(e.Elems[1], resp.Int(-1)) {
			t.Errorf("%s arity = %v, want -1", w.name, e.Elems[1])
		}
		flags := map[string]bool{}
		for _, f := range e.Elems[2].Elems {
			flags[f.Text()] = true
		}
		for _, f := range w.flags {
			if !flags[f] {
				t.Errorf("%s flags %v lack %q", w.name, e.Elems[2], f)
			}
		}
		for _, f := range w.not {
			if flags[f] {
				t.Errorf("%s flags %v must not have %q", w.name, e.Elems[2], f)
			}
		}
		for j, want := range []int64{1, 1, 1} {
			if !resp.Equal(e.Elems[3+j], resp.Int(want)) {
				t.Errorf("%s first/last/step = %v %v %v, want 1 1 1", w.name, e.Elems[3], e.Elems[4], e.Elems[5])
				break
			}
		}
	}
	expect(t, c, resp.Arr(resp.BulkString("k")), "COMMAND", "GETKEYS", "AI.TENSORSET", "k", "FLOAT", "1")
}

// TestTensorKeyspaceOps: generic keyspace commands on tensor keys.
func TestTensorKeyspaceOps(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	ts := dataset("ks:", 70)
	setAll(t, c, ts)
	tn := ts[0]

	// RENAME (SmartRedis rename_tensor) moves the value
	renamed := tn
	renamed.key = "ks:renamed"
	expectOK(t, c, "RENAME", tn.key, renamed.key)
	expect(t, c, resp.Int(0), "EXISTS", tn.key)
	checkTensor(t, c, renamed, "after RENAME")
	// MOVE to db 1 and back through SWAPDB
	expect(t, c, resp.Int(1), "MOVE", renamed.key, "1")
	expect(t, c, resp.Int(0), "EXISTS", renamed.key)
	expectOK(t, c, "SWAPDB", "0", "1")
	checkTensor(t, c, renamed, "after MOVE + SWAPDB")
	expectOK(t, c, "SWAPDB", "0", "1")
	expect(t, c, resp.Int(0), "EXISTS", renamed.key)

	// SCAN TYPE uses the module type name
	got := do(t, c, "SCAN", "0", "COUNT", "1000", "TYPE", "AI_TENSOR")
	if got.Kind != resp.Array || len(got.Elems) != 2 || len(got.Elems[1].Elems) != len(ts)-1 {
		t.Errorf("SCAN 0 COUNT 1000 TYPE AI_TENSOR: got %v, want %d keys", got, len(ts)-1)
	}

	// expiry frees the value
	expect(t, c, resp.Int(1), "PEXPIRE", ts[1].key, "50")
	waitFor(t, 5*time.Second, "the tensor to expire", func() (bool, string) {
		v := do(t, c, "EXISTS", ts[1].key)
		return resp.Equal(v, resp.Int(0)), v.String()
	})
	// PERSIST keeps it
	expect(t, c, resp.Int(1), "EXPIRE", ts[2].key, "1000")
	expect(t, c, resp.Int(1), "PERSIST", ts[2].key)
	expect(t, c, resp.Int(-1), "TTL", ts[2].key)
	expect(t, c, resp.Int(1), "UNLINK", ts[3].key)
	expect(t, c, resp.Int(0), "EXISTS", ts[3].key)

	// FLUSHALL ASYNC frees every tensor (possibly off the main thread)
	expectOK(t, c, "FLUSHALL", "ASYNC")
	expect(t, c, resp.Int(0), "DBSIZE")
	setAll(t, c, ts)
	checkAll(t, c, ts, "after FLUSHALL ASYNC and re-set")
	expectOK(t, c, "FLUSHDB", "SYNC")
	expect(t, c, resp.Int(0), "DBSIZE")
	expectPing(t, c)
}

// TestTensorDenyOOM: TENSORSET is deny-oom, TENSORGET is not.
func TestTensorDenyOOM(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "AI.TENSORSET", "k", "INT8", "1", "VALUES", "3")
	expectOK(t, c, "CONFIG", "SET", "maxmemory", "1")
	expectErrPrefix(t, c, "OOM ", "AI.TENSORSET", "k2", "INT8", "1")
	expect(t, c, resp.Ints(3), "AI.TENSORGET", "k", "VALUES")
	expectOK(t, c, "CONFIG", "SET", "maxmemory", "0")
	expectOK(t, c, "AI.TENSORSET", "k2", "INT8", "1")
}

// TestTensorStringBound: proto-max-bulk-len holds what a few bytes of AI.TENSORSET could make large:
// a zero-filled STRING tensor counts 9 bytes an element (its NUL and its offset), and a STRING BLOB's
// element offsets count beside its data once they pass 1 MiB (a blob of NULs would otherwise make 9
// times its size).
func TestTensorStringBound(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	expectOK(t, c, "CONFIG", "SET", "proto-max-bulk-len", 2<<20)
	const tooLarge = "ERR tensor is larger than proto-max-bulk-len"
	expectOK(t, c, "AI.TENSORSET", "z", "STRING", (2<<20)/9)
	expectErr(t, c, tooLarge, "AI.TENSORSET", "z", "STRING", (2<<20)/9+1)
	expectOK(t, c, "AI.TENSORSET", "b", "STRING", 200000, "BLOB", make([]byte, 200000))
	expectErr(t, c, tooLarge, "AI.TENSORSET", "b", "STRING", 240000, "BLOB", make([]byte, 240000))
	expect(t, c, resp.Arr(resp.BulkString("dtype"), resp.BulkString("STRING"), resp.BulkString("shape"), resp.Ints(200000)),
		"AI.TENSORGET", "b", "META")
}
