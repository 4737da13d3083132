// Package protowalk reads protobuf messages without their generated code: a backend checks a model's
// messages for what it refuses (ONNX tensors kept in files, TensorFlow ops that touch the file system)
// before its runtime parses them. A walk visits the fields of the messages a Message says hold others.
package protowalk

import "errors"

// Message is a message type as a walk sees it: the fields, by number, that hold messages to visit.
type Message struct {
	Name     string // for the visitor: "TensorProto"
	Children map[int]*Message
}

// Field is one field of a message: its number, its wire type (0 varint, 1 64 bits, 2 length-delimited,
// 5 32 bits), and its value (Varint for type 0; Data for type 2).
type Field struct {
	Num, Wire int
	Varint    uint64
	Data      []byte
}

// ErrTooDeep is a walk's answer for messages nested deeper than its limit, where it stops looking.
var ErrTooDeep = errors.New("messages nest too deep")

// Walk calls visit for each field of msg, a message of type m, and walks the fields that m's Children
// name, to maxDepth levels; the first error visit returns ends it. A message that is not well formed
// ends its walk without an error: the runtime's parser words that.
func Walk(msg []byte, m *Message, maxDepth int, visit func(m *Message, f Field) error) error {
	return walk(msg, m, maxDepth, visit)
}

func walk(msg []byte, m *Message, depth int, visit func(*Message, Field) error) error {
	if depth < 0 {
		return ErrTooDeep
	}
	for len(msg) > 0 {
		f, rest, ok := next(msg)
		if !ok {
			return nil
		}
		msg = rest
		if f.Wire == 3 || f.Wire == 4 {
			continue // a group, read whole by next and skipped, as the runtimes' parsers skip an unknown field
		}
		if err := visit(m, f); err != nil {
			return err
		}
		if child, ok := m.Children[f.Num]; ok && f.Wire == 2 {
			if err := walk(f.Data, child, depth-1, visit); err != nil {
				return err
			}
		}
	}
	return nil
}

// errOutside ends a walk of AllIn at a value outside its set.
var errOutside = errors.New("a value outside the set")

// AllIn reports whether every field num of the messages of type holder in msg (a message of type m,
// walked to maxDepth levels) is a string of set: every op of a model's nodes on a list, say. A walk
// that stops too deep answers false; one that meets malformed bytes answers for the fields before them
// (the runtime refuses such a model).
func AllIn(msg []byte, m *Message, maxDepth int, holder *Message, num int, set map[string]bool) bool {
	return Walk(msg, m, maxDepth, func(in *Message, f Field) error {
		if in == holder && f.Num == num && !set[string(f.Data)] {
			return errOutside
		}
		return nil
	}) == nil
}

// next reads the field at the start of msg as protobuf's C++ parser does, and returns it with what
// follows; ok is false where that parser fails. A group (wire type 3, which no message of ONNX or
// TensorFlow declares) is read to its end and returned as one field of wire type 3: a walk that
// stopped at one left every field after it unchecked, which the runtime then read (a model's external
// data, a graph's ReadFile, behind an empty group).
func next(msg []byte) (f Field, rest []byte, ok bool) {
	key, n := uvarint(msg)
	if n == 0 || key>>3 == 0 {
		return f, nil, false
	}
	msg = msg[n:]
	f = Field{Num: int(key >> 3), Wire: int(key & 7)}
	switch f.Wire {
	case 0:
		if f.Varint, n = uvarint(msg); n == 0 {
			return f, nil, false
		}
		return f, msg[n:], true
	case 1, 5:
		size := 8
		if f.Wire == 5 {
			size = 4
		}
		if len(msg) < size {
			return f, nil, false
		}
		return f, msg[size:], true
	case 2:
		l, n := uvarint(msg)
		if n == 0 || l > uint64(len(msg)-n) {
			return f, nil, false
		}
		return Field{Num: f.Num, Wire: 2, Data: msg[n : n+int(l)]}, msg[n+int(l):], true
	case 3:
		for len(msg) > 0 {
			inner, after, ok := next(msg)
			if !ok {
				return f, nil, false
			}
			msg = after
			if inner.Wire == 4 {
				return f, msg, inner.Num == f.Num
			}
		}
	case 4:
		return f, msg, true // a group's end: next reading the group takes it; a walk passes a stray one
	}
	return f, nil, false // wire type 6 or 7, or a group without its end
}

// uvarint reads a varint as protobuf's C++ parser does: at most ten bytes, the bits past 64 dropped
// (encoding/binary refuses those, and a walk would have stopped where the runtime's parser goes on).
// n is 0 where it fails.
func uvarint(b []byte) (v uint64, n int) {
	for i := 0; i < 10 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// fields is a message whose fields a walk visits without going into any.
var fields = &Message{Name: "fields"}

// Fields calls visit for each field of msg, without going into the messages it holds.
func Fields(msg []byte, visit func(Field) error) error {
	return walk(msg, fields, 0, func(_ *Message, f Field) error { return visit(f) })
}

// Bytes is the last length-delimited field num of msg (a string, bytes or a message), nil when msg has none.
func Bytes(msg []byte, num int) []byte {
	var b []byte
	Fields(msg, func(f Field) error {
		if f.Num == num && f.Wire == 2 {
			b = f.Data
		}
		return nil
	})
	return b
}
