package effects

import (
	"bytes"
	"encoding/binary"
	"testing"
	"unsafe"

	"gorai/tensor"
)

func newTensor(t *testing.T) tensor.Tensor {
	t.Helper()
	tt, err := tensor.FromBlob(tensor.UInt8, []int64{3}, []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

func le(v int64) []byte { return binary.LittleEndian.AppendUint64(nil, uint64(v)) }

// join concatenates ops and operands into the program expected.
func join(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch p := p.(type) {
		case byte:
			b = append(b, p)
		case rune:
			b = append(b, byte(p))
		case int64:
			b = append(b, le(p)...)
		case int:
			b = append(b, le(int64(p))...)
		case string:
			b = append(b, p...)
		}
	}
	return b
}

// The program's layout is what gorai_apply reads (module.h).
func TestProgramLayout(t *testing.T) {
	var e Effects
	tt := newTensor(t)
	e.Key(2, nil)
	e.Key(-1, []byte("out"))
	e.SetTensor(tt)
	e.ReplicateTensor(tt)
	e.Delete()
	e.ReplicateVerbatim()
	e.Array(3)
	e.Simple("NA")
	e.Error("ERR x")
	e.Bulk("hi")
	e.BulkBytes([]byte{0})
	e.Int(-5)
	e.Null()
	e.OK()
	p := int64(uintptr(tt.Pointer()))
	want := join(OpKeyArg, 2, OpBytes, 3, "out", OpKeyBytes, OpSetTensor, p, OpReplicateTensor, p, OpDelete,
		OpReplicateVerbatim, OpReplyArray, 3, OpReplySimple, 2, "NA\x00", OpReplyError, 5, "ERR x\x00", OpReplyBulk, 2, "hi",
		OpReplyBulk, 1, "\x00", OpReplyInt, -5, OpReplyNull, OpReplyOK)
	if got := e.Finish(); !bytes.Equal(got, want) {
		t.Fatalf("program\n got %q\nwant %q", got, want)
	}
	e.Reset() // the queued write took the reference: the keyspace would own it now
	if len(e.Finish()) != 0 || tt.RefCount() != 1 {
		t.Fatalf("after Reset: %d bytes, %d references", len(e.Finish()), tt.RefCount())
	}
	tt.Release()
}

// A failing command changes nothing: its queued writes are released and only the error is left.
func TestFailDiscardsWrites(t *testing.T) {
	var e Effects
	tt := newTensor(t)
	tt.Retain() // the test's own
	released := 0
	e.Key(1, nil)
	e.SetTensor(tt)
	e.Key(1, nil)
	var model byte
	e.SetStored(OpSetModel, unsafe.Pointer(&model), func() { released++ })
	e.Fail("ERR no")
	if got, want := e.Finish(), join(OpReplyError, 6, "ERR no\x00"); !bytes.Equal(got, want) {
		t.Fatalf("program %q, want %q", got, want)
	}
	if tt.RefCount() != 1 || released != 1 {
		t.Fatalf("tensor references %d (want the test's 1), model releases %d", tt.RefCount(), released)
	}
	e.FailArity()
	if got := e.Finish(); !bytes.Equal(got, []byte{OpReplyArity}) {
		t.Fatalf("program %q", got)
	}
	tt.Release()
}

// A reply that refers to a tensor holds it until the reply is sent: the finished program drops the
// reference after its reply.
func TestTensorReplyHeld(t *testing.T) {
	var e Effects
	tt := newTensor(t)
	e.Tensor(tt, tensor.FormatMeta|tensor.FormatValues)
	if tt.RefCount() != 2 {
		t.Fatalf("%d references while the reply refers to it", tt.RefCount())
	}
	p := int64(uintptr(tt.Pointer()))
	want := join(OpReplyTensor, p, int64(tensor.FormatMeta|tensor.FormatValues), OpReleaseTensor, p)
	if got := e.Finish(); !bytes.Equal(got, want) {
		t.Fatalf("program %q, want %q", got, want)
	}
	e.Reset()
	if tt.RefCount() != 2 {
		t.Fatalf("%d references after Reset: the program's release was done by Go too", tt.RefCount())
	}
	tt.Release() // what applying OpReleaseTensor does
	tt.Release()
}

// A reply discarded before it is finished (a failure, a panic) drops its held references itself.
func TestTensorReplyDiscarded(t *testing.T) {
	var e Effects
	tt := newTensor(t)
	e.Tensor(tt, tensor.FormatBlob)
	e.Fail("ERR no")
	if tt.RefCount() != 1 {
		t.Fatalf("%d references after Fail", tt.RefCount())
	}
	if got, want := e.Finish(), join(OpReplyError, 6, "ERR no\x00"); !bytes.Equal(got, want) {
		t.Fatalf("program %q, want %q", got, want)
	}
	e.Tensor(tt, tensor.FormatBlob)
	e.Reset()
	if tt.RefCount() != 1 {
		t.Fatalf("%d references after Reset", tt.RefCount())
	}
	tt.Release()
}

// The program is written into lent memory while it fits, also after a failure; a longer one moves
// to the Go heap; Reset forgets the lent memory, which is not written again.
func TestWriteInto(t *testing.T) {
	var e Effects
	lent := make([]byte, 32)
	e.WriteInto(lent)
	e.Bulk("hi")
	if !e.InLentMemory() || !bytes.Equal(lent[:11], join(OpReplyBulk, 2, "hi")) {
		t.Fatalf("in lent memory %v, lent %q", e.InLentMemory(), lent[:11])
	}
	e.Fail("ERR no")
	if got := e.Finish(); !e.InLentMemory() || !bytes.Equal(got, join(OpReplyError, 6, "ERR no\x00")) {
		t.Fatalf("after Fail: in lent memory %v, program %q", e.InLentMemory(), got)
	}
	e.Bulk("a longer string than the lent memory holds")
	if e.InLentMemory() {
		t.Fatal("a program longer than the lent memory is still in it")
	}
	e.Reset()
	before := bytes.Clone(lent)
	e.Bulk("after")
	if e.InLentMemory() || !bytes.Equal(lent, before) {
		t.Fatalf("after Reset the lent memory was written: %q", lent)
	}
}
