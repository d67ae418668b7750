package main

import (
	"bytes"
	"cmp"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mmcdole/gofeed"
	_ "modernc.org/sqlite"
)

// storeFloorSchema is the least a store of items needs: each item once per
// feed, by its id, with the fields a reader shows.
const storeFloorSchema = `CREATE TABLE items (id INTEGER PRIMARY KEY, feed INTEGER NOT NULL,
	guid TEXT NOT NULL, url TEXT, title TEXT, content TEXT, published INTEGER, UNIQUE (feed, guid))`

// storeFloorRun is the floor with the least a SQLite store adds: every
// item's fields, as gofeed gave them, inserted into storeFloorSchema in
// modernc.org/sqlite, one transaction per feed through one connection,
// with the daemon's journal settings (WAL, synchronous=normal). No
// sanitizing, normalizing, tags, copies, search index or grouping: what
// feedmux's ingest costs beyond this is those.
func storeFloorRun(f *farm, concurrency int, path string) (Result, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(wal)&_pragma=synchronous(normal)&_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		return Result{}, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(storeFloorSchema); err != nil {
		return Result{}, fmt.Errorf("store floor schema: %w", err)
	}
	insert, err := db.Prepare(`INSERT INTO items (feed, guid, url, title, content, published) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return Result{}, err
	}
	defer insert.Close()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency}}
	var failed atomic.Value
	cpu0 := cpuSeconds()
	start := time.Now()
	pool(f.n, concurrency, func(i int) {
		doc, err := fetchParse(client, f.feedURL(i))
		if err == nil {
			err = storeItems(db, insert, i, doc.Items)
		}
		if err != nil {
			failed.Store(fmt.Errorf("feed %d: %w", i, err))
		}
	})
	if err, ok := failed.Load().(error); ok {
		return Result{}, err
	}
	r := Result{StoreFloorSeconds: time.Since(start).Seconds(), StoreFloorCPU: cpuSeconds() - cpu0}
	err = db.QueryRow(`SELECT count(*) FROM items`).Scan(&r.Items)
	return r, err
}

// fetchParse fetches url and parses it with gofeed, as the floor does.
func fetchParse(client *http.Client, url string) (*gofeed.Feed, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	return gofeed.NewParser().Parse(bytes.NewReader(body))
}

// storeItems inserts the items of feed in one transaction.
func storeItems(db *sql.DB, insert *sql.Stmt, feed int, items []*gofeed.Item) error {
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	ins := tx.Stmt(insert)
	for _, it := range items {
		var published int64
		if it.PublishedParsed != nil {
			published = it.PublishedParsed.Unix()
		}
		if _, err := ins.Exec(feed, cmp.Or(it.GUID, it.Link), it.Link, it.Title, cmp.Or(it.Content, it.Description), published); err != nil {
			return err
		}
	}
	return tx.Commit()
}
