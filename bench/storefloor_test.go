package main

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// TestStoreFloor checks that the store floor keeps every item of every
// feed of the farm (each of its three formats) once, with its content.
func TestStoreFloor(t *testing.T) {
	f, err := newFarm(6, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer f.close()
	path := filepath.Join(t.TempDir(), "floor.db")
	r, err := storeFloorRun(f, 3, path)
	if err != nil {
		t.Fatal(err)
	}
	if r.Items != 24 || r.StoreFloorSeconds <= 0 {
		t.Fatalf("stored %d items in %.3f s, want 24", r.Items, r.StoreFloorSeconds)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var feeds, empty int
	if err := db.QueryRow(`SELECT count(DISTINCT feed), count(*) FILTER (WHERE content = '' OR title = '') FROM items`).Scan(&feeds, &empty); err != nil {
		t.Fatal(err)
	}
	if feeds != 6 || empty != 0 {
		t.Errorf("%d feeds, %d items without a title or content; want 6 and 0", feeds, empty)
	}
}
