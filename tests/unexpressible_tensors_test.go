package tests

// Tensor payloads that AI.TENSORSET could not express. An AOF rewrite writes every tensor back as
// AI.TENSORSET key TYPE dims... BLOB data, so a loaded tensor that the command refuses would vanish at the
// next restart from that AOF: the loader refuses such payloads instead.

import (
	"fmt"
	"testing"

	"gorai/tests/resp"
)

type tensorPayload struct {
	name string
	dump string
}

// tensorV4 starts a tensor in the current encoding (4): dtype code and bits, rank, dims.
func tensorV4(code, bits uint64, dims ...int64) *payload {
	p := newPayload("AI_TENSOR", 4).Uint(code).Uint(bits).Int(int64(len(dims)))
	for _, d := range dims {
		p.Int(d)
	}
	return p
}

// int8OldLayout is an INT8 tensor in the layout of encodings 0 to 3 (device, bits, code, lanes, dims,
// row-major strides, byte offset, data).
func int8OldLayout(encver uint64, dims []int64, data string) string {
	p := newPayload("AI_TENSOR", encver).Uint(1).Uint(0).Uint(8).Uint(0).Uint(1).Uint(uint64(len(dims)))
	for _, d := range dims {
		p.Int(d)
	}
	stride := int64(1)
	strides := make([]int64, len(dims))
	for i := len(dims) - 1; i >= 0; i-- {
		strides[i] = stride
		stride *= dims[i]
	}
	for _, s := range strides {
		p.Int(s)
	}
	return p.Uint(0).Str(data).Seal()
}

// unexpressibleTensors are well-formed payloads of tensors that AI.TENSORSET refuses.
func unexpressibleTensors() []tensorPayload {
	ps := []tensorPayload{
		{"zero dim", tensorV4(2, 32, 0, 3).Str("").Seal()},
		{"zero dim STRING", tensorV4(7, 8, 2, 0).Str("").Seal()},
		// Element 1 is "b\x00c": TENSORSET counts three NULs for two elements.
		{"STRING element holding a NUL", tensorV4(7, 8, 2).Str("a\x00b\x00c\x00").Uint(0).Uint(2).Seal()},
		{"STRING with more NULs than elements", tensorV4(7, 8, 1).Str("a\x00\x00").Uint(0).Seal()},
	}
	// Encodings 0 to 3 have no STRING tensors, so only the zero dim applies to them.
	for encver := uint64(0); encver < 4; encver++ {
		ps = append(ps, tensorPayload{fmt.Sprintf("zero dim, encoding %d", encver), int8OldLayout(encver, []int64{2, 0}, "")})
	}
	return ps
}

// expressibleEdgeTensors are payloads near those edges that AI.TENSORSET can express, so they load.
func expressibleEdgeTensors() []tensorPayload {
	return []tensorPayload{
		{"STRING with empty elements", tensorV4(7, 8, 4).Str("\x00a\x00\x00bc\x00").Uint(0).Uint(1).Uint(3).Uint(4).Seal()},
		{"STRING scalar", tensorV4(7, 8).Str("x\x00").Uint(0).Seal()},
		{"dims of 1", tensorV4(0, 8, 1, 1).Str("\x05").Seal()},
		{"dims of 1, encoding 0", int8OldLayout(0, []int64{1, 2}, "\x01\x02")},
	}
}

func TestRestoreRefusesUnexpressibleTensors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	c := s.Conn(t)
	for _, p := range unexpressibleTensors() {
		key := "bad:" + p.name
		expectErr(t, c, "ERR Bad data format", "RESTORE", key, "0", p.dump)
		expect(t, c, resp.Int(0), "EXISTS", key)
	}
	// The payloads are built right: their expressible neighbours load.
	for _, p := range expressibleEdgeTensors() {
		expectOK(t, c, "RESTORE", "good:"+p.name, "0", p.dump)
	}
	expectPing(t, c)
}

// Whatever RESTORE accepts comes back identical from an AOF rewritten without an RDB preamble, which holds
// nothing but AI.TENSORSET commands.
func TestRestoredTensorsSurviveAOFRewrite(t *testing.T) {
	t.Parallel()
	s := startServer(t, "appendonly yes", "aof-use-rdb-preamble no")
	c := s.Conn(t)
	restored := map[string]resp.Value{}
	for _, p := range append(unexpressibleTensors(), expressibleEdgeTensors()...) {
		if do(t, c, "RESTORE", p.name, "0", p.dump).IsError() {
			continue
		}
		restored[p.name] = getMetaBlob(t, c, p.name)
	}
	expect(t, c, resp.Simple("Background append only file rewriting started"), "BGREWRITEAOF")
	waitAOFRewrite(t, c)
	c = restart(t, s)
	for key, want := range restored {
		if got := getMetaBlob(t, c, key); !resp.Equal(got, want) {
			t.Errorf("%q after AOF rewrite + restart\n   got: %v\n  want: %v", key, got, want)
		}
	}
}
