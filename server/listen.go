package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Listen opens the listening socket, so that a bad address fails at once.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr is the address Listen opened.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves on the listener opened by Listen until Shutdown; it returns
// nil after a Shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for the requests in
// flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		// What is left are requests that would not finish in time and
		// connections a client opened but never used (net/http waits 5s
		// for those): close them rather than fail the shutdown.
		s.log.Warn("closing connections still open at the shutdown deadline")
		return s.srv.Close()
	}
	return err
}
