package backends

import (
	"errors"
	"testing"
)

type fake struct{ path string }

func (f fake) Name() string    { return "FAKE" }
func (f fake) Version() string { return f.path }
func (fake) NewModel([]byte, ModelOptions) (Model, error) {
	return nil, errors.New("no models here")
}

func TestRegistry(t *testing.T) {
	opens := 0
	Register("Fake", func(path string) (Backend, error) {
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
	Register("TWICE", nil)
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Register("twice", nil)
}
