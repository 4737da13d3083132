package tensor

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The DUMP payloads RedisAI wrote, shipped in the repository (testdata/redisai/README.md says where from).
const fixtureDumps = "../testdata/redisai/dumps"

// rdbLen is Redis' length encoding in its shortest form (rdbSaveLen), written independently of the C writer so
// each checks the other.
func rdbLen(x uint64) []byte {
	switch {
	case x < 1<<6:
		return []byte{byte(x)}
	case x < 1<<14:
		return []byte{0x40 | byte(x>>8), byte(x)}
	case x <= math.MaxUint32:
		return binary.BigEndian.AppendUint32([]byte{0x80}, uint32(x))
	default:
		return binary.BigEndian.AppendUint64([]byte{0x81}, x)
	}
}

// rdbValue builds a module value opcode by opcode.
type rdbValue []byte

func (v rdbValue) uint(xs ...uint64) rdbValue {
	for _, x := range xs {
		v = append(append(v, 0x02), rdbLen(x)...)
	}
	return v
}

func (v rdbValue) int(xs ...int64) rdbValue {
	for _, x := range xs {
		v = v.uint(uint64(x))
	}
	return v
}

func (v rdbValue) str(b []byte) rdbValue {
	return append(append(append(v, 0x05), rdbLen(uint64(len(b)))...), b...)
}

// raw appends bytes as they are, for encodings the builder has no method for.
func (v rdbValue) raw(hexBytes string) rdbValue {
	b, err := hex.DecodeString(strings.ReplaceAll(hexBytes, " ", ""))
	if err != nil {
		panic(err)
	}
	return append(v, b...)
}

func (v rdbValue) eof() []byte { return append(v, 0x00) }

// v4Head is the current encoding up to the data.
func v4Head(dt DType, shape ...int64) rdbValue {
	return rdbValue{}.uint(uint64(dt.Code), uint64(dt.Bits)).int(int64(len(shape))).int(shape...)
}

// v4 is a whole module value in the current encoding.
func v4(dt DType, shape []int64, data []byte, offsets ...uint64) []byte {
	return v4Head(dt, shape...).str(data).uint(offsets...).eof()
}

// v0 is a whole module value in the layout of encver 0..3, with row-major strides.
func v0(dt DType, shape []int64, data []byte) []byte {
	strides := make([]int64, len(shape))
	stride := int64(1)
	for i := len(shape) - 1; i >= 0; i-- {
		strides[i] = stride
		stride *= shape[i]
	}
	return v0Strided(dt, shape, strides, 0, data)
}

func v0Strided(dt DType, shape, strides []int64, byteOffset uint64, data []byte) []byte {
	return rdbValue{}.uint(1, 0, uint64(dt.Bits), uint64(dt.Code), 1, uint64(len(shape))).
		int(shape...).int(strides...).uint(byteOffset).str(data).eof()
}

func le32(xs ...int32) []byte {
	var b []byte
	for _, x := range xs {
		b = binary.LittleEndian.AppendUint32(b, uint32(x))
	}
	return b
}

// mustDecode decodes value and checks that the C writer encodes the tensor as want.
func mustDecode(t *testing.T, value []byte, encver int, want []byte) {
	t.Helper()
	p, err := DecodeRDB(value, encver)
	if err != nil {
		t.Fatalf("DecodeRDB: %v", err)
	}
	defer FromPointer(p).Release()
	if got := EncodeRDB(p); !bytes.Equal(got, want) {
		t.Fatalf("re-encoded as\n%x\nwant\n%x", got, want)
	}
}

// dumpValue splits a DUMP payload of a module type: type byte 7, the 64-bit module id whose low 10 bits are the
// encver, the module value, then the RDB version (2 bytes) and CRC64 (8 bytes).
func dumpValue(t testing.TB, payload []byte) ([]byte, int) {
	t.Helper()
	if len(payload) < 1+9+10 || payload[0] != 0x07 || payload[1] != 0x81 {
		t.Fatalf("not a module DUMP payload: %x", payload)
	}
	id := binary.BigEndian.Uint64(payload[2:10])
	return payload[10 : len(payload)-10], int(id & 0x3ff)
}

func readFixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(fixtureDumps, "tensor_*.dump"))
	if len(paths) == 0 {
		t.Fatalf("no RedisAI DUMP fixtures (tensor_*.dump) in %s: they are part of the repository", fixtureDumps)
	}
	fixtures := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fixtures[filepath.Base(p)] = b
	}
	return fixtures
}

func TestRDBFixtures(t *testing.T) {
	fixtures := readFixtures(t)
	int32Value := v4(Int32, []int64{2, 1}, le32(1, 2))
	stringValue := v4(String, []int64{2}, []byte("str_val1\x00str_val2\x00"), 0, 9)
	for name, payload := range fixtures {
		t.Run(name, func(t *testing.T) {
			value, encver := dumpValue(t, payload)
			want := int32Value
			if strings.HasPrefix(name, "tensor_string_") {
				want = stringValue
			}
			mustDecode(t, value, encver, want)
			// RedisAI's own v4 bytes are exactly what gorai writes.
			if encver == RDBEncVer && !bytes.Equal(value, want) {
				t.Fatalf("fixture value %x differs from gorai's encoding %x", value, want)
			}
		})
	}
}

type rdbCase struct {
	name    string
	dt      DType
	shape   []int64
	data    []byte
	offsets []uint64
}

func roundTripCases() []rdbCase {
	big := make([]byte, 20000) // a data length needing the 32-bit length form
	for i := range big {
		big[i] = byte(i)
	}
	f32, f64 := make([]byte, 12), make([]byte, 16)
	binary.LittleEndian.PutUint32(f32, math.Float32bits(-1.5))
	binary.LittleEndian.PutUint64(f64[8:], math.Float64bits(math.Inf(1)))
	return []rdbCase{
		{"float", Float, []int64{3}, f32, nil},
		{"double", Double, []int64{1, 2}, f64, nil},
		{"int8", Int8, []int64{4}, []byte{0x80, 0xff, 0, 0x7f}, nil},
		{"int16", Int16, []int64{2}, []byte{0, 0x80, 0xff, 0x7f}, nil},
		{"int32", Int32, []int64{2, 1}, le32(math.MinInt32, math.MaxInt32), nil},
		{"int64", Int64, []int64{1}, bytes.Repeat([]byte{0xfe}, 8), nil},
		{"uint8", UInt8, []int64{70}, bytes.Repeat([]byte{7}, 70), nil}, // dim and length in the 14-bit form
		{"uint16", UInt16, []int64{1, 1, 2}, []byte{1, 2, 3, 4}, nil},
		{"bool", Bool, []int64{3}, []byte{1, 0, 1}, nil},
		{"string", String, []int64{3}, []byte("a\x00\x00bc\x00"), []uint64{0, 2, 3}},
		{"large int8", Int8, []int64{100, 200}, big, nil},
		{"scalar float", Float, nil, f32[:4], nil},
		{"scalar double", Double, nil, f64[8:], nil},
		{"scalar int8", Int8, nil, []byte{0xff}, nil},
		{"scalar int16", Int16, nil, []byte{1, 2}, nil},
		{"scalar int32", Int32, nil, le32(-7), nil},
		{"scalar int64", Int64, nil, make([]byte, 8), nil},
		{"scalar uint8", UInt8, nil, []byte{200}, nil},
		{"scalar uint16", UInt16, nil, []byte{0xff, 0xff}, nil},
		{"scalar bool", Bool, nil, []byte{1}, nil},
		{"scalar string", String, nil, []byte("hello\x00"), []uint64{0}},
	}
}

