package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// minifluxVersion is the Miniflux the harness builds and measures.
const minifluxVersion = "v2.3.5"

// Miniflux's admin, created at its start (CREATE_ADMIN).
const minifluxUser, minifluxPassword = "bench", "bench-password"

// buildMiniflux installs miniflux.app/v2 at minifluxVersion into the user
// cache directory, once, and returns the binary's path. It builds outside
// feedmux's module: feedmux's go.mod is not touched.
func buildMiniflux() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("building Miniflux: %w", err)
	}
	dir := filepath.Join(cache, "feedmux-bench", "miniflux-"+minifluxVersion)
	bin := filepath.Join(dir, "miniflux.app")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goCmd, "install", "miniflux.app/v2@"+minifluxVersion)
	cmd.Dir = os.TempDir() // not inside feedmux's module
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building Miniflux: go install miniflux.app/v2@%s: %w\n%s", minifluxVersion, err, out)
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("building Miniflux: go install left no %s: %w", bin, err)
	}
	return bin, nil
}

// tailBuffer keeps the last bytes written to it: a process's stderr.
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	lines int // lines written in all
	warns int // of them, warnings and errors (slog's level=WARN, level=ERROR)
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines += bytes.Count(p, []byte("\n"))
	t.warns += bytes.Count(p, []byte("level=WARN")) + bytes.Count(p, []byte("level=ERROR"))
	t.buf = append(t.buf, p...)
	if len(t.buf) > 4096 {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-4096:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// miniflux is a running Miniflux process.
type miniflux struct {
	cmd    *exec.Cmd
	URL    string // http://127.0.0.1:port
	token  string // an API key, once made
	stderr *tailBuffer
	exited chan error
}

// minifluxEnv is Miniflux's configuration in the harness: a private
// database, its own admin, loopback only, no scheduler (so only the
// harness's refresh polls), quiet logs. extra (KEY=VALUE) comes last and
// wins.
func minifluxEnv(dbURL, listen string, extra []string) []string {
	env := []string{
		"DATABASE_URL=" + dbURL,
		"RUN_MIGRATIONS=1",
		"CREATE_ADMIN=1",
		"ADMIN_USERNAME=" + minifluxUser,
		"ADMIN_PASSWORD=" + minifluxPassword,
		"LISTEN_ADDR=" + listen,
		"FETCHER_ALLOW_PRIVATE_NETWORKS=1", // the farm is on 127.0.0.1
		"DISABLE_SCHEDULER_SERVICE=1",      // no background polls, no cleanup
		"LOG_LEVEL=warning",
		"LOG_FORMAT=text",
	}
	return append(env, extra...)
}

// startMiniflux starts bin on a free loopback port with the database
// dbURL and waits until it answers its health check.
func startMiniflux(bin, dbURL string, extra []string) (*miniflux, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	listen := ln.Addr().String()
	ln.Close()
	m := &miniflux{URL: "http://" + listen, stderr: &tailBuffer{}, exited: make(chan error, 1)}
	m.cmd = exec.Command(bin)
	m.cmd.Env = append(os.Environ(), minifluxEnv(dbURL, listen, extra)...)
	m.cmd.Stdout, m.cmd.Stderr = m.stderr, m.stderr
	if err := m.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting Miniflux: %w", err)
	}
	go func() { m.exited <- m.cmd.Wait() }()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resp, err := http.Get(m.URL + "/healthcheck")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return m, nil
			}
		}
		select {
		case err := <-m.exited:
			return nil, fmt.Errorf("starting Miniflux: it exited (%v); its output ends:\n%s", err, m.stderr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			m.stop()
			return nil, fmt.Errorf("starting Miniflux: no health check answer in 2 minutes; its output ends:\n%s", m.stderr)
		}
	}
}

// stop interrupts Miniflux (a graceful stop) and kills it when it has not
// stopped in 10 seconds.
func (m *miniflux) stop() {
	m.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-m.exited:
	case <-time.After(10 * time.Second):
		m.cmd.Process.Kill()
		<-m.exited
	}
}

// call makes one API request and decodes a JSON answer into into (when
// not nil). It fails with the status and body unless the status is want.
func (m *miniflux) call(method, path, contentType string, body []byte, want int, into any) error {
	req, err := http.NewRequest(method, m.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if m.token != "" {
		req.Header.Set("X-Auth-Token", m.token)
	} else {
		req.SetBasicAuth(minifluxUser, minifluxPassword)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("Miniflux API %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("Miniflux API %s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, strings.TrimSpace(string(data)))
	}
	if into != nil {
		if err := json.Unmarshal(data, into); err != nil {
			return fmt.Errorf("Miniflux API %s %s: %w in %q", method, path, err, data)
		}
	}
	return nil
}

// login makes an API key with the admin's password, so that later calls
// skip the password hash (bcrypt) that basic authentication checks.
func (m *miniflux) login() error {
	var key struct {
		Token string `json:"token"`
	}
	if err := m.call("POST", "/v1/api-keys", "application/json", []byte(`{"description":"feedmux bench"}`), http.StatusCreated, &key); err != nil {
		return err
	}
	if key.Token == "" {
		return fmt.Errorf("Miniflux API POST /v1/api-keys: no token in the answer")
	}
	m.token = key.Token
	return nil
}

// entriesTotal is the number of entries Miniflux's API counts, every
// status.
func (m *miniflux) entriesTotal() (int, error) {
	var page entriesPage
	if err := m.call("GET", "/v1/entries?limit=1", "", nil, http.StatusOK, &page); err != nil {
		return 0, err
	}
	return page.Total, nil
}

// entriesPage is the part of GET /v1/entries's answer the harness reads.
type entriesPage struct {
	Total   int               `json:"total"`
	Entries []json.RawMessage `json:"entries"`
}
