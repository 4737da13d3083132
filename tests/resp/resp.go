// Package resp is a tiny raw RESP client for tests and benchmarks.
//
// Unlike general-purpose Redis clients it keeps the exact wire type of every
// reply (simple string, error, integer, bulk string, array, and the nil forms
// of bulk and array; after HELLO 3, RESP3's null, double, boolean, big number,
// verbatim string, blob error, map, set and push), so that tests can check
// replies byte for byte: a dtype must arrive as a bulk string and not a simple
// string, and an error must keep (or omit) its "ERR " prefix exactly as sent.
package resp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"time"
)

// Kind is the wire type of a reply, named by its leading byte.
type Kind byte

// The RESP2 reply kinds.
const (
	SimpleString Kind = '+'
	Error        Kind = '-'
	Integer      Kind = ':'
	Bulk         Kind = '$'
	Array        Kind = '*'
)

// The kinds RESP3 adds (HELLO 3). A double keeps its text as sent (Str), a boolean is an Int of 0
// or 1, a map's keys and values alternate in Elems.
const (
	Null      Kind = '_'
	Double    Kind = ','
	Boolean   Kind = '#'
	BigNumber Kind = '('
	Verbatim  Kind = '='
	BlobError Kind = '!'
	Map       Kind = '%'
	Set       Kind = '~'
	Push      Kind = '>'
)

func (k Kind) String() string {
	switch k {
	case SimpleString:
		return "simple-string"
	case Error:
		return "error"
	case Integer:
		return "integer"
	case Bulk:
		return "bulk"
	case Array:
		return "array"
	case Null:
		return "null"
	case Double:
		return "double"
	case Boolean:
		return "boolean"
	case BigNumber:
		return "big-number"
	case Verbatim:
		return "verbatim"
	case BlobError:
		return "blob-error"
	case Map:
		return "map"
	case Set:
		return "set"
	case Push:
		return "push"
	}
	return fmt.Sprintf("kind(%q)", byte(k))
}

// Value is one reply with its wire type preserved.
type Value struct {
	Kind  Kind
	Str   []byte  // SimpleString, Error, Bulk, Double, BigNumber, Verbatim, BlobError payload (without the leading byte or CRLF)
	Int   int64   // Integer, Boolean (0 or 1)
	Elems []Value // Array, Set, Push elements; Map keys and values in turn
	Nil   bool    // nil bulk ($-1), nil array (*-1) or RESP3's null (_)
}

// Constructors for expected values in tests.

// Simple returns a simple-string value (+s).
func Simple(s string) Value { return Value{Kind: SimpleString, Str: []byte(s)} }

// Err returns an error value (-s); s is the full text including any "ERR " prefix.
func Err(s string) Value { return Value{Kind: Error, Str: []byte(s)} }

// Int returns an integer value.
func Int(i int64) Value { return Value{Kind: Integer, Int: i} }

// BulkString returns a bulk-string value.
func BulkString(s string) Value { return Value{Kind: Bulk, Str: []byte(s)} }

// BulkBytes returns a bulk-string value holding b.
func BulkBytes(b []byte) Value {
	if b == nil {
		b = []byte{}
	}
	return Value{Kind: Bulk, Str: b}
}

// NilBulk returns the nil bulk string ($-1).
func NilBulk() Value { return Value{Kind: Bulk, Nil: true} }

// Arr returns an array value.
func Arr(elems ...Value) Value {
	if elems == nil {
		elems = []Value{}
	}
	return Value{Kind: Array, Elems: elems}
}

// NilArray returns the nil array (*-1).
func NilArray() Value { return Value{Kind: Array, Nil: true} }

// Nil3 returns RESP3's null (_).
func Nil3() Value { return Value{Kind: Null, Nil: true} }

// Dbl returns a RESP3 double as its wire text (",text").
func Dbl(text string) Value { return Value{Kind: Double, Str: []byte(text)} }

// Ints returns an array of integer values.
func Ints(is ...int64) Value {
	vs := make([]Value, len(is))
	for i, x := range is {
		vs[i] = Int(x)
	}
	return Arr(vs...)
}

// BulkStrings returns an array of bulk-string values.
func BulkStrings(ss ...string) Value {
	vs := make([]Value, len(ss))
	for i, s := range ss {
		vs[i] = BulkString(s)
	}
	return Arr(vs...)
}

