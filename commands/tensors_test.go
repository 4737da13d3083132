package commands

import (
	"bytes"
	"strings"
	"testing"

	"gorai/tensor"
)

func TestTensorSetAndGet(t *testing.T) {
	cases := []struct{ set, get, want string }{
		{"AI.TENSORSET t FLOAT 2 VALUES 1 0.1", "AI.TENSORGET t META VALUES",
			`*6 $"dtype" $"FLOAT" $"shape" *1 :2 $"values" *2 ,1 ,0.10000000149011612`},
		{"AI.TENSORSET t DOUBLE 1 VALUES 0.1", "AI.TENSORGET t VALUES", `*1 ,0.10000000000000001`},
		{"AI.TENSORSET t float 2 VALUES 1 2", "AI.TENSORGET t", `*6 $"dtype" $"FLOAT" $"shape" *1 :2 $"blob" $"\x00\x00\x80?\x00\x00\x00@"`},
		{"AI.TENSORSET t INT8 2 VALUES -1 -128", "AI.TENSORGET t VALUES", `*2 :-1 :-128`},
		{"AI.TENSORSET t INT16 2 VALUES -32768 32767", "AI.TENSORGET t VALUES", `*2 :-32768 :32767`},
		{"AI.TENSORSET t INT32 1 VALUES -2147483648", "AI.TENSORGET t VALUES", `*1 :-2147483648`},
		{"AI.TENSORSET t INT64 1 VALUES -9223372036854775808", "AI.TENSORGET t VALUES", `*1 :-9223372036854775808`},
		{"AI.TENSORSET t UINT8 2 VALUES 0 255", "AI.TENSORGET t BLOB", `$"\x00\xff"`},
		{"AI.TENSORSET t UINT16 1 VALUES 65535", "AI.TENSORGET t VALUES", `*1 :65535`},
		{"AI.TENSORSET t BOOL 2 VALUES 1 0", "AI.TENSORGET t VALUES META", `*6 $"dtype" $"BOOL" $"shape" *1 :2 $"values" *2 :1 :0`},
		{"AI.TENSORSET t STRING 2 VALUES ab c\\0", "AI.TENSORGET t BLOB", `$"ab\x00c\x00"`},
		{"AI.TENSORSET t STRING 2 BLOB ab\\0\\0", "AI.TENSORGET t VALUES", `*2 $"ab" $""`},
		{"AI.TENSORSET t STRING 3", "AI.TENSORGET t VALUES", `*3 $"" $"" $""`},
		{"AI.TENSORSET t INT32 2 1", "AI.TENSORGET t META", `*4 $"dtype" $"INT32" $"shape" *2 :2 :1`},
		{"AI.TENSORSET t INT32 2 1", "AI.TENSORGET t BLOB", `$"\x00\x00\x00\x00\x00\x00\x00\x00"`},
		{"AI.TENSORSET t FLOAT VALUES 3", "AI.TENSORGET t META VALUES", `*6 $"dtype" $"FLOAT" $"shape" *0 $"values" *1 ,3`},
		{"AI.TENSORSET t UINT8 BLOB x", "AI.TENSORGET t BLOB META", `*6 $"dtype" $"UINT8" $"shape" *0 $"blob" $"x"`},
		{"AI.TENSORSET t INT8 1 blob x", "AI.TENSORGET t meta blob", `*6 $"dtype" $"INT8" $"shape" *1 :1 $"blob" $"x"`},
	}
	for _, c := range cases {
		ks := newFakeKeyspace()
		if got := run(ks, TensorSet, c.set); got != "+OK" {
			t.Errorf("%s: %s", c.set, got)
		}
		if ks.replicated != 1 {
			t.Errorf("%s: replicated %d times", c.set, ks.replicated)
		}
		if got := run(ks, TensorGet, c.get); got != c.want {
			t.Errorf("%s; %s:\n got %s\nwant %s", c.set, c.get, got, c.want)
		}
		ks.release()
	}
}

