package tests

// RESP3 (HELLO 3: redis-py's protocol=3, redis-cli -3): every AI.* reply must be well-formed RESP3
// and say what its RESP2 form says, with RESP3's own types where Redis gives them: a float's
// value as a double, an absent value as null.

import (
	"bytes"
	"testing"

	"gorai/tests/resp"
)

// asRESP2 is the RESP2 reply Redis sends where it sends v to a RESP3 client: a double as the bulk
// string of its text, a boolean as 0 or 1, a map as an array of its keys and values, a set as an
// array, a verbatim string as a bulk one without its format; nil is a nil bulk string (RESP2
// also has a nil array, which sameReply accepts for it).
func asRESP2(v resp.Value) resp.Value {
	switch v.Kind {
	case resp.Null:
		return resp.NilBulk()
	case resp.Double, resp.BigNumber:
		return resp.BulkBytes(v.Str)
	case resp.Verbatim:
		return resp.BulkBytes(v.Str[min(4, len(v.Str)):])
	case resp.BlobError:
		return resp.Err(string(v.Str))
	case resp.Boolean:
		return resp.Int(v.Int)
	case resp.Map, resp.Set, resp.Array:
		if v.Nil {
			return v
		}
		elems := make([]resp.Value, len(v.Elems))
		for i, e := range v.Elems {
			elems[i] = asRESP2(e)
		}
		return resp.Arr(elems...)
	}
	return v
}

// sameReply: v3 (read from a RESP3 connection) says what v2 (RESP2) says.
func sameReply(v2, v3 resp.Value) bool {
	if v3.Kind == resp.Null {
		return v2.Nil && (v2.Kind == resp.Bulk || v2.Kind == resp.Array)
	}
	if v3.Kind == resp.Map || v3.Kind == resp.Set || v3.Kind == resp.Array {
		if v2.Kind != resp.Array || len(v2.Elems) != len(v3.Elems) || v2.Nil != v3.Nil {
			return false
		}
		for i := range v3.Elems {
			if !sameReply(v2.Elems[i], v3.Elems[i]) {
				return false
			}
		}
		return true
	}
	return resp.Equal(v2, asRESP2(v3))
}

// countKinds counts the values of each wire kind in v, v itself included.
func countKinds(v resp.Value, counts map[resp.Kind]int) {
	counts[v.Kind]++
	for _, e := range v.Elems {
		countKinds(e, counts)
	}
}

