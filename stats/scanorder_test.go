package stats

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"
)

// The orders redisai-py's test suite expects from RedisAI 1.2.7 (test_model_scan, test_script_scan).
func TestScanOrderMatchesRedisAI(t *testing.T) {
	for _, c := range []struct{ stored, listed []string }{
		{[]string{"m", "pt_model"}, []string{"pt_model", "m"}},
		{[]string{"ket1", "ket2"}, []string{"ket1", "ket2"}},
	} {
		o := newScanOrder()
		for _, k := range c.stored {
			o.add(k)
		}
		if got := o.keys(); !slices.Equal(got, c.listed) {
			t.Errorf("stored %q, listed %q, want %q", c.stored, got, c.listed)
		}
	}
}

// "m" and "pt_model" share a bucket of the first table: the newer entry is listed first.
func TestScanOrderNewestFirstInABucket(t *testing.T) {
	o := newScanOrder()
	o.add("pt_model")
	o.add("m")
	if got := o.keys(); !slices.Equal(got, []string{"m", "pt_model"}) {
		t.Fatalf("listed %q", got)
	}
}

// Whatever adds, removes and lookups happen, through resizes and rehashing, every present key is
// listed exactly once.
func TestScanOrderListsEachKeyOnce(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	o := newScanOrder()
	present := map[string]bool{}
	grew := false
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("key%d", r.Intn(200))
		switch r.Intn(3) {
		case 0:
			if !present[k] {
				o.add(k)
				present[k] = true
			}
		case 1:
			o.remove(k)
			delete(present, k)
		case 2:
			o.find()
		}
		grew = grew || o.rehashing()
		got := o.keys()
		if len(got) != len(present) {
			t.Fatalf("op %d: %d keys listed, %d present", i, len(got), len(present))
		}
		for _, k := range got {
			if !present[k] {
				t.Fatalf("op %d: %q listed, not present", i, k)
			}
		}
	}
	if !grew {
		t.Fatal("the table never resized")
	}
}
