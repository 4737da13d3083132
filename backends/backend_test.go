package backends

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

type fake struct{ path string }

func (f fake) Name() string    { return "FAKE" }
func (f fake) Version() string { return f.path }
func (fake) NewModel([]byte, ModelOptions) (Model, error) {
	return nil, errors.New("no models here")
}

// nextIndex gives the test backends RDB indexes of their own, past RedisAI's.
var nextIndex = 100

// register registers a test backend.
func register(name string, open func(path string) (Backend, error)) {
	nextIndex++
	Register(Driver{Name: name, RDBIndex: nextIndex, Open: open})
}

func TestRegistry(t *testing.T) {
	opens := 0
	register("Fake", func(path string) (Backend, error) {
		opens++
		if path != "good" {
			return nil, errors.New("cannot open " + path)
		}
		return fake{path}, nil
	})
	if Loaded("FAKE") != nil {
		t.Fatal("loaded before any Load")
	}

	// A failed lazy load is tried once per path, and its error comes back again for that path.
	_, err1 := Load("fake", "bad")
	_, err2 := Load("FAKE", "bad")
	var le *LoadError
	if !errors.As(err1, &le) || le.Backend != "FAKE" || le.Path != "bad" || err2 == nil || err2.Error() != err1.Error() || opens != 1 {
		t.Fatalf("lazy loads: %v / %v after %d opens", err1, err2, opens)
	}
	if err1.Error() != "could not load backend FAKE from bad: cannot open bad" {
		t.Errorf("error text %q", err1)
	}

	// An explicit open tries again; a failure is what lazy loads of that path see next.
	if _, err := Open("FAKE", "worse"); err == nil || opens != 2 {
		t.Fatalf("explicit open: %v", err)
	}
	if _, err := Load("FAKE", "worse"); err == nil || err.Error() != "could not load backend FAKE from worse: cannot open worse" || opens != 2 {
		t.Fatalf("lazy load after a failed open: %v", err)
	}
	// Another path is tried (a load-time path that failed must not hide the default one).
	b, err := Load("FAKE", "good")
	if err != nil || b.Version() != "good" || opens != 3 {
		t.Fatalf("lazy load of another path: %v", err)
	}

	// Once open: the same backend for every lazy load, whatever the path; no second open.
	if b2, err := Load("FAKE", "other"); err != nil || b2 != b || opens != 3 {
		t.Fatalf("lazy load once open: %v %v", b2, err)
	}
	if _, err := Open("FAKE", "good"); err == nil || opens != 3 {
		t.Fatalf("second explicit open: %v", err)
	}
	if Loaded("fake") != b {
		t.Error("Loaded")
	}
}

// A lazy load of a library that was not there looks for it again (RedisAI tries its default path on every
// store): put in place after the first store failed, it was never opened from that path.
func TestMissingLibraryLookedForAgain(t *testing.T) {
	installed := false
	register("Later", func(path string) (Backend, error) {
		if !installed {
			return nil, fmt.Errorf("%w (fetch it)", fs.ErrNotExist)
		}
		return fake{path}, nil
	})
	if _, err := Load("LATER", "lib.so"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("a missing library: %v", err)
	}
	installed = true
	if b, err := Load("LATER", "lib.so"); err != nil || b.Version() != "lib.so" {
		t.Errorf("the library once in place: %v, %v", b, err)
	}
}

func TestUnknownBackend(t *testing.T) {
	_, err := Load("NOPE", "x")
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Load of an unregistered backend: %v", err)
	}
	if Loaded("NOPE") != nil {
		t.Error("Loaded")
	}
}

func TestRegisterTwice(t *testing.T) {
	register("TWICE", nil)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	register("twice", nil)
}

