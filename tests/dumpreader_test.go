package tests

// Reading a module DUMP payload back, field by field, to find its length encodings: the corruption tests set
// them to absurd values so that the module's loader, not Redis' CRC check, meets the damage.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
)

const (
	moduleOpcodeSint   = 1
	moduleOpcodeFloat  = 3
	moduleOpcodeDouble = 4
	rdbEncodedString   = 3 // the top two bits of a string's first byte that announce an integer or LZF encoding
	rdbEncLZF          = 3
	dumpTrailerLen     = 10 // the RDB version (2 bytes) and CRC-64 (8 bytes) after the value
)

// dumpLength is one length encoding inside a payload: where it starts, how many bytes it takes, its value.
type dumpLength struct {
	at, size int
	value    uint64
}

// dumpLayout is what dumpLengths finds: where the value's fields start (after the type byte and module id),
// and every length encoding among them: unsigned and signed values, string lengths, and both lengths of an
// LZF-compressed string.
type dumpLayout struct {
	valueStart int
	lengths    []dumpLength
}

var errDumpShort = errors.New("payload ends inside a field")

// dumpReader walks the payload's bytes.
type dumpReader struct {
	b   []byte
	pos int
}

// length reads one length encoding (rdbLoadLen); encoded is set for a string's integer or LZF marker, whose
// low six bits are then the encoding.
func (r *dumpReader) length() (n uint64, encoded bool, err error) {
	if r.pos >= len(r.b) {
		return 0, false, errDumpShort
	}
	first := r.b[r.pos]
	size := 1
	switch {
	case first>>6 == 0:
		n = uint64(first & 0x3f)
	case first>>6 == 1:
		size = 2
	case first == 0x80:
		size = 5
	case first == 0x81:
		size = 9
	case first>>6 == rdbEncodedString:
		n, encoded = uint64(first&0x3f), true
	default:
		return 0, false, fmt.Errorf("unknown length form %#x at %d", first, r.pos)
	}
	if r.pos+size > len(r.b) {
		return 0, false, errDumpShort
	}
	switch size {
	case 2:
		n = uint64(first&0x3f)<<8 | uint64(r.b[r.pos+1])
	case 5:
		n = uint64(binary.BigEndian.Uint32(r.b[r.pos+1:]))
	case 9:
		n = binary.BigEndian.Uint64(r.b[r.pos+1:])
	}
	r.pos += size
	return n, encoded, nil
}

// recorded reads a length and notes where it was.
func (r *dumpReader) recorded(layout *dumpLayout) (uint64, error) {
	at := r.pos
	n, encoded, err := r.length()
	if err == nil && encoded {
		err = fmt.Errorf("encoded string marker where a length belongs, at %d", at)
	}
	if err == nil {
		layout.lengths = append(layout.lengths, dumpLength{at, r.pos - at, n})
	}
	return n, err
}

func (r *dumpReader) skip(n uint64) error {
	if n > uint64(len(r.b)-r.pos) {
		return errDumpShort
	}
	r.pos += int(n)
	return nil
}

// str reads a string field's body: plain, an integer encoding, or LZF.
func (r *dumpReader) str(layout *dumpLayout) error {
	at := r.pos
	n, encoded, err := r.length()
	if err != nil {
		return err
	}
	if !encoded {
		layout.lengths = append(layout.lengths, dumpLength{at, r.pos - at, n})
		return r.skip(n)
	}
	switch n {
	case 0, 1, 2: // an integer of 1, 2 or 4 bytes
		return r.skip(1 << n)
	case rdbEncLZF:
		compressed, err := r.recorded(layout)
		if err == nil {
			_, err = r.recorded(layout)
		}
		if err == nil {
			err = r.skip(compressed)
		}
		return err
	}
	return fmt.Errorf("unknown string encoding %d at %d", n, at)
}

// dumpLengths parses a module value's DUMP payload as Redis writes it (type byte 7, module id, opcode-tagged
// fields, EOF opcode, trailer).
func dumpLengths(dump []byte) (dumpLayout, error) {
	var layout dumpLayout
	if len(dump) < 2+dumpTrailerLen || dump[0] != rdbTypeModule2 {
		return layout, errors.New("not a module value payload")
	}
	r := &dumpReader{b: dump[:len(dump)-dumpTrailerLen], pos: 1}
	if _, err := r.recorded(&layout); err != nil { // the module id
		return layout, err
	}
	layout.valueStart = r.pos
	layout.lengths = layout.lengths[:0]
	for {
		opcode, _, err := r.length()
		if err != nil {
			return layout, err
		}
		switch opcode {
		case moduleOpcodeEOF:
			if r.pos != len(r.b) {
				return layout, fmt.Errorf("%d bytes after the EOF opcode", len(r.b)-r.pos)
			}
			return layout, nil
		case moduleOpcodeSint, moduleOpcodeUint:
			_, err = r.recorded(&layout)
		case moduleOpcodeFloat:
			err = r.skip(4)
		case moduleOpcodeDouble:
			err = r.skip(8)
		case moduleOpcodeStr:
			err = r.str(&layout)
		default:
			err = fmt.Errorf("unknown opcode %d at %d", opcode, r.pos-1)
		}
		if err != nil {
			return layout, err
		}
	}
}

// rdbLength is n in Redis' length encoding.
func rdbLength(n uint64) []byte {
	var p payload
	p.length(n)
	return p.Bytes()
}

// TestDumpLengths: the reader finds every length the builder wrote, through plain, integer-encoded and LZF
// strings.
func TestDumpLengths(t *testing.T) {
	t.Parallel()
	p := newPayload("AI_TENSOR", 4).Uint(7).Int(-1).Str("abc")
	p.Write([]byte{moduleOpcodeStr, 0xc0, 12})                           // the string "12" as an 8-bit integer
	p.Write([]byte{moduleOpcodeStr, 0xc3, 0x04, 0x05, 2, 'x', 'y', 'z'}) // LZF: 4 bytes for 5 (not decompressed)
	p.Uint(1 << 40)
	dump := []byte(p.Seal())
	layout, err := dumpLengths(dump)
	if err != nil {
		t.Fatal(err)
	}
	if layout.valueStart != 10 {
		t.Errorf("value starts at %d, want 10 (type byte, 9-byte module id)", layout.valueStart)
	}
	want := []dumpLength{{11, 1, 7}, {13, 9, 1<<64 - 1}, {23, 1, 3}, {32, 1, 4}, {33, 1, 5}, {39, 9, 1 << 40}}
	if fmt.Sprint(layout.lengths) != fmt.Sprint(want) {
		t.Errorf("lengths %v, want %v", layout.lengths, want)
	}
	if _, err := dumpLengths(dump[:len(dump)-11]); err == nil {
		t.Error("a payload cut inside its last field parsed")
	}
}
