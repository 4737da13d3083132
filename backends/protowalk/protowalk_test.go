package protowalk

import (
	"encoding/binary"
	"errors"
	"testing"
)

func bytesField(num int, data []byte) []byte {
	return append(binary.AppendUvarint(binary.AppendUvarint(nil, uint64(num)<<3|2), uint64(len(data))), data...)
}

func varintField(num int, v uint64) []byte {
	return binary.AppendUvarint(binary.AppendUvarint(nil, uint64(num)<<3), v)
}

// A walk visits every field of the messages its types name, and no further; it stops at its depth and
// at malformed bytes.
func TestWalk(t *testing.T) {
	leaf := &Message{Name: "leaf"}
	outer := &Message{Name: "outer", Children: map[int]*Message{2: leaf}}
	inner := append(varintField(1, 7), bytesField(3, []byte("x"))...)
	msg := append(append(varintField(1, 300), bytesField(2, inner)...), bytesField(4, inner)...) // 4: not a child
	msg = append(msg, 0x0d, 1, 2, 3, 4)                                                          // field 1, 32 bits
	var seen []string
	err := Walk(msg, outer, 1, func(m *Message, f Field) error {
		seen = append(seen, m.Name)
		if m == leaf && f.Num == 1 && f.Varint != 7 || m == outer && f.Num == 1 && f.Wire == 0 && f.Varint != 300 {
			t.Errorf("%s field %d: %+v", m.Name, f.Num, f)
		}
		return nil
	})
	if err != nil || len(seen) != 6 || seen[1] != "outer" || seen[2] != "leaf" || seen[3] != "leaf" || seen[4] != "outer" {
		t.Errorf("visits %v, %v", seen, err)
	}
	if err := Walk(msg, outer, 0, func(*Message, Field) error { return nil }); !errors.Is(err, ErrTooDeep) {
		t.Errorf("depth 0 with a child: %v, want ErrTooDeep", err)
	}
	stop := errors.New("stop")
	if err := Walk(msg, outer, 1, func(m *Message, f Field) error {
		if m == leaf {
			return stop
		}
		return nil
	}); err != stop {
		t.Errorf("a visitor's error: %v", err)
	}
	for name, bad := range map[string][]byte{
		"cut varint": {0x08, 0xff}, "cut length": {0x12, 0x05, 1}, "cut 64 bits": {0x09, 1, 2}, "a group without its end": {0x0b},
	} {
		n := 0
		if err := Walk(bad, outer, 1, func(*Message, Field) error { n++; return nil }); err != nil || n != 0 {
			t.Errorf("%s: %v after %d fields", name, err, n)
		}
	}
}

// Fields after a group, or after a varint of ten bytes whose bits pass 64, are visited, as protobuf's
// C++ parser reads them (the walk stopped there, and the runtime read what followed unchecked); a group
// is skipped whole, nested ones included, and one without its end, or with another field's, ends the
// walk as it fails that parser.
func TestWalkPastGroupsAndLongVarints(t *testing.T) {
	leaf := &Message{Name: "leaf"}
	outer := &Message{Name: "outer", Children: map[int]*Message{2: leaf}}
	tail := bytesField(2, varintField(1, 7))
	group := func(num int, inside ...byte) []byte {
		b := binary.AppendUvarint(nil, uint64(num)<<3|3)
		b = append(b, inside...)
		return binary.AppendUvarint(b, uint64(num)<<3|4)
	}
	long := append([]byte{0x08}, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f)
	for name, c := range map[string]struct {
		prefix []byte
		leaves int
	}{
		"an empty group":                  {group(1000), 1},
		"a group holding fields":          {group(5, append(varintField(1, 1), bytesField(2, []byte("not a leaf"))...)...), 1},
		"nested groups":                   {group(6, group(7, varintField(1, 2)...)...), 1},
		"a ten-byte varint past 64 bits":  {long, 1},
		"a group ended by another number": {append(binary.AppendUvarint(nil, 5<<3|3), binary.AppendUvarint(nil, 6<<3|4)...), 0},
		"a group without its end":         {binary.AppendUvarint(nil, 5<<3|3), 0},
	} {
		leaves := 0
		Walk(append(append([]byte(nil), c.prefix...), tail...), outer, 2, func(m *Message, f Field) error {
			if m == leaf {
				leaves++
			}
			return nil
		})
		if leaves != c.leaves {
			t.Errorf("%s: %d leaf fields visited after it, want %d", name, leaves, c.leaves)
		}
	}
}

// Fields stays in the message; Bytes answers its last length-delimited field of a number.
func TestFieldsAndBytes(t *testing.T) {
	inner := bytesField(1, []byte("in"))
	msg := append(append(append(varintField(1, 5), bytesField(2, inner)...), bytesField(3, []byte("a"))...), bytesField(3, []byte("b"))...)
	n := 0
	if err := Fields(msg, func(Field) error { n++; return nil }); err != nil || n != 4 {
		t.Errorf("Fields visited %d fields (%v), want 4", n, err)
	}
	if got := string(Bytes(msg, 3)); got != "b" {
		t.Errorf("Bytes(3) = %q, want the last, b", got)
	}
	if got := string(Bytes(Bytes(msg, 2), 1)); got != "in" {
		t.Errorf("Bytes of the inner message = %q", got)
	}
	if Bytes(msg, 1) != nil || Bytes(msg, 9) != nil {
		t.Error("Bytes of a varint field or of a field not there is not nil")
	}
}

// AllIn answers whether every field of a number, in the messages of one type, is a string of a set.
func TestAllIn(t *testing.T) {
	node := &Message{Name: "node"}
	graph := &Message{Name: "graph", Children: map[int]*Message{1: node}}
	set := map[string]bool{"Add": true, "Relu": true}
	nodes := func(ops ...string) []byte {
		var b []byte
		for _, op := range ops {
			b = append(b, bytesField(1, bytesField(4, []byte(op)))...)
		}
		return b
	}
	if !AllIn(nodes("Add", "Relu"), graph, 2, node, 4, set) {
		t.Error("Add, Relu: not all in the set")
	}
	if AllIn(nodes("Add", "Loop"), graph, 2, node, 4, set) {
		t.Error("Add, Loop: all in the set")
	}
	if AllIn(nodes("Add"), graph, 0, node, 4, set) {
		t.Error("too deep for the walk: all in the set")
	}
}
