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
// concurrent clients: a 200 and a 304, each with and without gzip.
func serveRun(db feedmux.Store, clients int, dur time.Duration) ([]Serving, error) {
	srv := server.New(db, slog.New(slog.DiscardHandler))
	srv.Configure(server.Config{MaxAge: server.DefaultMaxAge, RenderInterval: server.DefaultRenderInterval})
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		return nil, err
	}
	go srv.Serve()
	defer srv.Shutdown(context.Background())
	url := "http://" + srv.Addr().String() + "/tags/t0.atom"
	out, err := serveCases(url, "", clients, dur)
	if err != nil {
		return nil, err
	}
	// The yardstick, in the same process tree: the same bytes from a bare
	// Go server.
	bare, err := newBareServer(url)
	if err != nil {
		return nil, err
	}
	defer bare.close()
	yard, err := serveCases(bare.URL, "bare Go server: ", clients, dur)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if yard[i].RPS > 0 {
			out[i].ToBare = out[i].RPS / yard[i].RPS
		}
	}
	return append(out, yard...), nil
}

// serveCases measures url: a 200 and a 304, each with and without gzip.
func serveCases(url, prefix string, clients int, dur time.Duration) ([]Serving, error) {
	var out []Serving
	for _, c := range []struct {
		name string
		gzip bool
		cond bool
	}{{"200", false, false}, {"200 gzip", true, false}, {"304", false, true}, {"304 gzip", true, true}} {
		header := http.Header{}
		if c.gzip {
			header.Set("Accept-Encoding", "gzip")
		}
		first, size, err := get(url, header)
		if err != nil {
			return nil, err
		}
		want := http.StatusOK
		if c.cond {
			header.Set("If-None-Match", first.Get("ETag"))
			want = http.StatusNotModified
		}
		s := hammer(url, header, want, clients, dur)
		s.Case, s.BodyBytes = prefix+c.name, size
		if c.cond {
			s.BodyBytes = 0
		}
		out = append(out, s)
	}
	return out, nil
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

// hammer sends requests from clients goroutines for dur and reports the
// rate and latency percentiles of answers with status want.
func hammer(url string, h http.Header, want, clients int, dur time.Duration) Serving {
	tr := &http.Transport{MaxIdleConns: clients, MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		errs   int
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
			lat = append(lat, mine...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	s := Serving{Requests: len(lat), Errors: errs, Clients: clients, RPS: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		s.P50Millis = ms(lat[len(lat)/2])
		s.P99Millis = ms(lat[len(lat)*99/100])
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
