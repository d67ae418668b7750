// Package pgtest runs a private PostgreSQL cluster for a package's tests:
// initdb into a temporary directory, a server that listens on a unix
// socket in it and nowhere else, and a new database for each test. It
// needs PostgreSQL's server binaries (Debian: apt-get install postgresql).
//
// A test package starts the cluster in its TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and each test asks for a database with URL. Without the binaries, URL
// skips the test, or fails it when the environment variable CI is set.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Missing is the message of a test that cannot run without PostgreSQL.
const Missing = "PostgreSQL is not installed: apt-get install postgresql"

// port names the socket file; nothing listens on TCP.
const port = "5432"

// cluster is the package's running cluster; nil when none could start.
var (
	cluster  *Cluster
	startErr error
	dbSeq    atomic.Int64
)

// Cluster is a running PostgreSQL server of the tests' own.
type Cluster struct {
	bin    string // the directory of initdb, pg_ctl and postgres
	dir    string // holds data/ and the socket
	cred   *syscall.Credential
	socket string
}

// Main starts a cluster, runs the tests and stops the cluster. When the
// binaries are missing the tests still run, and URL skips (or fails) them.
func Main(m *testing.M) int {
	cluster, startErr = Start()
	code := m.Run()
	if cluster != nil {
		if err := cluster.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// errMissing says the binaries were not found.
var errMissing = errors.New(Missing)

// URL creates an empty database for the test and returns its URL. It skips
// the test when PostgreSQL is not installed (fails it when CI is set), and
// fails it when the cluster did not start.
func URL(tb testing.TB) string {
	tb.Helper()
	switch {
	case errors.Is(startErr, errMissing) && os.Getenv("CI") != "":
		tb.Fatal(Missing)
	case errors.Is(startErr, errMissing):
		tb.Skip(Missing)
	case startErr != nil:
		tb.Fatalf("pgtest: %v", startErr)
	case cluster == nil:
		tb.Fatal("pgtest: no cluster: call pgtest.Main from TestMain")
	}
	name := "test" + strconv.FormatInt(dbSeq.Add(1), 10)
	if err := cluster.exec(tb.Context(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() {
		// The test's own connections are closed by now (cleanups run last
		// registered first); FORCE ends any it left.
		if err := cluster.exec(context.Background(), "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return cluster.URL(name)
}

// URL is the connection URL of the database name.
func (c *Cluster) URL(name string) string {
	return "postgres://postgres@/" + name + "?host=" + c.socket + "&port=" + port + "&sslmode=disable"
}

// CreateDatabase creates the empty database name and returns its URL,
// for a program other than a test (the benchmark harness).
func (c *Cluster) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := c.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", err
	}
	return c.URL(name), nil
}

func (c *Cluster) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, c.URL("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// binDir finds PostgreSQL's server binaries: pg_config's bindir, else the
// newest of Debian's versioned directories, else initdb on the PATH.
func binDir() (string, error) {
	has := func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "initdb"))
		return err == nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if dir := string(trimNewline(out)); has(dir) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, dir := range dirs {
		if has(dir) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errMissing
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// version is the major version in a path /usr/lib/postgresql/N/bin.
func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Start initializes and starts a cluster in a new temporary directory.
// PostgreSQL refuses to run as root, so when the tests do, the cluster
// runs as the user nobody and owns its directory.
func Start() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir, socket: dir}
	if err := c.start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start() error {
	if os.Geteuid() == 0 {
		u, err := user.Lookup("nobody")
		if err != nil {
			return fmt.Errorf("running as root, and no user nobody to run PostgreSQL as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return err
		}
	}
	data := filepath.Join(c.dir, "data")
	// LC_CTYPE C.UTF-8 (built into Debian's glibc), as a server's
	// databases usually have a UTF-8 one: the text search parser classes
	// letters by it. The collation stays C.
	if err := c.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8",
		"--locale=C", "--lc-ctype=C.UTF-8", "--no-sync"); err != nil {
		return err
	}
	// Durability is not what the tests check: no fsync makes them quick.
	opts := "-k " + c.socket + " -c listen_addresses='' -p " + port +
		" -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
	return c.run("pg_ctl", "start", "-w", "-t", "60", "-D", data, "-l", filepath.Join(c.dir, "log"), "-o", opts)
}

// run runs one of the binaries as the cluster's user.
func (c *Cluster) run(name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		return fmt.Errorf("%s: %w\n%s%s", name, err, out, log)
	}
	return nil
}

// Stop stops the server and removes its directory.
func (c *Cluster) Stop() error {
	err := c.run("pg_ctl", "stop", "-m", "fast", "-w", "-D", filepath.Join(c.dir, "data"))
	if rmErr := os.RemoveAll(c.dir); err == nil {
		err = rmErr
	}
	return err
}