func TestRESP3Replies(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c2, c3 := s.Conn(t), s.Conn(t)
	hello := do(t, c3, "HELLO", 3)
	if hello.Kind != resp.Map {
		t.Fatalf("HELLO 3: %v, want a map", hello)
	}

	ts := dataset("r3:", 3)
	setAll(t, c2, ts)
	expectOK(t, c2, "AI.MODELSTORE", "iris", "ONNX", "CPU", "TAG", "v1", "BLOB", redisaiFixture(t, "linear_iris.onnx"))
	expectOK(t, c2, "AI.TENSORSET", "iris:in", "FLOAT", 1, 4, "VALUES", 5.1, 3.5, 1.4, 0.2)
	expectOK(t, c2, "AI.MODELEXECUTE", "iris", "INPUTS", 1, "iris:in", "OUTPUTS", 1, "iris:out")
	expectOK(t, c2, "AI.SCRIPTSTORE", "sc", "CPU", "ENTRY_POINTS", 2, "add", "twice", "SOURCE", scEntrySource)
	expectOK(t, c2, "AI.SCRIPTEXECUTE", "sc", "twice", "INPUTS", 1, "r3:blob:FLOAT", "OUTPUTS", 1, "sc:out")

	// Commands that change nothing, so each runs on both connections in turn.
	cmds := [][]any{
		{"AI.MODELGET", "iris", "META"},
		{"AI.MODELGET", "iris", "META", "BLOB"},
		{"AI.SCRIPTGET", "sc", "META", "SOURCE"},
		{"AI.INFO", "iris"},
		{"AI.INFO", "iris", "LATENCY"},
		{"AI.INFO", "sc"},
		{"AI.INFO", "sc", "LATENCY"},
		{"AI._MODELSCAN"},
		{"AI._SCRIPTSCAN"},
		{"AI.CONFIG", "GET", "BACKENDSPATH"},
		{"AI.CONFIG", "GET", "MODEL_CHUNK_SIZE"},
		{"AI.TENSORGET", "iris:out", "META", "VALUES"},
		{"AI.TENSORGET", "sc:out", "VALUES"},
		{"AI.DAGEXECUTE_RO", "LOAD", 1, "iris:in", "|>", "AI.MODELEXECUTE", "iris", "INPUTS", 1, "iris:in", "OUTPUTS", 1, "o",
			"|>", "AI.TENSORGET", "o", "META", "VALUES", "|>", "AI.TENSORGET", "iris:in", "BLOB"},
		{"AI.DAGEXECUTE_RO", "LOAD", 1, "iris:in", "|>", "AI.TENSORGET", "nothere", "VALUES"},
		{"AI.TENSORGET", "nothere", "VALUES"},
		{"AI.MODELGET", "nothere", "META"},
		{"AI.INFO", "nothere"},
		{"AI.TENSORGET", "iris:in", "NOTAFORMAT"},
	}
	for _, tn := range ts {
		cmds = append(cmds, []any{"AI.TENSORGET", tn.key, "META", "VALUES"}, []any{"AI.TENSORGET", tn.key, "VALUES"},
			[]any{"AI.TENSORGET", tn.key, "META", "BLOB"})
	}

	kinds := map[resp.Kind]int{}
	for _, cmd := range cmds {
		v2, v3 := do(t, c2, cmd...), do(t, c3, cmd...)
		if !sameReply(v2, v3) {
			t.Errorf("%s:\nRESP2 %v\nRESP3 %v", fmtArgs(cmd), v2, v3)
		}
		countKinds(v3, kinds)
	}
	if kinds[resp.Double] == 0 || kinds[resp.Null] == 0 {
		t.Errorf("RESP3 replies held %d doubles and %d nulls; want both (floats' values, an unset BACKENDSPATH)",
			kinds[resp.Double], kinds[resp.Null])
	}

	// A float's value is RESP3's double, in every place values are replied.
	want := resp.Arr(resp.Dbl("0.10000000149011612"), resp.Dbl("-2.5"), resp.Dbl("inf"))
	expectOK(t, c3, "AI.TENSORSET", "f", "FLOAT", 3, "VALUES", 0.1, -2.5, "inf")
	expect(t, c3, want, "AI.TENSORGET", "f", "VALUES")
	expect(t, c3, resp.Arr(want), "AI.DAGEXECUTE_RO", "LOAD", 1, "f", "|>", "AI.TENSORGET", "f", "VALUES")
	expect(t, c3, resp.Nil3(), "AI.CONFIG", "GET", "BACKENDSPATH")

	// Writes reply the same on either protocol.
	for _, cmd := range [][]any{
		{"AI.TENSORSET", "w", "INT8", 2, "VALUES", 1, 2},
		{"AI.MODELEXECUTE", "iris", "INPUTS", 1, "iris:in", "OUTPUTS", 1, "w:out"},
		{"AI.DAGEXECUTE", "LOAD", 1, "iris:in", "PERSIST", 1, "w:dag", "|>",
			"AI.MODELEXECUTE", "iris", "INPUTS", 1, "iris:in", "OUTPUTS", 1, "w:dag", "|>", "AI.TENSORGET", "w:dag", "VALUES"},
		{"AI.TENSORSET", "w", "FLOAT16", 2, "VALUES", 1, 2},
		{"AI.MODELDEL", "nothere"},
	} {
		v2, v3 := do(t, c2, cmd...), do(t, c3, cmd...)
		if !sameReply(v2, v3) {
			t.Errorf("%s:\nRESP2 %v\nRESP3 %v", fmtArgs(cmd), v2, v3)
		}
	}
	if v := do(t, c3, "AI.TENSORGET", "w:dag", "BLOB"); !bytes.Equal(v.Str, do(t, c2, "AI.TENSORGET", "w:out", "BLOB").Str) {
		t.Errorf("the DAG's persisted output differs from the run's: %v", v)
	}
	expectPing(t, c3)
}