func TestRDBRoundTrip(t *testing.T) {
	for _, c := range roundTripCases() {
		t.Run(c.name, func(t *testing.T) {
			value := v4(c.dt, c.shape, c.data, c.offsets...)
			mustDecode(t, value, RDBEncVer, value)
			if !c.dt.IsString() {
				for encver := 0; encver < RDBEncVer; encver++ {
					mustDecode(t, v0(c.dt, c.shape, c.data), encver, value)
				}
			}
		})
	}
}

// Strings as Redis writes them when it can encode them; the encodings below are from a real Redis 7.0 DUMP of
// a string key holding the same bytes.
func TestRDBStringEncodings(t *testing.T) {
	zeros := make([]byte, 24)
	bools := bytes.Repeat([]byte{1, 0}, 40)
	cases := []struct {
		name      string
		dt        DType
		shape     []int64
		encoded   string
		plainData []byte
	}{
		{"int8 encoding", Int8, []int64{2}, "c0 0c", []byte("12")},
		{"negative int8 encoding", Int8, []int64{2}, "c0 fb", []byte("-5")},
		{"int16 encoding", UInt8, []int64{5}, "c1 3930", []byte("12345")},
		{"int32 encoding", Int8, []int64{7}, "c2 87d61200", []byte("1234567")},
		{"negative int32 encoding", Int8, []int64{7}, "c2 6079feff", []byte("-100000")},
		{"lzf", Float, []int64{2, 3}, "c3 09 18 010000e00b00010000", zeros},
		{"lzf 14-bit length", Bool, []int64{80}, "c3 0a 4050 02010001e042010101 00", bools},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			value := v4Head(c.dt, c.shape...).raw("05 " + c.encoded).eof()
			mustDecode(t, value, RDBEncVer, v4(c.dt, c.shape, c.plainData))
		})
	}
}

