package batch

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// store is a fake store: a transaction collects the writes made in it, and
// a commit keeps them.
type store struct {
	mu        sync.Mutex
	committed []string // the writes kept, in commit order
	txs       [][]string
}

type tx struct{ writes []string }

func (s *store) run(_ context.Context, fn func(*tx) error) error {
	t := &tx{}
	if err := fn(t); err != nil {
		return err // rolled back: nothing of t is kept
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.committed = append(s.committed, t.writes...)
	s.txs = append(s.txs, t.writes)
	return nil
}

func writing(name string) func(*tx) error {
	return func(t *tx) error { t.writes = append(t.writes, name); return nil }
}

// behind holds the writer, starts each write on its own goroutine, waits
// until all are queued, runs whileQueued, lets the writer go and waits
// for the writes; it returns their errors.
func behind(t *testing.T, c *Committer[*tx], whileQueued func(), writes map[string]func() error) map[string]error {
	t.Helper()
	held, release := make(chan struct{}), make(chan struct{})
	holding := make(chan error, 1)
	go func() {
		holding <- c.Do(context.Background(), func(*tx) error { close(held); <-release; return nil })
	}()
	<-held
	var mu sync.Mutex
	errs := map[string]error{}
	var wg sync.WaitGroup
	for name, w := range writes {
		wg.Go(func() {
			err := w()
			mu.Lock()
			errs[name] = err
			mu.Unlock()
		})
	}
	for deadline := time.Now().Add(10 * time.Second); c.Queued() < len(writes); {
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", c.Queued(), len(writes))
		}
		time.Sleep(time.Millisecond)
	}
	whileQueued()
	close(release)
	wg.Wait()
	if err := <-holding; err != nil {
		t.Fatal(err)
	}
	return errs
}

func TestCommitter_Shares(t *testing.T) {
	s := &store{}
	c := New(3, s.run)
	writes := map[string]func() error{}
	for i := range 7 {
		name := fmt.Sprint("w", i)
		writes[name] = func() error { return c.Do(context.Background(), writing(name)) }
	}
	for name, err := range behind(t, c, func() {}, writes) {
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// The held write alone, then the seven queued behind it, three at most
	// to a transaction.
	if len(s.committed) != 7 || len(s.txs) != 4 {
		t.Fatalf("committed %v in %v, want the 7 writes in 1 + 3 transactions", s.committed, s.txs)
	}
	for _, writes := range s.txs[1:] {
		if len(writes) > 3 {
			t.Errorf("a transaction of %d writes, want at most 3", len(writes))
		}
	}
	if got := c.Shared(); got != 6 {
		t.Errorf("Shared() = %d, want 6 (3 + 3; the seventh went alone)", got)
	}
}

func TestCommitter_FailureIsItsOwn(t *testing.T) {
	s := &store{}
	c := New(32, s.run)
	bad := errors.New("this write fails")
	gone, cancel := context.WithCancel(context.Background())
	errs := behind(t, c, cancel, map[string]func() error{
		"a":    func() error { return c.Do(context.Background(), writing("a")) },
		"b":    func() error { return c.Do(context.Background(), writing("b")) },
		"bad":  func() error { return c.Do(context.Background(), func(*tx) error { return bad }) },
		"gone": func() error { return c.Do(gone, writing("gone")) },
		"c":    func() error { return c.Do(context.Background(), writing("c")) },
	})
	if !errors.Is(errs["bad"], bad) {
		t.Errorf("the failing write: %v, want its own error", errs["bad"])
	}
	if !errors.Is(errs["gone"], context.Canceled) {
		t.Errorf("the write whose caller left: %v, want context.Canceled", errs["gone"])
	}
	for _, name := range []string{"a", "b", "c"} {
		if errs[name] != nil {
			t.Errorf("%s: %v", name, errs[name])
		}
	}
	seen := map[string]int{}
	for _, w := range s.committed {
		seen[w]++
	}
	if len(seen) != 3 || seen["a"] != 1 || seen["b"] != 1 || seen["c"] != 1 {
		t.Errorf("committed %v, want a, b and c once each", s.committed)
	}
}

// TestCommitter_Many: many writers at once, each write committed exactly
// once, whatever batches they fell into.
func TestCommitter_Many(t *testing.T) {
	s := &store{}
	c := New(8, s.run)
	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			if err := c.Do(context.Background(), writing(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, w := range s.committed {
		if seen[w] {
			t.Fatalf("write %s committed twice", w)
		}
		seen[w] = true
	}
	if len(seen) != 400 || c.Queued() != 0 {
		t.Errorf("%d writes committed, %d queued; want 400 and none", len(seen), c.Queued())
	}
}

func TestCommitter_CanceledBeforeQueued(t *testing.T) {
	s := &store{}
	c := New(8, s.run)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Do(ctx, writing("x")); !errors.Is(err, context.Canceled) || len(s.committed) != 0 {
		t.Errorf("Do with an ended context: %v, committed %v; want context.Canceled and nothing", err, s.committed)
	}
}
