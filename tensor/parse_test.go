package tensor

import (
	"bytes"
	"encoding/binary"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// args splits a line on spaces, with \0 for a NUL.
func args(line string) [][]byte {
	var a [][]byte
	for _, f := range strings.Split(line, " ") {
		a = append(a, []byte(strings.ReplaceAll(f, `\0`, "\x00")))
	}
	return a
}

func f32s(vs ...float32) string {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return string(b)
}

// What AI.TENSORSET's arguments after the key make: dtype, shape and data.
func TestParse(t *testing.T) {
	cases := []struct {
		line, dtype string
		shape       []int64
		data        string
	}{
		{"FLOAT 2 VALUES 1 0.1", "FLOAT", []int64{2}, f32s(1, 0.1)},
		{"float 2 VALUES 1 2", "FLOAT", []int64{2}, f32s(1, 2)},
		{"DOUBLE 1 VALUES 0.1", "DOUBLE", []int64{1}, string(binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1)))},
		{"DOUBLE 1 VALUES 0x10", "DOUBLE", []int64{1}, string(binary.LittleEndian.AppendUint64(nil, math.Float64bits(16)))},
		{"FLOAT 2 VALUES inf -Infinity", "FLOAT", []int64{2}, f32s(float32(math.Inf(1)), float32(math.Inf(-1)))},
		{"INT8 2 VALUES -1 -128", "INT8", []int64{2}, "\xff\x80"},
		{"INT16 2 VALUES -32768 32767", "INT16", []int64{2}, "\x00\x80\xff\x7f"},
		{"INT32 1 VALUES -2147483648", "INT32", []int64{1}, "\x00\x00\x00\x80"},
		{"INT64 1 VALUES -9223372036854775808", "INT64", []int64{1}, "\x00\x00\x00\x00\x00\x00\x00\x80"},
		{"UINT8 2 VALUES 0 255", "UINT8", []int64{2}, "\x00\xff"},
		{"UINT16 1 VALUES 65535", "UINT16", []int64{1}, "\xff\xff"},
		{"BOOL 2 VALUES 1 0", "BOOL", []int64{2}, "\x01\x00"},
		{`STRING 2 VALUES ab c\0`, "STRING", []int64{2}, "ab\x00c\x00"},
		{`STRING 2 BLOB ab\0\0`, "STRING", []int64{2}, "ab\x00\x00"},
		{"STRING 3", "STRING", []int64{3}, "\x00\x00\x00"},
		{"INT32 2 1", "INT32", []int64{2, 1}, "\x00\x00\x00\x00\x00\x00\x00\x00"},
		{"FLOAT VALUES 3", "FLOAT", nil, f32s(3)},
		{"UINT8 BLOB x", "UINT8", nil, "x"},
		{"INT8 1 blob x", "INT8", []int64{1}, "x"},
		{"INT8 1 1 1 VaLuEs 7", "INT8", []int64{1, 1, 1}, "\x07"},
	}
	for _, c := range cases {
		got, err := Parse(args(c.line), func() int64 { return 1 << 20 })
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if got.DType().Name() != c.dtype || !slices.Equal(got.Shape(), c.shape) || string(got.Data()) != c.data {
			t.Errorf("%s: %s %v %q, want %s %v %q", c.line, got.DType().Name(), got.Shape(), got.Data(), c.dtype, c.shape, c.data)
		}
		if got.RefCount() != 1 {
			t.Errorf("%s: %d references", c.line, got.RefCount())
		}
		got.Release()
	}
}

