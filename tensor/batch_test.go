package tensor

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"
)

// byteSource hands out the bytes of b in a cycle (zeros when b is empty), so the fuzzer's data
// drives every element.
type byteSource struct {
	b []byte
	i int
}

func (s *byteSource) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	c := s.b[s.i%len(s.b)]
	s.i++
	return c
}

// makeTensor fills a tensor of dt and shape from src: BOOL elements 0 or 1, STRING elements of 0 to
// 4 bytes without NUL.
func makeTensor(tb testing.TB, dt DType, shape []int64, src *byteSource) Tensor {
	tb.Helper()
	n, err := ElementCount(shape, 1<<20)
	if err != nil {
		tb.Fatal(err)
	}
	var blob []byte
	switch {
	case dt.IsString():
		for range n {
			for range src.next() % 5 {
				blob = append(blob, src.next()|1)
			}
			blob = append(blob, 0)
		}
	default:
		for range int(n) * dt.ElemSize() {
			c := src.next()
			if dt.IsBool() {
				c &= 1
			}
			blob = append(blob, c)
		}
	}
	t, err := FromBlob(dt, shape, blob)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func sameTensor(tb testing.TB, got, want Tensor) {
	tb.Helper()
	if got.DType() != want.DType() || !slices.Equal(got.Shape(), want.Shape()) || got.Len() != want.Len() ||
		!bytes.Equal(got.Data(), want.Data()) {
		tb.Fatalf("got %v %v %q, want %v %v %q", got.DType().Name(), got.Shape(), got.Data(),
			want.DType().Name(), want.Shape(), want.Data())
	}
	if want.DType().IsString() && !slices.Equal(got.offsets(), want.offsets()) {
		tb.Fatalf("offsets %v, want %v", got.offsets(), want.offsets())
	}
}

// concatSliceBack concatenates parts, checks the batch's shape, slices each part back out and
// compares it with the original.
func concatSliceBack(tb testing.TB, parts []Tensor) {
	tb.Helper()
	batch, err := Concat(parts)
	if err != nil {
		tb.Fatal(err)
	}
	defer batch.Release()
	var from int64
	for _, p := range parts {
		back, err := batch.Slice(from, from+p.BatchSize())
		if err != nil {
			tb.Fatal(err)
		}
		sameTensor(tb, back, p)
		back.Release()
		from += p.BatchSize()
	}
	if want := append([]int64{from}, parts[0].Shape()[1:]...); !slices.Equal(batch.Shape(), want) ||
		batch.BatchSize() != from {
		tb.Fatalf("batch shape %v, want %v", batch.Shape(), want)
	}
}

func TestConcatSliceRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]byte, 4096)
	for i := range pool {
		pool[i] = byte(rng.Uint32())
	}
	src := &byteSource{b: pool}
	rows := []int64{3, 1, 4, 2}
	for _, d := range dtypeNames {
		for _, trailing := range [][]int64{nil, {3}, {2, 2}} {
			for k := 1; k <= len(rows); k++ {
				var parts []Tensor
				for _, r := range rows[:k] {
					parts = append(parts, makeTensor(t, d.dtype, append([]int64{r}, trailing...), src))
				}
				concatSliceBack(t, parts)
				for _, p := range parts {
					p.Release()
				}
			}
		}
	}
}

func TestBatchErrors(t *testing.T) {
	src := &byteSource{b: []byte("some data")}
	scalar := makeTensor(t, Float, nil, src)
	f23 := makeTensor(t, Float, []int64{2, 3}, src)
	f24 := makeTensor(t, Float, []int64{2, 4}, src)
	f2 := makeTensor(t, Float, []int64{2}, src)
	i23 := makeTensor(t, Int32, []int64{2, 3}, src)
	s2 := makeTensor(t, String, []int64{2}, src)
	defer func() {
		for _, x := range []Tensor{scalar, f23, f24, f2, i23, s2} {
			x.Release()
		}
	}()
	for name, ts := range map[string][]Tensor{
		"empty":    nil,
		"scalar":   {scalar},
		"scalars":  {scalar, scalar},
		"dtypes":   {f23, i23},
		"strings":  {f2, s2},
		"ranks":    {f23, f2},
		"ranks2":   {f2, f23},
		"trailing": {f23, f24},
	} {
		if out, err := Concat(ts); err == nil {
			out.Release()
			t.Errorf("Concat %s: no error", name)
		}
	}
	if _, err := scalar.Slice(0, 1); err == nil {
		t.Error("Slice of a scalar: no error")
	}
	for _, r := range [][2]int64{{-1, 1}, {0, 0}, {1, 1}, {1, 0}, {0, 3}, {2, 3}} {
		if out, err := f23.Slice(r[0], r[1]); err == nil {
			out.Release()
			t.Errorf("Slice(%d, %d): no error", r[0], r[1])
		}
	}
	if scalar.BatchSize() != 0 || f23.BatchSize() != 2 {
		t.Errorf("BatchSize: scalar %d, [2,3] %d", scalar.BatchSize(), f23.BatchSize())
	}
}

// FuzzConcatSlice: dtype, trailing dims (each 1..3), dim-0 sizes of the parts (each 1..4) and
// element data all come from the fuzzer; concat then slice back must give the parts.
func FuzzConcatSlice(f *testing.F) {
	f.Add(uint8(9), []byte{2}, []byte{1, 3, 0}, []byte("\x03abc\x00\x02xy"))
	f.Add(uint8(0), []byte{}, []byte{2}, []byte{1, 2, 3, 4})
	f.Add(uint8(8), []byte{1, 2, 0}, []byte{0, 1, 2, 3}, []byte{7, 0, 1})
	f.Fuzz(func(t *testing.T, dt uint8, trail, rows, data []byte) {
		d := dtypeNames[int(dt)%len(dtypeNames)].dtype
		var trailing []int64
		for _, x := range trail[:min(len(trail), 3)] {
			trailing = append(trailing, int64(x%3)+1)
		}
		if len(rows) == 0 {
			rows = []byte{0}
		}
		src := &byteSource{b: data}
		var parts []Tensor
		for _, r := range rows[:min(len(rows), 5)] {
			parts = append(parts, makeTensor(t, d, append([]int64{int64(r%4) + 1}, trailing...), src))
		}
		defer func() {
			for _, p := range parts {
				p.Release()
			}
		}()
		concatSliceBack(t, parts)
	})
}
