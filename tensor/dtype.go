package tensor

// DType is a tensor element type as DLPack codes it (with RedisAI's codes for BOOL and STRING).
type DType struct {
	Code uint8
	Bits uint8
}

// DLPack type codes, plus the two RedisAI adds; they are stored in RDB files as they are.
const (
	codeInt    = 0
	codeUInt   = 1
	codeFloat  = 2
	codeBool   = 6
	codeString = 7
)

// The ten dtypes of RedisAI 1.2.7.
var (
	Float  = DType{codeFloat, 32}
	Double = DType{codeFloat, 64}
	Int8   = DType{codeInt, 8}
	Int16  = DType{codeInt, 16}
	Int32  = DType{codeInt, 32}
	Int64  = DType{codeInt, 64}
	UInt8  = DType{codeUInt, 8}
	UInt16 = DType{codeUInt, 16}
	Bool   = DType{codeBool, 8}
	String = DType{codeString, 8}
)

var dtypeNames = []struct {
	name  string
	dtype DType
}{
	{"FLOAT", Float}, {"DOUBLE", Double},
	{"INT8", Int8}, {"INT16", Int16}, {"INT32", Int32}, {"INT64", Int64},
	{"UINT8", UInt8}, {"UINT16", UInt16},
	{"BOOL", Bool}, {"STRING", String},
}

// Name is the upper-case name clients expect in replies; "" for a dtype gorai does not know.
func (d DType) Name() string {
	for _, n := range dtypeNames {
		if n.dtype == d {
			return n.name
		}
	}
	return ""
}

// ElemSize is the size of one element in bytes; STRING elements have no fixed size (0).
func (d DType) ElemSize() int {
	if d.Code == codeString {
		return 0
	}
	return int(d.Bits) / 8
}

// IsString, IsFloat, IsSigned and IsBool tell how VALUES are parsed and replied for the dtype.
func (d DType) IsString() bool { return d.Code == codeString }
func (d DType) IsFloat() bool  { return d.Code == codeFloat }
func (d DType) IsSigned() bool { return d.Code == codeInt }
func (d DType) IsBool() bool   { return d.Code == codeBool }