// TestPreloadStaysInvisible: a preloaded backend is the one a lazy Load finds, and the first
// explicit Open of the same path still succeeds, as on a server that had loaded nothing.
func TestPreloadStaysInvisible(t *testing.T) {
	opens := 0
	register("PRE", func(path string) (Backend, error) {
		opens++
		return fake{path}, nil
	})
	b, err := Preload("PRE", "lib")
	if err != nil || Loaded("PRE") != b {
		t.Fatalf("Preload: %v", err)
	}
	if _, err := Open("PRE", "other"); err == nil {
		t.Error("Open from another path than the preload's succeeded")
	}
	if b2, err := Open("PRE", "lib"); err != nil || b2 != b {
		t.Errorf("first Open of the preloaded path: %v", err)
	}
	if _, err := Open("PRE", "lib"); err == nil {
		t.Error("second Open succeeded")
	}
	if opens != 1 {
		t.Errorf("%d opens", opens)
	}

	// Once a lazy Load has used it, the backend counts as loaded.
	register("PRE2", func(path string) (Backend, error) { return fake{path}, nil })
	b, _ = Preload("PRE2", "lib")
	if b2, err := Load("PRE2", "lib"); err != nil || b2 != b {
		t.Fatalf("Load after Preload: %v", err)
	}
	if _, err := Open("PRE2", "lib"); err == nil {
		t.Error("Open after a Load of the preloaded backend succeeded")
	}

	// A backend opened before the preload came to it (AI.CONFIG LOADBACKEND, another path) is not the
	// preload's: it says so with nil (its log named the preload's path, never opened).
	register("PRE3", func(path string) (Backend, error) { return fake{path}, nil })
	if _, err := Open("PRE3", "loaded"); err != nil {
		t.Fatal(err)
	}
	if b, err := Preload("PRE3", "lib"); b != nil || err != nil {
		t.Errorf("Preload of a backend open already: %v, %v, want nil, nil", b, err)
	}
}

// TestOpeningInProgress: a Load waits for an opening in progress and gets its backend (no second
// open); Loaded answers at once meanwhile.
func TestOpeningInProgress(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	opens := 0
	register("SLOW", func(path string) (Backend, error) {
		opens++
		close(started)
		<-release
		return fake{path}, nil
	})
	preloaded := make(chan Backend)
	go func() {
		b, _ := Preload("SLOW", "lib")
		preloaded <- b
	}()
	<-started
	if Loaded("SLOW") != nil {
		t.Error("Loaded during the opening")
	}
	loaded := make(chan Backend)
	go func() {
		b, _ := Load("SLOW", "lib")
		loaded <- b
	}()
	close(release)
	if p, l := <-preloaded, <-loaded; p == nil || l != p || opens != 1 {
		t.Errorf("preload %v, load %v, %d opens", p, l, opens)
	}
}

func TestRegisterSameIndex(t *testing.T) {
	Register(Driver{Name: "IDX1", RDBIndex: 90})
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Register(Driver{Name: "IDX2", RDBIndex: 90})
}

// TestDriversOrder: the registry lists backends by RDB index, whatever the order they registered in,
// and finds them by name (any case) and index.
func TestDriversOrder(t *testing.T) {
	Register(Driver{Name: "ord2", RDBIndex: 81, DefaultLibrary: "two.so"})
	Register(Driver{Name: "ORD1", RDBIndex: 80, Scripts: true})
	var got []string
	for _, d := range Drivers() {
		if strings.HasPrefix(d.Name, "ORD") {
			got = append(got, d.Name)
		}
	}
	if strings.Join(got, " ") != "ORD1 ORD2" {
		t.Errorf("Drivers: %v", got)
	}
	if n := Names(); len(n) != len(Drivers()) {
		t.Errorf("Names: %v", n)
	}
	if d, ok := Lookup("Ord2"); !ok || d.RDBIndex != 81 || d.DefaultLibrary != "two.so" {
		t.Errorf("Lookup: %+v %v", d, ok)
	}
	if d, ok := ByIndex(80); !ok || d.Name != "ORD1" {
		t.Errorf("ByIndex: %+v %v", d, ok)
	}
	if _, ok := ByIndex(79); ok {
		t.Error("ByIndex of an unregistered index")
	}
}

type fakeHost struct{ Host }

// TestSetHost: the host reaches the backends that want it, registered before or after it is set.
func TestSetHost(t *testing.T) {
	var before, after Host
	Register(Driver{Name: "HOST1", RDBIndex: 70, UseHost: func(h Host) { before = h }})
	h := fakeHost{}
	SetHost(h)
	defer SetHost(nil)
	Register(Driver{Name: "HOST2", RDBIndex: 71, UseHost: func(h Host) { after = h }})
	if before != h || after != h {
		t.Errorf("hosts %v %v", before, after)
	}
	SetHost(nil)
	if before != nil || after != nil {
		t.Errorf("hosts after SetHost(nil): %v %v", before, after)
	}
}
