package tests

// Building DUMP payloads by hand, the way Redis writes a module value: the type byte, the module
// type id, the value's fields each tagged with an opcode, an EOF opcode, then the RDB version and a
// CRC-64 over everything before it. Tests use it to write RedisAI's older encodings and payloads
// no client could produce (huge lengths, corrupt fields).

import (
	"bytes"
	"encoding/binary"
	"hash/crc64"
	"testing"
)

const (
	rdbTypeModule2    = 7 // a module value whose fields carry opcodes
	moduleOpcodeEOF   = 0
	moduleOpcodeUint  = 2
	moduleOpcodeStr   = 5
	payloadRDBVersion = 9 // what RedisAI's fixtures carry; Redis 7 restores any version up to its own
)

// jonesTable is CRC-64/Jones in Go's reversed-polynomial form, the checksum Redis puts on DUMP payloads.
var jonesTable = crc64.MakeTable(0x95ac9329ac4bc9b5)

// redisCRC64 is Redis' crc64(0, p): Go's Update inverts before and after, Redis does neither.
func redisCRC64(p []byte) uint64 {
	return ^crc64.Update(^uint64(0), jonesTable, p)
}

// moduleTypeID packs a 9-character module type name and an encoding version as Redis does.
func moduleTypeID(name string, encver uint64) uint64 {
	const charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var id uint64
	for _, c := range []byte(name) {
		id = id<<6 | uint64(bytes.IndexByte([]byte(charset), c))
	}
	return id<<10 | encver
}

// payload writes one module value field by field.
type payload struct{ bytes.Buffer }

func newPayload(typeName string, encver uint64) *payload {
	p := &payload{}
	p.WriteByte(rdbTypeModule2)
	p.length(moduleTypeID(typeName, encver))
	return p
}

// length is Redis' RDB length encoding.
func (p *payload) length(n uint64) {
	switch {
	case n < 1<<6:
		p.WriteByte(byte(n))
	case n < 1<<14:
		p.WriteByte(0x40 | byte(n>>8))
		p.WriteByte(byte(n))
	case n <= 0xffffffff:
		p.WriteByte(0x80)
		p.Write(binary.BigEndian.AppendUint32(nil, uint32(n)))
	default:
		p.WriteByte(0x81)
		p.Write(binary.BigEndian.AppendUint64(nil, n))
	}
}

// Uint is RedisModule_SaveUnsigned; Int is RedisModule_SaveSigned (the same bits).
func (p *payload) Uint(n uint64) *payload {
	p.WriteByte(moduleOpcodeUint)
	p.length(n)
	return p
}

func (p *payload) Int(n int64) *payload { return p.Uint(uint64(n)) }

// Str is RedisModule_SaveStringBuffer (and SaveString): the bytes as given.
func (p *payload) Str(s string) *payload {
	p.WriteByte(moduleOpcodeStr)
	p.length(uint64(len(s)))
	p.WriteString(s)
	return p
}

// CStr is a string saved with its trailing NUL, as RedisAI saves device names, IO names and sources.
func (p *payload) CStr(s string) *payload { return p.Str(s + "\x00") }

// StrWithLength writes a string field whose length claims n bytes but carries only data.
func (p *payload) StrWithLength(n uint64, data string) *payload {
	p.WriteByte(moduleOpcodeStr)
	p.length(n)
	p.WriteString(data)
	return p
}

// Seal ends the value and appends the RDB version and the CRC: a payload RESTORE accepts.
func (p *payload) Seal() string {
	p.WriteByte(moduleOpcodeEOF)
	return sealDump(p.Bytes())
}

// sealDump appends the RDB version and CRC to the bytes of a value.
func sealDump(body []byte) string {
	b := binary.LittleEndian.AppendUint16(append([]byte(nil), body...), payloadRDBVersion)
	return string(binary.LittleEndian.AppendUint64(b, redisCRC64(b)))
}

// resealDump recomputes the CRC of a DUMP payload whose body was changed.
func resealDump(dump []byte) string {
	if len(dump) < 10 {
		return string(dump)
	}
	b := append([]byte(nil), dump[:len(dump)-8]...)
	return string(binary.LittleEndian.AppendUint64(b, redisCRC64(b)))
}

// TestPayloadBuilder: the builder reproduces RedisAI's own DUMP of a tensor byte for byte, so
// payloads made with it are what RedisAI wrote.
func TestPayloadBuilder(t *testing.T) {
	t.Parallel()
	if got := redisCRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x, want Redis' 0xe9c6d914c4b8d9ca", got)
	}
	want := readFixture(t, fixturesDir(t), "tensor_int32_encver4.dump")
	p := newPayload("AI_TENSOR", 4).Uint(0).Uint(32).Int(2).Int(2).Int(1).Str("\x01\x00\x00\x00\x02\x00\x00\x00")
	if got := p.Seal(); got != string(want) {
		t.Errorf("built payload differs from RedisAI's\n   got: % x\n  want: % x", got, want)
	}
	if got := resealDump(want); got != string(want) {
		t.Errorf("resealing an intact payload changed it")
	}
}
