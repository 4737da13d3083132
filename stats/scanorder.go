package stats

import (
	"encoding/binary"
	"math/bits"
	"slices"
)

// scanOrder keeps the stats' keys in the order RedisAI 1.2.7 lists them in AI._MODELSCAN and
// AI._SCRIPTSCAN: the iteration order of the Redis dict its stats live in. redisai-py's test suite
// compares that order, so gorai replays the dict's bookkeeping (not its storage): SipHash-1-2 with
// a zero seed, power-of-two tables from 4 buckets that double when full and never shrink,
// rehashing one bucket at each add, find or delete while a resize is under way, and each new entry
// at the head of its bucket.
type scanOrder struct {
	tables [2][][]string // buckets, each listed head first; tables[1] only while rehashing
	used   [2]int
	// rehashIdx is the next bucket of tables[0] to move into tables[1], or -1.
	rehashIdx int
}

const scanOrderInitialSize = 4

func newScanOrder() *scanOrder { return &scanOrder{rehashIdx: -1} }

func (o *scanOrder) rehashing() bool { return o.rehashIdx != -1 }

// add inserts a key that is not present.
func (o *scanOrder) add(key string) {
	if o.rehashing() {
		o.rehashStep()
	}
	o.expandIfNeeded()
	h := scanHash(key)
	t := 0
	if o.rehashing() {
		t = 1
	}
	b := &o.tables[t][h&uint64(len(o.tables[t])-1)]
	*b = slices.Insert(*b, 0, key)
	o.used[t]++
}

// find accounts for a lookup of key (AI.INFO): it moves a resize along.
func (o *scanOrder) find() {
	if o.used[0]+o.used[1] > 0 && o.rehashing() {
		o.rehashStep()
	}
}

// remove deletes key if present.
func (o *scanOrder) remove(key string) {
	if o.used[0]+o.used[1] == 0 {
		return
	}
	if o.rehashing() {
		o.rehashStep()
	}
	h := scanHash(key)
	for t := 0; t <= 1; t++ {
		if len(o.tables[t]) == 0 {
			break
		}
		b := &o.tables[t][h&uint64(len(o.tables[t])-1)]
		if i := slices.Index(*b, key); i >= 0 {
			*b = slices.Delete(*b, i, i+1)
			o.used[t]--
			return
		}
		if !o.rehashing() {
			return
		}
	}
}

// keys lists the keys in iteration order.
func (o *scanOrder) keys() []string {
	var out []string
	for t := 0; t <= 1; t++ {
		for _, b := range o.tables[t] {
			out = append(out, b...)
		}
	}
	return out
}

func (o *scanOrder) expandIfNeeded() {
	switch {
	case o.rehashing():
	case len(o.tables[0]) == 0:
		o.tables[0] = make([][]string, scanOrderInitialSize)
	case o.used[0] >= len(o.tables[0]):
		size := scanOrderInitialSize
		for size < o.used[0]*2 {
			size *= 2
		}
		o.tables[1] = make([][]string, size)
		o.rehashIdx = 0
	}
}

// rehashStep moves one non-empty bucket into the new table, giving up after ten empty ones.
func (o *scanOrder) rehashStep() {
	for emptyVisits := 10; o.used[0] > 0 && len(o.tables[0][o.rehashIdx]) == 0; o.rehashIdx++ {
		if emptyVisits--; emptyVisits == 0 {
			o.rehashIdx++
			return
		}
	}
	if o.used[0] > 0 {
		// Each entry of the chain, head first, goes to the head of its new bucket.
		for _, key := range o.tables[0][o.rehashIdx] {
			b := &o.tables[1][scanHash(key)&uint64(len(o.tables[1])-1)]
			*b = slices.Insert(*b, 0, key)
			o.used[0]--
			o.used[1]++
		}
		o.tables[0][o.rehashIdx] = nil
		o.rehashIdx++
	}
	if o.used[0] == 0 {
		o.tables = [2][][]string{o.tables[1], nil}
		o.used = [2]int{o.used[1], 0}
		o.rehashIdx = -1
	}
}

// scanHash is SipHash-1-2 of key with a zero key, Redis' dict hash.
func scanHash(key string) uint64 {
	const k0, k1 = 0, 0
	v0 := k0 ^ uint64(0x736f6d6570736575)
	v1 := k1 ^ uint64(0x646f72616e646f6d)
	v2 := k0 ^ uint64(0x6c7967656e657261)
	v3 := k1 ^ uint64(0x7465646279746573)
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13) ^ v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16) ^ v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21) ^ v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17) ^ v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	m := []byte(key)
	for ; len(m) >= 8; m = m[8:] {
		w := binary.LittleEndian.Uint64(m)
		v3 ^= w
		round()
		v0 ^= w
	}
	var tail [8]byte
	copy(tail[:], m)
	w := binary.LittleEndian.Uint64(tail[:]) | uint64(len(key))<<56
	v3 ^= w
	round()
	v0 ^= w
	v2 ^= 0xff
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