// Every error of AI.TENSORSET's arguments, with RedisAI's text.
func TestParseErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"FLOAT16 1", "ERR invalid data type"},
		{"UINT32 1", "ERR invalid data type"},
		{"FLOAT 0", "ERR invalid or negative value found in tensor shape"},
		{"FLOAT -1 VALUES 1", "ERR invalid or negative value found in tensor shape"},
		{"FLOAT 2x", "ERR invalid or negative value found in tensor shape"},
		{"FLOAT 01", "ERR invalid or negative value found in tensor shape"},
		{"FLOAT +1", "ERR invalid or negative value found in tensor shape"},
		{"FLOAT 1 BLOB", "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"},
		{"FLOAT 1 BLOB aaaa bbbb", "ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"},
		{"FLOAT 2 VALUES 1", "ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"FLOAT 1 VALUES 1 2", "ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"FLOAT 1 VALUES", "ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"FLOAT 1 VALUES x", "ERR invalid value"},
		{"FLOAT 1 VALUES nan", "ERR invalid value"},
		{"FLOAT 1 VALUES \t1", "ERR invalid value"},
		{"FLOAT 1 VALUES 1\t", "ERR invalid value"},
		{`FLOAT 1 VALUES 1\0`, "ERR invalid value"},
		{"FLOAT 1 VALUES ", "ERR invalid value"},
		{"DOUBLE 1 VALUES 1e400", "ERR invalid value"},
		{"DOUBLE 1 VALUES 1e-400", "ERR invalid value"}, // underflow to zero, refused as by Redis' string2d
		{"INT8 1 VALUES 128", "ERR invalid value"},
		{"INT8 1 VALUES -129", "ERR invalid value"},
		{"INT16 1 VALUES 32768", "ERR invalid value"},
		{"INT32 1 VALUES 2147483648", "ERR invalid value"},
		{"INT64 1 VALUES 9223372036854775808", "ERR invalid value"},
		{"INT32 1 VALUES 1.5", "ERR invalid value"},
		{"INT32 1 VALUES 0x10", "ERR invalid value"},
		{"UINT8 1 VALUES 256", "ERR invalid value"},
		{"UINT8 1 VALUES -1", "ERR invalid value"},
		{"UINT16 1 VALUES 65536", "ERR invalid value"},
		{"BOOL 2 VALUES 1 2", "ERR invalid value"},
		{`STRING 1 VALUES a\0b`, "ERR C-string value contains null character"},
		{`STRING 1 VALUES a\0\0`, "ERR C-string value contains null character"},
		{"FLOAT 2 BLOB aaaa", "ERR data length does not match tensor shape and type"},
		{"INT16 1 BLOB aaa", "ERR data length does not match tensor shape and type"},
		{"FLOAT 1 BLOB ", "ERR data length does not match tensor shape and type"},
		{"BOOL 2 BLOB \\0\x02", "ERR BOOL tensor elements must be 0 or 1"},
		{`STRING 2 BLOB a\0b`, "ERR Number of string elements in data blob does not match tensor length"},
		{`STRING 1 BLOB a\0b\0`, "ERR Number of string elements in data blob does not match tensor length"},
		{"STRING 1 BLOB ", "ERR Number of string elements in data blob does not match tensor length"},
		{"FLOAT 4294967296 4294967296 BLOB x", "ERR tensor is too large"},
		{"FLOAT 4294967296 4294967296 VALUES 1", "ERR tensor is too large"},
		{"FLOAT 1024 1024 1024", "ERR tensor is larger than proto-max-bulk-len"},
		{"INT8 4294967296 4294967296 4294967296", "ERR tensor is larger than proto-max-bulk-len"},
		{"INT8" + strings.Repeat(" 1", 257), "ERR tensor has more than 256 dimensions"},
	}
	for _, c := range cases {
		got, err := Parse(args(c.line), func() int64 { return 1 << 20 })
		if err == nil {
			t.Errorf("%s: parsed to %s %v", c.line, got.DType().Name(), got.Shape())
			got.Release()
			continue
		}
		if err.Error() != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, err, c.want)
		}
	}
}

