package main

import (
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// dockerfile is what the test reads from ../../Dockerfile, so that it
// cannot drift from the image.
type dockerfile struct {
	buildEnv  []string // CGO_ENABLED=0
	buildArgs []string // -trimpath -ldflags ...
	env       map[string]string
	user      string
	expose    []string // EXPOSE of the final image: "8080"
	volumes   []string // VOLUME of the final image: "/data"
}

func readDockerfile(t *testing.T) dockerfile {
	t.Helper()
	data, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	// Join continued lines.
	text := strings.ReplaceAll(string(data), "\\\n", " ")
	d := dockerfile{env: map[string]string{}}
	final := false
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "FROM "):
			final = !strings.Contains(line, " AS ")
		case strings.HasPrefix(line, "RUN ") && strings.Contains(line, "go build"):
			words := shellWords(strings.SplitN(line, "&&", 2)[0][len("RUN "):])
			i := 0
			for ; i < len(words) && strings.Contains(words[i], "="); i++ {
				d.buildEnv = append(d.buildEnv, words[i])
			}
			for i += 2; i < len(words) && words[i] != "-o"; i++ { // after "go build"
				d.buildArgs = append(d.buildArgs, strings.ReplaceAll(words[i], "${VERSION}", "rootfs-test"))
			}
		case final && strings.HasPrefix(line, "ENV "):
			for _, kv := range shellWords(line[len("ENV "):]) {
				if k, v, ok := strings.Cut(kv, "="); ok {
					d.env[k] = v
				}
			}
		case final && strings.HasPrefix(line, "USER "):
			d.user = strings.TrimSpace(line[len("USER "):])
		case final && strings.HasPrefix(line, "EXPOSE "):
			d.expose = append(d.expose, strings.Fields(line[len("EXPOSE "):])...)
		case final && strings.HasPrefix(line, "VOLUME "):
			d.volumes = append(d.volumes, strings.Fields(line[len("VOLUME "):])...)
		}
	}
	if len(d.buildArgs) == 0 || d.env["FEEDMUX_DB"] == "" || d.user == "" {
		t.Fatalf("could not read the build line, ENV and USER from the Dockerfile: %+v", d)
	}
	return d
}

// shellWords splits a shell command line into words, with double quotes.
func shellWords(s string) []string {
	var words []string
	var b strings.Builder
	quoted, in := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			in = true
		case (r == ' ' || r == '\t') && !quoted:
			if in {
				words = append(words, b.String())
				b.Reset()
				in = false
			}
		default:
			b.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words
}

// TestImage_RootFS builds the binary with the Dockerfile's flags and runs
// it in an empty root holding only what the final image holds, as the
// image's non-root user: it must serve /healthz, pass its own
// healthcheck, and write its database under /data. This checks the image's
// contents without a Docker engine.
func TestImage_RootFS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chroot needs root; run the tests as root (CI does) to check the image's root file system")
	}
	d := readDockerfile(t)
	const uid, gid = 65532, 65532 // distroless "nonroot"
	if d.user != "nonroot:nonroot" {
		t.Fatalf("Dockerfile USER %q, want nonroot:nonroot (uid %d)", d.user, uid)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(root, "usr/local/bin/feedmux")
	build := exec.Command("go", append(append([]string{"build"}, d.buildArgs...), "-o", bin, "./cmd/feedmux")...)
	build.Dir = "../.."
	build.Env = append(os.Environ(), d.buildEnv...)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", d.buildArgs, err, out)
	}

	// What distroless static holds besides the binary: CA certificates,
	// zoneinfo, passwd and group, /tmp; and the image's /data.
	copyFile(t, "/etc/ssl/certs/ca-certificates.crt", filepath.Join(root, "etc/ssl/certs/ca-certificates.crt"))
	copyTree(t, "/usr/share/zoneinfo", filepath.Join(root, "usr/share/zoneinfo"))
	writeFile(t, filepath.Join(root, "etc/passwd"), "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")
	writeFile(t, filepath.Join(root, "etc/group"), "root:x:0:\nnonroot:x:65532:\n")
	for _, dir := range []string{"tmp", "data", "home/nonroot"} {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	if err := os.Chown(filepath.Join(root, "data"), uid, gid); err != nil {
		t.Fatal(err)
	}
	feeds := newFeedServer(t)
	config, err := os.ReadFile(writeConfig(t, feeds.URL))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, strings.TrimPrefix(d.env["FEEDMUX_CONFIG"], "/")), string(config))

	addr := freeAddr(t)
	inImage := func(args ...string) *exec.Cmd {
		cmd := exec.Command("/usr/local/bin/feedmux", args...)
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/local/bin", "HOME=/home/nonroot"}
		for k, v := range d.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, "FEEDMUX_LISTEN="+addr) // a free port instead of :8080
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
		return cmd
	}
	serve := inImage("serve")
	stderr, _ := serve.StderrPipe()
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	logs := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stderr)
		logs <- string(b)
	}()
	defer func() {
		serve.Process.Signal(syscall.SIGTERM)
		serve.Wait()
		if t.Failed() {
			t.Logf("feedmux log:\n%s", <-logs)
		}
	}()
	waitFor(t, "/healthz from the feedmux in the image root", func() bool {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	if out, err := inImage("healthcheck").CombinedOutput(); err != nil {
		t.Errorf("feedmux healthcheck in the image root: %v\n%s", err, out)
	}
	waitFor(t, "items polled from the loopback feeds", func() bool {
		resp, err := http.Get("http://" + addr + "/tags/world.atom")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode == 200 && strings.Count(string(b), "<entry>") > 0
	})
	fi, err := os.Stat(filepath.Join(root, strings.TrimPrefix(d.env["FEEDMUX_DB"], "/")))
	if err != nil {
		t.Fatalf("no database under /data: %v", err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != uid {
		t.Errorf("database owned by uid %d, want the image user %d", st.Uid, uid)
	}
	if out, _ := exec.Command("file", bin).Output(); len(out) > 0 && !regexp.MustCompile(`statically linked|static-pie`).Match(out) {
		t.Errorf("binary is not static: %s", out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatalf("%v (the image holds it; install the ca-certificates and tzdata packages)", err)
	}
	writeFile(t, to, string(data))
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		switch {
		case e.IsDir():
			return os.MkdirAll(dst, 0o755)
		case e.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(target, dst)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copy %s: %v (the image holds it; install tzdata)", from, err)
	}
}
