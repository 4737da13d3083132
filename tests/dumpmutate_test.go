package tests

// Damaging valid DUMP payloads the ways a corrupt file or a hostile client would, with the CRC recomputed so
// that Redis hands the damage to the module's loader instead of refusing the checksum.

import (
	"fmt"
	"math/rand"
	"slices"
)

// dumpSeed is a valid payload with its parsed layout.
type dumpSeed struct {
	dump   []byte
	layout dumpLayout
}

func newDumpSeed(dump []byte) (dumpSeed, error) {
	layout, err := dumpLengths(dump)
	return dumpSeed{dump, layout}, err
}

// absurdLengths are the values a length field is set to besides random ones and off-by-few neighbours of the
// true value: nothing, sizes past 32-bit and 48-bit address arithmetic, and the sign bit.
var absurdLengths = []uint64{0, 1 << 31, 1 << 48, 1 << 63}

// mutate returns a damaged copy of s.dump, resealed, and what was done to it.
func (s dumpSeed) mutate(rng *rand.Rand) ([]byte, string) {
	body := slices.Clone(s.dump[:len(s.dump)-dumpTrailerLen])
	trailer := s.dump[len(s.dump)-dumpTrailerLen:]
	start := s.layout.valueStart // the type byte and module id stay, so the module sees every payload
	var what string
	switch op := rng.Intn(7); {
	case op == 0:
		n := 1 + rng.Intn(3)
		what = fmt.Sprintf("flipped %d bits at", n)
		for range n {
			at := start + rng.Intn(len(body)-start)
			body[at] ^= 1 << rng.Intn(8)
			what += fmt.Sprintf(" %d", at)
		}
	case op == 1:
		n := start + rng.Intn(len(body)-start)
		what = fmt.Sprintf("cut to %d of %d bytes", n, len(body))
		body = body[:n]
	case op == 2:
		at := start + rng.Intn(len(body)-start)
		n := min(1+rng.Intn(8), len(body)-at)
		rng.Read(body[at : at+n])
		what = fmt.Sprintf("%d random bytes at %d", n, at)
	case op == 3: // a zeroed byte: a NUL inside a STRING element, a dim or length of 0
		at := start + rng.Intn(len(body)-start)
		body[at] = 0
		what = fmt.Sprintf("zeroed byte %d", at)
	default:
		l := s.layout.lengths[rng.Intn(len(s.layout.lengths))]
		v := l.value + uint64(rng.Intn(7)) - 3
		switch rng.Intn(3) {
		case 0:
			v = absurdLengths[rng.Intn(len(absurdLengths))]
		case 1:
			v = rng.Uint64() >> rng.Intn(64)
		}
		what = fmt.Sprintf("length at %d (%d) set to %d", l.at, l.value, v)
		body = slices.Concat(body[:l.at], rdbLength(v), body[l.at+l.size:])
	}
	return []byte(resealDump(slices.Concat(body, trailer))), what
}
