// Package protowalk reads protobuf messages without their generated code: a backend checks a model's
// messages for what it refuses (ONNX tensors kept in files, TensorFlow ops that touch the file system)
// before its runtime parses them. A walk visits the fields of the messages a Message says hold others.
package protowalk

import (
	"encoding/binary"
	"errors"
)

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
		key, n := binary.Uvarint(msg)
		if n <= 0 {
			return nil
		}
		msg = msg[n:]
		f := Field{Num: int(key >> 3), Wire: int(key & 7)}
		switch f.Wire {
		case 0:
			if f.Varint, n = binary.Uvarint(msg); n <= 0 {
				return nil
			}
			msg = msg[n:]
		case 1, 5:
			size := 8
			if f.Wire == 5 {
				size = 4
			}
			if len(msg) < size {
				return nil
			}
			msg = msg[size:]
		case 2:
			l, n := binary.Uvarint(msg)
			if n <= 0 || l > uint64(len(msg)-n) {
				return nil
			}
			f.Data, msg = msg[n:n+int(l)], msg[n+int(l):]
		default: // groups, which proto3 files do not have
			return nil
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
