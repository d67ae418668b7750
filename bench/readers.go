package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// readTags has clients readers ask for the tag feeds t0 … t{tags-1} at
// base for dur, each about ten times a second, half of them
// conditionally. It prints the latencies of each 10 s and returns them all,
// and the requests that failed.
func readTags(base string, tags, clients int, dur time.Duration) (lat []time.Duration, failures []string) {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients}
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		finish  = time.Now().Add(dur)
		started = time.Now()
		phases  = map[int][]time.Duration{} // by 10 s of the run
	)
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 7))
			var mine []time.Duration
			etags := map[string]string{}
			// Each reader asks every 100 ms or so, as a busy reader farm
			// would: latency is measured under a load, not at saturation.
			tick := time.NewTicker(time.Duration(80+rng.IntN(40)) * time.Millisecond)
			defer tick.Stop()
			for time.Now().Before(finish) {
				<-tick.C
				path := fmt.Sprintf("/tags/t%d.%s", rng.IntN(tags), [...]string{"atom", "rss", "json"}[rng.IntN(3)])
				req, _ := http.NewRequest("GET", base+path, nil)
				if e := etags[path]; e != "" && rng.IntN(2) == 0 {
					req.Header.Set("If-None-Match", e) // half the readers poll conditionally
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				discard(resp.Body)
				resp.Body.Close()
				// A tag not ingested yet is a 404 until its first items land.
				if resp.StatusCode != 200 && resp.StatusCode != 304 && resp.StatusCode != 404 {
					mu.Lock()
					failures = append(failures, path+": "+resp.Status)
					mu.Unlock()
					continue
				}
				etags[path] = resp.Header.Get("ETag")
				took := time.Since(t0)
				mine = append(mine, took)
				mu.Lock()
				phase := int(time.Since(started) / (10 * time.Second))
				phases[phase] = append(phases[phase], took)
				mu.Unlock()
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// The latencies of each 10 s: does the cold ingest or the steady
	// growth make the tail?
	for k := 0; k < len(phases); k++ {
		if l := phases[k]; len(l) > 0 {
			slices.Sort(l)
			fmt.Printf("phase %d (%d-%d s): %d requests, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
				k, 10*k, 10*k+10, len(l), ms(l[len(l)/2]), ms(l[len(l)*99/100]), ms(l[len(l)-1]))
		}
	}
	return lat, failures
}