// Every error of AI.TENSORSET, with the key holding a tensor before: it must stay unchanged.
func TestTensorSetErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"AI.TENSORSET t FLOAT", "-ARITY"},
		{"AI.TENSORSET", "-ARITY"},
		{"AI.TENSORSET s FLOAT 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"AI.TENSORSET s BAD 1", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"AI.TENSORSET t FLOAT16 1", "-ERR invalid data type"},
		{"AI.TENSORSET t UINT32 1", "-ERR invalid data type"},
		{"AI.TENSORSET t FLOAT 0", "-ERR invalid or negative value found in tensor shape"},
		{"AI.TENSORSET t FLOAT -1 VALUES 1", "-ERR invalid or negative value found in tensor shape"},
		{"AI.TENSORSET t FLOAT 2x", "-ERR invalid or negative value found in tensor shape"},
		{"AI.TENSORSET t FLOAT 01", "-ERR invalid or negative value found in tensor shape"},
		{"AI.TENSORSET t FLOAT +1", "-ERR invalid or negative value found in tensor shape"},
		{"AI.TENSORSET t FLOAT 1 BLOB", "-ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"},
		{"AI.TENSORSET t FLOAT 1 BLOB aaaa bbbb", "-ERR a single binary string should come after the BLOB argument in 'AI.TENSORSET' command"},
		{"AI.TENSORSET t FLOAT 2 VALUES 1", "-ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"AI.TENSORSET t FLOAT 1 VALUES 1 2", "-ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"AI.TENSORSET t FLOAT 1 VALUES", "-ERR wrong number of values was given in 'AI.TENSORSET' command"},
		{"AI.TENSORSET t FLOAT 1 VALUES x", "-ERR invalid value"},
		{"AI.TENSORSET t FLOAT 1 VALUES nan", "-ERR invalid value"},
		{"AI.TENSORSET t FLOAT 1 VALUES \t1", "-ERR invalid value"},
		{"AI.TENSORSET t DOUBLE 1 VALUES 1e400", "-ERR invalid value"},
		{"AI.TENSORSET t INT8 1 VALUES 128", "-ERR invalid value"},
		{"AI.TENSORSET t INT8 1 VALUES -129", "-ERR invalid value"},
		{"AI.TENSORSET t INT16 1 VALUES 32768", "-ERR invalid value"},
		{"AI.TENSORSET t INT32 1 VALUES 2147483648", "-ERR invalid value"},
		{"AI.TENSORSET t INT64 1 VALUES 9223372036854775808", "-ERR invalid value"},
		{"AI.TENSORSET t INT32 1 VALUES 1.5", "-ERR invalid value"},
		{"AI.TENSORSET t UINT8 1 VALUES 256", "-ERR invalid value"},
		{"AI.TENSORSET t UINT8 1 VALUES -1", "-ERR invalid value"},
		{"AI.TENSORSET t UINT16 1 VALUES 65536", "-ERR invalid value"},
		{"AI.TENSORSET t BOOL 2 VALUES 1 2", "-ERR invalid value"},
		{"AI.TENSORSET t STRING 1 VALUES a\\0b", "-ERR C-string value contains null character"},
		{"AI.TENSORSET t STRING 1 VALUES a\\0\\0", "-ERR C-string value contains null character"},
		{"AI.TENSORSET t FLOAT 2 BLOB aaaa", "-ERR data length does not match tensor shape and type"},
		{"AI.TENSORSET t INT16 1 BLOB aaa", "-ERR data length does not match tensor shape and type"},
		{"AI.TENSORSET t BOOL 2 BLOB \\0\x02", "-ERR BOOL tensor elements must be 0 or 1"},
		{"AI.TENSORSET t STRING 2 BLOB a\\0b", "-ERR Number of string elements in data blob does not match tensor length"},
		{"AI.TENSORSET t STRING 1 BLOB a\\0b\\0", "-ERR Number of string elements in data blob does not match tensor length"},
		{"AI.TENSORSET t STRING 1 BLOB ", "-ERR Number of string elements in data blob does not match tensor length"},
		{"AI.TENSORSET t FLOAT 4294967296 4294967296 BLOB x", "-ERR tensor is too large"},
		{"AI.TENSORSET t FLOAT 1024 1024 1024", "-ERR tensor is larger than proto-max-bulk-len"},
		{"AI.TENSORSET t INT8 4294967296 4294967296 4294967296", "-ERR tensor is larger than proto-max-bulk-len"},
	}
	cases = append(cases, struct{ line, want string }{
		"AI.TENSORSET t INT8" + strings.Repeat(" 1", 257), "-ERR tensor has more than 256 dimensions"})
	for _, c := range cases {
		ks := newFakeKeyspace()
		ks.other["s"] = true
		run(ks, TensorSet, "AI.TENSORSET t INT8 1 VALUES 7")
		ks.replicated = 0
		if got := run(ks, TensorSet, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		if ks.replicated != 0 {
			t.Errorf("%s: replicated although refused", c.line)
		}
		if got := run(ks, TensorGet, "AI.TENSORGET t VALUES"); got != "*1 :7" {
			t.Errorf("%s: the tensor changed to %s", c.line, got)
		}
		ks.release()
	}
}

func TestTensorGetErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{"AI.TENSORGET", "-ARITY"},
		{"AI.TENSORGET t META BLOB VALUES", "-ARITY"},
		{"AI.TENSORGET missing", "-ERR tensor key is empty or in a different shard"},
		{"AI.TENSORGET missing BAD", "-ERR tensor key is empty or in a different shard"},
		{"AI.TENSORGET s", "-WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"AI.TENSORGET t BAD", "-ERR unsupported data format"},
		{"AI.TENSORGET t META BAD", "-ERR unsupported data format"},
		{"AI.TENSORGET t BLOB VALUES", "-ERR both BLOB and VALUES specified"},
		{"AI.TENSORGET t VALUES BLOB", "-ERR both BLOB and VALUES specified"},
	}
	for _, c := range cases {
		ks := newFakeKeyspace()
		ks.other["s"] = true
		run(ks, TensorSet, "AI.TENSORSET t INT8 1 VALUES 7")
		if got := run(ks, TensorGet, c.line); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.line, got, c.want)
		}
		ks.release()
	}
}

func TestBinaryKeys(t *testing.T) {
	ks := newFakeKeyspace()
	defer ks.release()
	run(ks, TensorSet, "AI.TENSORSET {a}\\0x INT8 1 VALUES 1")
	run(ks, TensorSet, "AI.TENSORSET {a}\\0y INT8 1 VALUES 2")
	if got := run(ks, TensorGet, "AI.TENSORGET {a}\\0y VALUES"); got != "*1 :2" {
		t.Errorf("got %s", got)
	}
}

// FuzzParseTensor: no input may crash the parser, and any tensor it builds is consistent.
func FuzzParseTensor(f *testing.F) {
	for _, s := range []string{"FLOAT 2 VALUES 1 2", "STRING 2 BLOB a\x00b\x00", "BOOL 1 BLOB \x01", "INT8 3", "UINT16 VALUES 7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		a := bytes.Split([]byte(line), []byte(" "))
		parsed, err := ParseTensor(a, func() int64 { return 1 << 20 })
		if err != nil {
			if !bytes.HasPrefix([]byte(err.Error()), []byte("ERR ")) {
				t.Fatalf("error without ERR: %q", err)
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
			return
		}
		if len(parsed.Data()) != n*dt.ElemSize() {
			t.Fatalf("%d bytes for %d elements of %s", len(parsed.Data()), n, dt.Name())
		}
		// What BLOB gives back, BLOB takes again.
		again, err := tensor.FromBlob(dt, parsed.Shape(), parsed.Data())
		if err != nil {
			t.Fatalf("blob of a parsed tensor refused: %v", err)
		}
		again.Release()
	})
}

func FuzzParseTensorFormat(f *testing.F) {
	for _, s := range []string{"", "META", "META BLOB", "VALUES META", "BLOB VALUES", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var a [][]byte
		if line != "" {
			a = bytes.Split([]byte(line), []byte(" "))
		}
		f, err := ParseTensorFormat(a)
		if err == nil && (f.Blob && f.Values || !f.Meta && !f.Blob && !f.Values) {
			t.Fatalf("%q gave %+v", line, f)
		}
	})
}
