package resp_test

import (
	"bufio"
	"strings"
	"testing"

	"gorai/tests/redistest"
	"gorai/tests/resp"
)

func TestParseWireTypes(t *testing.T) {
	in := "+OK\r\n-ERR bad thing\r\n-WRONGTYPE x\r\n:42\r\n:-7\r\n$3\r\na\x00b\r\n$0\r\n\r\n$-1\r\n*-1\r\n*0\r\n*2\r\n$5\r\ndtype\r\n*2\r\n:2\r\n:3\r\n"
	want := []resp.Value{
		resp.Simple("OK"), resp.Err("ERR bad thing"), resp.Err("WRONGTYPE x"), resp.Int(42), resp.Int(-7),
		resp.BulkString("a\x00b"), resp.BulkString(""), resp.NilBulk(), resp.NilArray(), resp.Arr(),
		resp.Arr(resp.BulkString("dtype"), resp.Ints(2, 3)),
	}
	expectReads(t, in, want)
	// kinds matter
	if resp.Equal(resp.Simple("FLOAT"), resp.BulkString("FLOAT")) {
		t.Error("simple string equals bulk string")
	}
	if resp.Equal(resp.NilBulk(), resp.BulkString("")) || resp.Equal(resp.NilArray(), resp.Arr()) {
		t.Error("nil equals empty")
	}
	if resp.Equal(resp.Err("ERR x"), resp.Err("x")) {
		t.Error("ERR prefix ignored")
	}
}

func TestAgainstPlainRedis(t *testing.T) {
	s := redistest.Start(t, redistest.Options{NoModule: true})
	c := s.Conn(t)
	check := func(want resp.Value, args ...any) {
		t.Helper()
		v, err := c.Do(args...)
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Equal(v, want) {
			t.Errorf("%v: got %v want %v", args, v, want)
		}
	}
	big := strings.Repeat("x\x00\r\n", 300000)
	check(resp.Simple("OK"), "SET", []byte("k\x00"), big)
	check(resp.BulkString(big), "GET", "k\x00")
	check(resp.NilBulk(), "GET", "missing")
	check(resp.Int(1), "INCR", "n")
	check(resp.Int(-4), "INCRBY", "n", -5)
	check(resp.Err("ERR wrong number of arguments for 'get' command"), "GET")
	check(resp.Int(2), "RPUSH", "l", "a", "b")
	check(resp.BulkStrings("a", "b"), "LRANGE", "l", 0, -1)
	check(resp.Arr(), "LRANGE", "nol", 0, -1)
	vs, err := c.Pipeline([]any{"SET", "p", "1"}, []any{"GET", "p"}, []any{"NOPE"})
	if err != nil || len(vs) != 3 || !resp.Equal(vs[1], resp.BulkString("1")) || vs[2].Kind != resp.Error {
		t.Errorf("pipeline: %v %v", vs, err)
	}
	// ReceiveDiscard keeps kinds and lengths
	if err := c.Send("GET", "k\x00"); err != nil {
		t.Fatal(err)
	}
	if err := c.Send("LRANGE", "l", 0, -1); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	v, err := c.ReceiveDiscard()
	if err != nil || v.Kind != resp.Bulk || v.Int != int64(len(big)) || v.Str != nil {
		t.Errorf("ReceiveDiscard bulk: %v %v", v, err)
	}
	v, err = c.ReceiveDiscard()
	if err != nil || v.Kind != resp.Array || len(v.Elems) != 2 || v.Elems[0].Int != 1 {
		t.Errorf("ReceiveDiscard array: %v %v", v, err)
	}
}

// expectReads reads in's replies, one for each of want, which they must equal.
func expectReads(t *testing.T, in string, want []resp.Value) {
	t.Helper()
	r := bufio.NewReader(strings.NewReader(in))
	for i, w := range want {
		v, err := resp.ReadValue(r)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if !resp.Equal(v, w) {
			t.Errorf("%d: got %v want %v", i, v, w)
		}
	}
}

func TestParseRESP3WireTypes(t *testing.T) {
	in := "_\r\n,0.10000000149011612\r\n,inf\r\n#t\r\n#f\r\n(12345678901234567890\r\n=7\r\ntxt:abc\r\n!5\r\nERR x\r\n" +
		"%2\r\n+a\r\n:1\r\n$1\r\nb\r\n_\r\n~2\r\n:1\r\n:2\r\n>2\r\n$7\r\nmessage\r\n*0\r\n"
	want := []resp.Value{
		resp.Nil3(), resp.Dbl("0.10000000149011612"), resp.Dbl("inf"),
		{Kind: resp.Boolean, Int: 1}, {Kind: resp.Boolean},
		{Kind: resp.BigNumber, Str: []byte("12345678901234567890")},
		{Kind: resp.Verbatim, Str: []byte("txt:abc")},
		{Kind: resp.BlobError, Str: []byte("ERR x")},
		{Kind: resp.Map, Elems: []resp.Value{resp.Simple("a"), resp.Int(1), resp.BulkString("b"), resp.Nil3()}},
		{Kind: resp.Set, Elems: []resp.Value{resp.Int(1), resp.Int(2)}},
		{Kind: resp.Push, Elems: []resp.Value{resp.BulkString("message"), resp.Arr()}},
	}
	expectReads(t, in, want)
	if resp.Equal(resp.Nil3(), resp.NilBulk()) || resp.Equal(resp.Dbl("1"), resp.BulkString("1")) {
		t.Error("a RESP3 kind equals its RESP2 look-alike")
	}
	for _, bad := range []string{"#x\r\n", "_x\r\n", ",\r\n", "%-1\r\n", "!-1\r\n"} {
		if v, err := resp.ReadValue(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q parsed as %v", bad, v)
		}
	}
}