// The bound is asked for only when the arguments need it, and holds what a few bytes could make
// large: a zero-filled tensor (a STRING element is 9 bytes, its NUL and its offset), a STRING BLOB's
// offsets past 1 MiB (a blob of NULs would make 9 times its size).
func TestParseLimit(t *testing.T) {
	nuls := func(n int) string { return "STRING " + strconv.Itoa(n) + " BLOB " + strings.Repeat(`\0`, n) }
	for _, c := range []struct {
		line  string
		limit int64
		asks  int
		ok    bool
	}{
		{"INT8 16", 16, 1, true}, {"INT8 17", 16, 1, false}, {"STRING 1", 16, 1, true}, {"STRING 2", 16, 1, false},
		{"INT16 8", 16, 1, true}, {"INT8 2 VALUES 1 2", 16, 0, true}, {"INT8 1 BLOB x", 16, 0, true}, {"NOPE 1", 16, 0, false},
		{nuls(1 << 17), 16, 0, true},                 // 1 MiB of offsets: no bound asked
		{nuls(1<<17 + 1), 9 * (1<<17 + 1), 1, true},  // just fits
		{nuls(1<<17 + 1), 9*(1<<17+1) - 1, 1, false}, // one byte short
	} {
		asked := 0
		got, err := Parse(args(c.line), func() int64 { asked++; return c.limit })
		if asked != c.asks || (err == nil) != c.ok {
			t.Errorf("%.40s (limit %d): asked %d times, error %v", c.line, c.limit, asked, err)
		}
		if err == nil {
			got.Release()
		} else if c.asks > 0 && c.line != "NOPE 1" && err.Error() != "ERR tensor is larger than proto-max-bulk-len" {
			t.Errorf("%.40s: %v", c.line, err)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, c := range []struct {
		line string
		want Format
		err  string
	}{
		{"", FormatMeta | FormatBlob, ""},
		{"META", FormatMeta, ""},
		{"meta blob", FormatMeta | FormatBlob, ""},
		{"VALUES META", FormatMeta | FormatValues, ""},
		{"BLOB", FormatBlob, ""},
		{"VALUES VALUES", FormatValues, ""},
		{"BLOB VALUES", 0, "ERR both BLOB and VALUES specified"},
		{"VALUES BLOB", 0, "ERR both BLOB and VALUES specified"},
		{"BAD", 0, "ERR unsupported data format"},
		{"META BAD", 0, "ERR unsupported data format"},
		{"METAX", 0, "ERR unsupported data format"},
	} {
		var a [][]byte
		if c.line != "" {
			a = args(c.line)
		}
		got, err := ParseFormat(a)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%q: %v, want %s", c.line, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %d %v, want %d", c.line, got, err, c.want)
		}
	}
}

