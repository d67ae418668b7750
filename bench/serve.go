package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/feedmux/feedmux"
	"github.com/feedmux/feedmux/server"
)

// serveRun serves the database and measures a cached tag feed with
// concurrent clients, a 200 and a 304, each with and without gzip, against
// a bare Go server of the same bytes in the same process tree.
func serveRun(db feedmux.Store, clients int, dur time.Duration) ([]Serving, error) {
	srv := server.New(db, slog.New(slog.DiscardHandler))
	srv.Configure(server.Config{MaxAge: server.DefaultMaxAge, RenderInterval: server.DefaultRenderInterval})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	url := "http://" + srv.Addr().String() + "/tags/t0.atom"
	bare, err := newBareServer(url)
	if err != nil {
		return nil, err
	}
	defer bare.close()
	urls := [2]string{url, bare.URL}
	var ours, yard []Serving
	for _, c := range []struct {
		name       string
		gzip, cond bool
	}{{"200", false, false}, {"200 gzip", true, false}, {"304", false, true}, {"304 gzip", true, true}} {
		var headers [2]http.Header
		size := 0
		for i, u := range urls {
			headers[i] = http.Header{}
			if c.gzip {
				headers[i].Set("Accept-Encoding", "gzip")
			}
			first, n, err := get(u, headers[i])
			if err != nil {
				return nil, err
			}
			size = n
			if c.cond {
				// Each server's own tag: ours differs by encoding.
				headers[i].Set("If-None-Match", first.Get("ETag"))
				size = 0
			}
		}
		want := http.StatusOK
		if c.cond {
			want = http.StatusNotModified
		}
		a, b := hammerPair(urls, headers, want, clients, dur)
		a.Case, b.Case = c.name, "bare Go server: "+c.name
		a.BodyBytes, b.BodyBytes = size, size
		if b.RPS > 0 {
			a.ToBare = a.RPS / b.RPS
		}
		ours, yard = append(ours, a), append(yard, b)
	}
	return append(ours, yard...), nil
}

func get(url string, h http.Header) (http.Header, int, error) {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header = h.Clone()
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	n := discard(resp.Body)
	if resp.StatusCode != 200 {
		return nil, 0, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp.Header, n, nil
}

// pairTurns is how many turns each of two servers gets in hammerPair.
const pairTurns = 4

// hammerPair measures two URLs, each with its headers, for dur each, in
// turns: A B B A A B B A. A machine that slows down or speeds up meanwhile
// (a shared one does) weighs on both alike, so their ratio holds where
// two measurements one after the other did not.
func hammerPair(urls [2]string, headers [2]http.Header, want, clients int, dur time.Duration) (Serving, Serving) {
	var loads [2]load
	var clientsOf [2]*http.Client
	for i := range clientsOf {
		tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true}
		defer tr.CloseIdleConnections()
		clientsOf[i] = &http.Client{Transport: tr}
	}
	turn := dur / pairTurns
	for t := range 2 * pairTurns {
		i := (t + t/2) % 2 // 0 1 1 0 0 1 1 0
		loads[i].add(hammer(clientsOf[i], urls[i], headers[i], want, clients, turn))
	}
	return loads[0].serving(clients), loads[1].serving(clients)
}

// load is what clients measured of one server: the latencies of the
// answers wanted, the others, and the time it took.
type load struct {
	lat     []time.Duration
	errs    int
	elapsed time.Duration
}

func (l *load) add(m load) {
	l.lat, l.errs, l.elapsed = append(l.lat, m.lat...), l.errs+m.errs, l.elapsed+m.elapsed
}

// serving is the load as a Serving: its rate and latency percentiles.
func (l *load) serving(clients int) Serving {
	slices.Sort(l.lat)
	s := Serving{Requests: len(l.lat), Errors: l.errs, Clients: clients}
	if l.elapsed > 0 {
		s.RPS = float64(len(l.lat)) / l.elapsed.Seconds()
	}
	if len(l.lat) > 0 {
		s.P50Millis = ms(l.lat[len(l.lat)/2])
		s.P99Millis = ms(l.lat[len(l.lat)*99/100])
	}
	return s
}

// hammer sends requests from clients goroutines for dur and measures the
// answers with status want.
func hammer(client *http.Client, url string, h http.Header, want, clients int, dur time.Duration) load {
	var (
		mu     sync.Mutex
		out    load
		wg     sync.WaitGroup
		start  = time.Now()
		finish = start.Add(dur)
	)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			bad := 0
			req, _ := http.NewRequest("GET", url, nil)
			req.Header = h.Clone()
			for time.Now().Before(finish) {
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad++
					continue
				}
				discard(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != want {
					bad++
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			out.lat = append(out.lat, mine...)
			out.errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	out.elapsed = time.Since(start)
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