func TestRDBCorrupt(t *testing.T) {
	str2 := []byte("ab\x00c\x00")
	ones := func(n int) []byte { return bytes.Repeat([]byte{1}, n) }
	noEOF := slices.Clip(v4Head(Int8, 1).str(ones(1))) // clipped: the cases append to it
	cases := []struct {
		name   string
		value  []byte
		encver int
		want   string
	}{
		{"encver 5", v4(Int8, []int64{1}, ones(1)), 5, "version"},
		{"encver -1", v4(Int8, []int64{1}, ones(1)), -1, "version"},
		{"encver beyond C int", v4(Int8, []int64{1}, ones(1)), 1 << 32, "version"},
		{"empty", nil, RDBEncVer, "short read"},
		{"code 3", v4(DType{3, 32}, []int64{1}, ones(4)), RDBEncVer, "data type"},
		{"code 256 (would truncate to INT)", rdbValue{}.uint(256, 32).int(1, 1).str(ones(4)).eof(), RDBEncVer, "data type"},
		{"int 12 bits", v4(DType{0, 12}, []int64{1}, ones(2)), RDBEncVer, "data type"},
		{"uint32", v4(DType{1, 32}, []int64{1}, ones(4)), RDBEncVer, "data type"},
		{"float16", v4(DType{2, 16}, []int64{1}, ones(2)), RDBEncVer, "data type"},
		{"bool 16 bits", v4(DType{6, 16}, []int64{1}, ones(2)), RDBEncVer, "data type"},
		{"string 16 bits", v4(DType{7, 16}, []int64{1}, []byte("a\x00"), 0), RDBEncVer, "data type"},
		{"negative ndim", rdbValue{}.uint(0, 8).int(-1).str(ones(1)).eof(), RDBEncVer, "rank"},
		{"ndim 257", rdbValue{}.uint(0, 8).int(257).str(ones(1)).eof(), RDBEncVer, "rank"},
		{"negative dim", v4(Int8, []int64{-1}, ones(1)), RDBEncVer, "shape"},
		{"dims overflow", v4(Int8, []int64{1 << 62, 4}, ones(4)), RDBEncVer, "shape"},
		// AI.TENSORSET refuses these, so an AOF rewrite could not write them back.
		{"zero dim", v4(Float, []int64{0, 3}, nil), RDBEncVer, "shape"},
		{"zero dim string", v4(String, []int64{2, 0}, nil), RDBEncVer, "shape"},
		{"zero dim before an overflow", v4(Int8, []int64{0, 1 << 62, 4}, nil), RDBEncVer, "shape"},
		{"old layout zero dim", v0(Int8, []int64{2, 0}, nil), 3, "shape"},
		{"string with a NUL inside an element", v4(String, []int64{2}, []byte("a\x00b\x00c\x00"), 0, 2), RDBEncVer, "offsets"},
		{"string with more NULs than elements", v4(String, []int64{1}, []byte("a\x00\x00"), 0), RDBEncVer, "offsets"},
		{"data short", v4(Int32, []int64{2}, ones(7)), RDBEncVer, "data length"},
		{"data long", v4(Int32, []int64{2}, ones(9)), RDBEncVer, "data length"},
		{"bytes overflow", v4(Int64, []int64{1 << 61}, ones(8)), RDBEncVer, "data length"},
		{"bool 2 in last byte", v4(Bool, []int64{3}, []byte{1, 0, 2}), RDBEncVer, "BOOL"},
		{"string first offset not 0", v4(String, []int64{2}, str2, 1, 3), RDBEncVer, "offsets"},
		{"string offsets not increasing", v4(String, []int64{2}, str2, 0, 0), RDBEncVer, "offsets"},
		{"string offset inside element", v4(String, []int64{2}, str2, 0, 1), RDBEncVer, "offsets"},
		{"string offset past data", v4(String, []int64{2}, str2, 0, 9), RDBEncVer, "offsets"},
		{"string offset huge", v4(String, []int64{2}, str2, 0, math.MaxUint64), RDBEncVer, "offsets"},
		{"string not NUL-terminated", v4(String, []int64{2}, []byte("ab\x00c"), 0, 3), RDBEncVer, "offsets"},
		{"string more elements than bytes", v4(String, []int64{100}, []byte("a\x00")), RDBEncVer, "offsets"},
		{"string empty data", v4(String, []int64{1}, nil, 0), RDBEncVer, "offsets"},
		{"string offsets missing", v4(String, []int64{2}, str2, 0), RDBEncVer, "short read"},
		{"old layout string", v0(String, []int64{1}, []byte("a\x00")), 3, "data type"},
		{"old layout lanes 2", rdbValue{}.uint(1, 0, 8, 0, 2, 1, 1, 1, 0).str(ones(1)).eof(), 0, "lanes"},
		{"old layout on GPU", rdbValue{}.uint(2, 0, 8, 0, 1, 1, 1, 1, 0).str(ones(1)).eof(), 1, "CPU"},
		{"old layout ndim 257", rdbValue{}.uint(1, 0, 8, 0, 1, 257).str(ones(1)).eof(), 2, "rank"},
		{"old layout dim over int64", v0Strided(Int8, []int64{-1}, []int64{1}, 0, ones(1)), 3, "shape"},
		{"old layout column-major", v0Strided(Int8, []int64{2, 3}, []int64{1, 2}, 0, ones(6)), 3, "strides"},
		{"old layout byte offset", v0Strided(Int8, []int64{2}, []int64{1}, 4, ones(2)), 0, "byte offset"},
		{"old layout data short", v0(Int16, []int64{2, 2}, ones(6)), 1, "data length"},
		{"string where uint expected", rdbValue{}.str(ones(1)).eof(), RDBEncVer, "short read"},
		{"uint where string expected", v4Head(Int8, 1).uint(1).eof(), RDBEncVer, "short read"},
		{"unknown length form 0x82", v4Head(Int8, 1).raw("05 82 00000001 01").eof(), RDBEncVer, "short read"},
		{"unknown string encoding", v4Head(Int8, 2).raw("05 c4 00").eof(), RDBEncVer, "short read"},
		{"string past end", v4Head(Int8, 4).raw("05 04 0101"), RDBEncVer, "short read"},
		{"lzf reference before start", v4Head(Int8, 4).raw("05 c3 02 04 2000").eof(), RDBEncVer, "short read"},
		{"lzf output short", v4Head(Int8, 4).raw("05 c3 04 04 02010101").eof(), RDBEncVer, "short read"},
		{"lzf output long", v4Head(Int8, 2).raw("05 c3 04 02 02010101").eof(), RDBEncVer, "short read"},
		{"lzf length absurd", v4Head(Int8, 1).raw("05 c3 02 81 0000010000000000 0001").eof(), RDBEncVer, "short read"},
		{"lzf zero length", v4Head(Int8, 1).raw("05 c3 01 00 00").eof(), RDBEncVer, "short read"},
		{"no EOF opcode", noEOF, RDBEncVer, "EOF"},
		{"another opcode for EOF", append(noEOF, 0x02), RDBEncVer, "EOF"},
		{"bytes after EOF", append(noEOF, 0, 0), RDBEncVer, "EOF"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecodeRDB(c.value, c.encver)
			if err == nil {
				FromPointer(p).Release()
				t.Fatalf("decoded %x", c.value)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to mention %q", err, c.want)
			}
		})
	}
}

