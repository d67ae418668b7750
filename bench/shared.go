package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/feedmux/feedmux/aggregator"
	"github.com/feedmux/feedmux/storage/postgres"
	"github.com/feedmux/feedmux/storage/postgres/pgtest"
)

// SharedResult is one process's part of a cold ingest that several
// processes make together on one PostgreSQL database.
type SharedResult struct {
	Seconds float64 // from its start until every feed was polled, by any process
	Polled  int     // the feeds it polled itself
	Items   int     // stored in all, at the end
}

// sharedWorker is one of the processes: it polls the farm with the
// daemon's scheduler, claiming each due feed, until every feed of the
// database was polled once.
func sharedWorker(f *farm, concurrency int, dbURL, instance string) (SharedResult, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := postgres.Open(ctx, dbURL)
	if err != nil {
		return SharedResult{}, err
	}
	defer db.Close()
	db.Instance = instance
	start := time.Now()
	feeds := f.feeds()
	p := aggregator.NewPoller(db, aggregator.NewFetcher(aggregator.FetcherConfig{Timeout: time.Minute, UserAgent: "feedmux-bench"}), slog.New(slog.DiscardHandler))
	p.Concurrency, p.PerHost, p.Instance = concurrency, concurrency, instance
	p.SetFeeds(feeds)
	ran := make(chan error, 1)
	go func() { ran <- p.Run(ctx) }()
	for {
		states, err := db.FeedStates(ctx)
		if err != nil {
			return SharedResult{}, err
		}
		done, mine := len(states) == f.n, 0
		for _, st := range states {
			done = done && !st.LastPoll.IsZero()
			if st.PolledBy == instance {
				mine++
			}
		}
		if done {
			r := SharedResult{Seconds: time.Since(start).Seconds(), Polled: mine}
			r.Items, err = db.ItemCount(ctx)
			cancel()
			<-ran
			return r, err
		}
		select {
		case err := <-ran:
			return SharedResult{}, fmt.Errorf("poller stopped: %v", err)
		case <-time.After(50 * time.Millisecond): // polling the database for the end, with the farm's deadline below
		}
		if time.Since(start) > 10*time.Minute {
			return SharedResult{}, fmt.Errorf("not every feed polled after 10 minutes")
		}
	}
}

// measureShared runs a cold ingest of an n × m farm by one process, then
// by `instances` processes together, each on a fresh database of cluster,
// and returns a Markdown table of feeds per second in all.
func measureShared(n, m, instances, concurrency int) (string, error) {
	cluster, err := pgtest.Start()
	if err != nil {
		return "", fmt.Errorf("PostgreSQL: %w", err)
	}
	defer cluster.Stop()
	f, err := newFarm(n, m)
	if err != nil {
		return "", err
	}
	defer f.close()
	for i := range n {
		f.doc(i)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| processes | feeds × items | wall (slowest process) | feeds/s in all | items stored | feeds polled by each |\n| ---: | --- | ---: | ---: | ---: | --- |\n")
	for _, k := range []int{1, instances} {
		url, err := cluster.CreateDatabase(context.Background(), "shared"+strconv.Itoa(k))
		if err != nil {
			return "", err
		}
		results := make([]SharedResult, k)
		errs := make([]error, k)
		var wg sync.WaitGroup
		for i := range k {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = runSharedChild(f.URL, n, m, concurrency, url, "p"+strconv.Itoa(i), &results[i])
			}()
		}
		wg.Wait()
		wall, polled := 0.0, []string{}
		for i, r := range results {
			if errs[i] != nil {
				return "", errs[i]
			}
			wall = max(wall, r.Seconds)
			polled = append(polled, strconv.Itoa(r.Polled))
		}
		fmt.Fprintf(&b, "| %d | %d × %d | %.2f s | %.0f | %d | %s |\n", k, n, m, wall, float64(n)/wall, results[0].Items, strings.Join(polled, ", "))
	}
	return b.String(), nil
}

// runSharedChild runs sharedWorker in a process of its own.
func runSharedChild(farmURL string, n, m, concurrency int, dbURL, instance string, into *SharedResult) error {
	return runChildInto([]string{"-worker", "shared", "-farm", farmURL, "-feeds", strconv.Itoa(n), "-items", strconv.Itoa(m),
		"-concurrency", strconv.Itoa(concurrency), "-db", dbURL, "-instance", instance}, into)
}
