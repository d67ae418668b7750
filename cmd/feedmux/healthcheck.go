package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck asks a running feedmux for /healthz at the address serve
// would listen on, found from the same flags, environment and
// configuration file, and fails (exit 1) unless it answers 200. The
// Docker image's HEALTHCHECK runs it: the image has no curl.
func runHealthcheck(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	m := NewMain()
	m.command = "healthcheck"
	if err := m.ParseFlags(args, stderr, getenv); err != nil {
		return flagError(err)
	}
	url := "http://" + localAddr(m.Config.Server.Listen) + "/healthz"
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "unhealthy:", err)
		return errReported
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "unhealthy:", url, resp.Status)
		return errReported
	}
	fmt.Fprintln(stdout, "healthy:", url)
	return nil
}

// localAddr turns a listen address into one to connect to on this host:
// ":8080" and "0.0.0.0:8080" become 127.0.0.1:8080, "[::]:8080" [::1]:8080.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}