// Every strict prefix of a valid value is a short read, not a crash or a tensor.
func TestRDBTruncated(t *testing.T) {
	type encoded struct {
		value  []byte
		encver int
	}
	values := []encoded{{v0(Int32, []int64{2, 1}, le32(1, 2)), 0}}
	for _, c := range roundTripCases() {
		values = append(values, encoded{v4(c.dt, c.shape, c.data, c.offsets...), RDBEncVer})
	}
	for _, v := range values {
		for n := range len(v.value) {
			if p, err := DecodeRDB(v.value[:n], v.encver); err == nil {
				FromPointer(p).Release()
				t.Fatalf("decoded a %d-byte prefix of %x", n, v.value)
			}
		}
	}
}

func FuzzTensorRDBLoad(f *testing.F) {
	for _, payload := range readFixtures(f) {
		value, encver := dumpValue(f, payload)
		f.Add(value, uint8(encver))
	}
	for _, c := range roundTripCases() {
		if len(c.data) < 100 {
			f.Add(v4(c.dt, c.shape, c.data, c.offsets...), uint8(RDBEncVer))
		}
	}
	f.Add(v4Head(Bool, 80).raw("05 c3 0a 4050 02010001e042010101").eof(), uint8(RDBEncVer))
	f.Fuzz(func(t *testing.T, value []byte, encver uint8) {
		p, err := DecodeRDB(value, int(encver%(RDBEncVer+2)))
		if err != nil {
			return
		}
		defer FromPointer(p).Release()
		// The encoding holds every field of the tensor, so equal encodings mean equal tensors.
		encoded := EncodeRDB(p)
		q, err := DecodeRDB(encoded, RDBEncVer)
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", encoded, err)
		}
		defer FromPointer(q).Release()
		if again := EncodeRDB(q); !bytes.Equal(again, encoded) {
			t.Fatalf("decoded %x to a different tensor, encoded %x", encoded, again)
		}
		// An AOF rewrite writes the tensor as AI.TENSORSET ... BLOB, which must rebuild the same tensor.
		tensor := FromPointer(p)
		rebuilt, err := FromBlob(tensor.DType(), tensor.Shape(), tensor.Data())
		if err != nil {
			t.Fatalf("loaded %x, which AI.TENSORSET refuses: %v", encoded, err)
		}
		defer rebuilt.Release()
		if fromBlob := EncodeRDB(rebuilt.Pointer()); !bytes.Equal(fromBlob, encoded) {
			t.Fatalf("AI.TENSORSET rebuilds %x as %x", encoded, fromBlob)
		}
	})
}