// Equal reports whether a and b are the same reply, wire type included.
func Equal(a, b Value) bool {
	if a.Kind != b.Kind || a.Nil != b.Nil {
		return false
	}
	if a.Nil {
		return true
	}
	switch a.Kind {
	case SimpleString, Error, Bulk, Double, BigNumber, Verbatim, BlobError:
		return bytes.Equal(a.Str, b.Str)
	case Integer, Boolean:
		return a.Int == b.Int
	case Array, Map, Set, Push:
		if len(a.Elems) != len(b.Elems) {
			return false
		}
		for i := range a.Elems {
			if !Equal(a.Elems[i], b.Elems[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// IsError reports whether v is an error reply.
func (v Value) IsError() bool { return v.Kind == Error || v.Kind == BlobError }

// Text returns the payload of a string-like value as a Go string.
func (v Value) Text() string { return string(v.Str) }

// maxShown bounds how many bytes of a string payload String prints.
const maxShown = 96

// String renders the value unambiguously, with its wire type, for test output.
// Long payloads are abbreviated (with their length shown).
func (v Value) String() string {
	var sb strings.Builder
	v.write(&sb)
	return sb.String()
}

func quote(b []byte) string {
	if len(b) <= maxShown {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%s...(%d bytes)", strconv.Quote(string(b[:maxShown])), len(b))
}

func (v Value) write(sb *strings.Builder) {
	switch v.Kind {
	case SimpleString:
		sb.WriteString("+" + quote(v.Str))
	case Error:
		sb.WriteString("-" + quote(v.Str))
	case Integer:
		sb.WriteString(":" + strconv.FormatInt(v.Int, 10))
	case Bulk:
		if v.Nil {
			sb.WriteString("$nil")
			return
		}
		sb.WriteString("$" + quote(v.Str))
	case Null:
		sb.WriteString("_null")
	case Double, BigNumber, Verbatim, BlobError:
		sb.WriteString(string(v.Kind) + quote(v.Str))
	case Boolean:
		sb.WriteString("#" + strconv.FormatBool(v.Int != 0))
	case Array, Map, Set, Push:
		if v.Nil {
			sb.WriteString("*nil")
			return
		}
		sb.WriteString(string(v.Kind) + "[")
		for i, e := range v.Elems {
			if i > 0 {
				sb.WriteString(", ")
			}
			if i >= 64 {
				fmt.Fprintf(sb, "...(%d elements)", len(v.Elems))
				break
			}
			e.write(sb)
		}
		sb.WriteString("]")
	default:
		fmt.Fprintf(sb, "?%v", v.Kind)
	}
}

// Conn is one connection, RESP2 until a HELLO 3 on it. It is not safe for concurrent use.
type Conn struct {
	nc      net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
	scratch []byte
}

// DefaultTimeout is the per-call I/O deadline of a new Conn (0 = none).
const DefaultTimeout = 60 * time.Second

// Dial connects to addr ("host:port") over TCP.
func Dial(addr string) (*Conn, error) {
	nc, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	return &Conn{
		nc:      nc,
		r:       bufio.NewReaderSize(nc, 64*1024),
		w:       bufio.NewWriterSize(nc, 64*1024),
		timeout: DefaultTimeout,
	}, nil
}

// SetTimeout sets the I/O deadline applied to each Do/Pipeline call (0 = none).
func (c *Conn) SetTimeout(d time.Duration) { c.timeout = d }

// Close closes the connection.
func (c *Conn) Close() error { return c.nc.Close() }

// RemoteAddr returns the server address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

func (c *Conn) arm() {
	if c.timeout > 0 {
		_ = c.nc.SetDeadline(time.Now().Add(c.timeout))
	} else {
		_ = c.nc.SetDeadline(time.Time{})
	}
}

// Do sends one command and reads its reply. Arguments may be string, []byte,
// any integer type, float64, or bool (as 0/1). An error reply from the server
// is returned as a Value of Kind Error, not as a Go error; the Go error is only
// for I/O and protocol failures.
func (c *Conn) Do(args ...any) (Value, error) {
	c.arm()
	if err := c.Send(args...); err != nil {
		return Value{}, err
	}
	if err := c.w.Flush(); err != nil {
		return Value{}, err
	}
	return c.Receive()
}

// Pipeline sends all commands in one write and then reads one reply per command.
func (c *Conn) Pipeline(cmds ...[]any) ([]Value, error) {
	c.arm()
	for _, cmd := range cmds {
		if err := c.Send(cmd...); err != nil {
			return nil, err
		}
	}
	if err := c.w.Flush(); err != nil {
		return nil, err
	}
	out := make([]Value, 0, len(cmds))
	for range cmds {
		v, err := c.Receive()
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Send buffers one command without flushing it.
func (c *Conn) Send(args ...any) error {
	if len(args) == 0 {
		return errors.New("resp: empty command")
	}
	c.scratch = append(c.scratch[:0], '*')
	c.scratch = strconv.AppendInt(c.scratch, int64(len(args)), 10)
	c.scratch = append(c.scratch, '\r', '\n')
	if _, err := c.w.Write(c.scratch); err != nil {
		return err
	}
	for _, a := range args {
		if err := c.writeArg(a); err != nil {
			return err
		}
	}
	return nil
}

// Flush writes out buffered commands.
func (c *Conn) Flush() error {
	c.arm()
	return c.w.Flush()
}

func (c *Conn) writeBulk(b []byte) error {
	c.scratch = append(c.scratch[:0], '$')
	c.scratch = strconv.AppendInt(c.scratch, int64(len(b)), 10)
	c.scratch = append(c.scratch, '\r', '\n')
	if _, err := c.w.Write(c.scratch); err != nil {
		return err
	}
	if _, err := c.w.Write(b); err != nil {
		return err
	}
	_, err := c.w.Write([]byte{'\r', '\n'})
	return err
}

func (c *Conn) writeArg(a any) error {
	switch x := a.(type) {
	case []byte:
		return c.writeBulk(x)
	case string:
		c.scratch = append(c.scratch[:0], '$')
		c.scratch = strconv.AppendInt(c.scratch, int64(len(x)), 10)
		c.scratch = append(c.scratch, '\r', '\n')
		c.scratch = append(c.scratch, x...)
		c.scratch = append(c.scratch, '\r', '\n')
		_, err := c.w.Write(c.scratch)
		return err
	case int:
		return c.writeBulk(strconv.AppendInt(nil, int64(x), 10))
	case int8:
		return c.writeBulk(strconv.AppendInt(nil, int64(x), 10))
	case int16:
		return c.writeBulk(strconv.AppendInt(nil, int64(x), 10))
	case int32:
		return c.writeBulk(strconv.AppendInt(nil, int64(x), 10))
	case int64:
		return c.writeBulk(strconv.AppendInt(nil, x, 10))
	case uint:
		return c.writeBulk(strconv.AppendUint(nil, uint64(x), 10))
	case uint8:
		return c.writeBulk(strconv.AppendUint(nil, uint64(x), 10))
	case uint16:
		return c.writeBulk(strconv.AppendUint(nil, uint64(x), 10))
	case uint32:
		return c.writeBulk(strconv.AppendUint(nil, uint64(x), 10))
	case uint64:
		return c.writeBulk(strconv.AppendUint(nil, x, 10))
	case float64:
		return c.writeBulk(strconv.AppendFloat(nil, x, 'g', -1, 64))
	case bool:
		if x {
			return c.writeBulk([]byte("1"))
		}
		return c.writeBulk([]byte("0"))
	}
	return fmt.Errorf("resp: unsupported argument type %T", a)
}

// Receive reads one reply.
func (c *Conn) Receive() (Value, error) {
	return readValue(c.r)
}

// ReceiveDiscard reads one reply like Receive, but discards bulk-string
// payloads instead of keeping them: a bulk reply comes back with Str nil and
// Int set to its length. Error and simple-string texts are kept. It is meant
// for load generators, where allocating every large reply would dominate.
func (c *Conn) ReceiveDiscard() (Value, error) {
	return readValueDiscard(c.r)
}

func readValueDiscard(r *bufio.Reader) (Value, error) {
	b, err := r.Peek(1)
	if err != nil {
		return Value{}, err
	}
	switch Kind(b[0]) {
	case Bulk:
		line, err := readLine(r)
		if err != nil {
			return Value{}, err
		}
		n, err := parseInt(line[1:])
		if err != nil {
			return Value{}, err
		}
		if n == -1 {
			return Value{Kind: Bulk, Nil: true}, nil
		}
		if n < 0 {
			return Value{}, fmt.Errorf("resp: bad bulk length %d", n)
		}
		if _, err := r.Discard(int(n)); err != nil {
			return Value{}, err
		}
		crlf, err := r.Peek(2)
		if err != nil {
			return Value{}, err
		}
		if crlf[0] != '\r' || crlf[1] != '\n' {
			return Value{}, errors.New("resp: bulk string not terminated by CRLF")
		}
		_, _ = r.Discard(2)
		return Value{Kind: Bulk, Int: n}, nil
	case Array:
		line, err := readLine(r)
		if err != nil {
			return Value{}, err
		}
		return readArray(r, line[1:], readValueDiscard)
	}
	return readValue(r)
}

// ReadValue reads one RESP2 or RESP3 value from r (also usable to parse AOF files).
func ReadValue(r *bufio.Reader) (Value, error) { return readValue(r) }

func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Very long simple line: accumulate.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.ReadSlice('\n')
			buf = append(buf, line...)
		}
		line = buf
	}
	if err != nil {
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("resp: line not terminated by CRLF: %q", line)
	}
	return line[:len(line)-2], nil
}

func parseInt(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("resp: bad integer %q", b)
	}
	return n, nil
}

func readValue(r *bufio.Reader) (Value, error) {
	line, err := readLine(r)
	if err != nil {
		return Value{}, err
	}
	if len(line) == 0 {
		return Value{}, errors.New("resp: empty line")
	}
	k := Kind(line[0])
	body := line[1:]
	switch k {
	case SimpleString, Error:
		return Value{Kind: k, Str: append([]byte(nil), body...)}, nil
	case Integer:
		n, err := parseInt(body)
		if err != nil {
			return Value{}, err
		}
		return Value{Kind: Integer, Int: n}, nil
	case Bulk, Verbatim, BlobError:
		n, err := parseInt(body)
		if err != nil {
			return Value{}, err
		}
		if n == -1 && k == Bulk {
			return Value{Kind: Bulk, Nil: true}, nil
		}
		if n < 0 {
			return Value{}, fmt.Errorf("resp: bad %v length %d", k, n)
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return Value{}, err
		}
		if buf[n] != '\r' || buf[n+1] != '\n' {
			return Value{}, fmt.Errorf("resp: %v not terminated by CRLF", k)
		}
		return Value{Kind: k, Str: buf[:n:n]}, nil
	case Array, Set, Push:
		v, err := readArray(r, body, readValue)
		v.Kind = k
		return v, err
	case Map:
		n, err := parseInt(body)
		if err != nil || n < 0 || n > math.MaxInt64/2 {
			return Value{}, fmt.Errorf("resp: bad map length %q", body)
		}
		v, err := readArray(r, strconv.AppendInt(nil, 2*n, 10), readValue)
		v.Kind = Map
		return v, err
	case Null:
		if len(body) != 0 {
			return Value{}, fmt.Errorf("resp: null with a body %q", body)
		}
		return Nil3(), nil
	case Double, BigNumber:
		if len(body) == 0 {
			return Value{}, fmt.Errorf("resp: empty %v", k)
		}
		return Value{Kind: k, Str: append([]byte(nil), body...)}, nil
	case Boolean:
		switch string(body) {
		case "t":
			return Value{Kind: Boolean, Int: 1}, nil
		case "f":
			return Value{Kind: Boolean}, nil
		}
		return Value{}, fmt.Errorf("resp: bad boolean %q", body)
	}
	return Value{}, fmt.Errorf("resp: unknown reply type byte %q", line[0])
}

// readArray reads the elements of an array whose count is the text count, each with readElem.
func readArray(r *bufio.Reader, count []byte, readElem func(*bufio.Reader) (Value, error)) (Value, error) {
	n, err := parseInt(count)
	if err != nil {
		return Value{}, err
	}
	if n == -1 {
		return Value{Kind: Array, Nil: true}, nil
	}
	if n < 0 {
		return Value{}, fmt.Errorf("resp: bad array length %d", n)
	}
	elems := make([]Value, 0, n)
	for i := int64(0); i < n; i++ {
		e, err := readElem(r)
		if err != nil {
			return Value{}, err
		}
		elems = append(elems, e)
	}
	return Value{Kind: Array, Elems: elems}, nil
}