// Redis' string2ll: the integers of shapes and VALUES (C) and of every count the commands parsed in
// Go read (Go); both implementations are checked.
func TestParseInt(t *testing.T) {
	for s, want := range map[string]int64{"0": 0, "1": 1, "-1": -1, "9223372036854775807": math.MaxInt64,
		"-9223372036854775808": math.MinInt64, "10": 10} {
		if got, ok := ParseInt([]byte(s)); !ok || got != want {
			t.Errorf("%q: %d %v", s, got, ok)
		}
		if got, ok := cParseInt([]byte(s)); !ok || got != want {
			t.Errorf("%q in C: %d %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-", "+1", "01", "-0", " 1", "1 ", "1x", "9223372036854775808", "-9223372036854775809",
		"99999999999999999999", "123456789012345678901", "1\x00", "0x1"} {
		if got, ok := ParseInt([]byte(s)); ok {
			t.Errorf("%q parsed to %d", s, got)
		}
		if got, ok := cParseInt([]byte(s)); ok {
			t.Errorf("%q parsed to %d in C", s, got)
		}
	}
}

// The dtype table of parse.c and Go's DType.Name agree, both ways.
func TestDTypeNamesInStep(t *testing.T) {
	for _, d := range dtypeNames {
		got, ok := ParseDType([]byte(strings.ToLower(d.name)))
		if !ok || got != d.dtype {
			t.Errorf("%s: parsed to %v %v", d.name, got, ok)
		}
		if c := cDTypeName(d.dtype); c != d.name {
			t.Errorf("%s: C names it %q", d.name, c)
		}
	}
	if _, ok := ParseDType([]byte("FLOAT16")); ok {
		t.Error("FLOAT16 parsed")
	}
}

// FuzzParseIntInStep: Go's ParseInt and parse.c's agree on every input.
func FuzzParseIntInStep(f *testing.F) {
	for _, s := range []string{"0", "-1", "01", "9223372036854775807", "-9223372036854775808", "18446744073709551616", "+1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, gok := ParseInt([]byte(s))
		c, cok := cParseInt([]byte(s))
		if gok != cok || gok && g != c {
			t.Fatalf("%q: Go %d %v, C %d %v", s, g, gok, c, cok)
		}
	})
}

// FuzzParse: no input may crash the parser, and any tensor it builds is consistent.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"FLOAT 2 VALUES 1 2", "STRING 2 BLOB a\x00b\x00", "BOOL 1 BLOB \x01", "INT8 3", "UINT16 VALUES 7",
		"STRING 2 VALUES a\x00 ", "DOUBLE 1 VALUES 1e-310"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a := bytes.Split([]byte(line), []byte(" "))
		parsed, err := Parse(a, func() int64 { return 1 << 20 })
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ERR ") || len(err.Error()) < 8 {
				t.Fatalf("error %q", err)
			}
			return
		}
		defer parsed.Release()
		n := 1
		for _, d := range parsed.Shape() {
			n *= int(d)
		}
		if n != parsed.Len() {
			t.Fatalf("len %d for shape %v", parsed.Len(), parsed.Shape())
		}
		dt := parsed.DType()
		if dt.Name() == "" {
			t.Fatalf("unknown dtype %v", dt)
		}
		if dt.IsString() {
			if bytes.Count(parsed.Data(), []byte{0}) != n {
				t.Fatalf("string tensor with %d elements: %q", n, parsed.Data())
			}
			for i := 0; i < n; i++ {
				parsed.Str(i) // every offset inside the data, up to a NUL
			}
		} else if len(parsed.Data()) != n*dt.ElemSize() {
			t.Fatalf("%d bytes for %d elements of %s", len(parsed.Data()), n, dt.Name())
		}
		// What BLOB gives back, BLOB takes again.
		again, err := FromBlob(dt, parsed.Shape(), parsed.Data())
		if err != nil {
			t.Fatalf("blob of a parsed tensor refused: %v", err)
		}
		if !bytes.Equal(again.Data(), parsed.Data()) {
			t.Fatalf("blob %q read back as %q", parsed.Data(), again.Data())
		}
		again.Release()
	})
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"", "META", "META BLOB", "VALUES META", "BLOB VALUES", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var a [][]byte
		if line != "" {
			a = bytes.Split([]byte(line), []byte(" "))
		}
		got, err := ParseFormat(a)
		if err == nil && (got&(FormatBlob|FormatValues) == FormatBlob|FormatValues || got == 0 || got&^(FormatMeta|FormatBlob|FormatValues) != 0) {
			t.Fatalf("%q gave %d", line, got)
		}
	})
}

// TestMadeTensorsKeepTheRankLimit: every way a tensor is made (a backend's output, a batch's slice)
// refuses more than MaxDims dimensions, as AI.TENSORSET and the RDB loader do: one stored past it
// could not be loaded again, nor replicated.
func TestMadeTensorsKeepTheRankLimit(t *testing.T) {
	ok, over := make([]int64, MaxDims), make([]int64, MaxDims+1)
	for i := range over {
		over[i] = 1
	}
	for i := range ok {
		ok[i] = 1
	}
	const want = "tensor has more than 256 dimensions"
	if _, err := Zeros(Float, over, 1<<20); err == nil || err.Error() != want {
		t.Errorf("Zeros of %d dims: %v, want %q", len(over), err, want)
	}
	if _, err := FromBlob(Float, over, make([]byte, 4)); err == nil || err.Error() != want {
		t.Errorf("FromBlob of %d dims: %v, want %q", len(over), err, want)
	}
	if _, err := FromValues(Float, over, [][]byte{[]byte("1")}); err == nil || err.Error() != want {
		t.Errorf("FromValues of %d dims: %v, want %q", len(over), err, want)
	}
	z, err := Zeros(Float, ok, 1<<20)
	if err != nil {
		t.Fatalf("Zeros of %d dims: %v", len(ok), err)
	}
	z.Release()
}
